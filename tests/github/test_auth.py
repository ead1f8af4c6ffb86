"""GitHub App auth: the crawl mints an installation token with PyGithub and crawls with it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.engine import Engine

from bot.config import load_settings
from bot.fakes.github import FakeGitHub
from bot.github.auth import crawl_token
from bot.github.crawl import crawl
from tests.github.conftest import add_to_catalog
from tests.github.test_crawl_graphql import NOW, SQLITE_ONLY, build_world, issues_of


def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(build_world(), token="only-the-app-token-works") as server:
        yield server


def app_settings(fake: FakeGitHub, **extra: object):
    values = {
        "github_api_url": fake.base_url,
        "GITHUB_APP_PRIVATE_KEY": private_key_pem(),
        "github_app_id": 4242,
        "github_app_installation_id": 77,
        **extra,
    }
    return load_settings(**values)


@SQLITE_ONLY
def test_crawl_with_a_github_app_installation_token(engine: Engine, fake: FakeGitHub) -> None:
    add_to_catalog(engine, "acme/db")
    report = crawl(engine, app_settings(fake), now=NOW)
    assert report.mode == "graphql" and report.status == "ok"
    assert fake.stats.by_path["POST /app/installations/77/access_tokens"] == 1
    assert list(fake.issued_tokens.values()) == [77]
    assert len(issues_of(engine, "acme/db")) == 10


def test_personal_token_wins_and_no_credentials_means_rest(fake: FakeGitHub) -> None:
    assert crawl_token(app_settings(fake, GITHUB_TOKEN="pat")) == "pat"
    assert crawl_token(load_settings(github_api_url=fake.base_url)) is None


@SQLITE_ONLY
def test_a_rejected_app_key_fails_the_run_with_a_clear_reason(
    engine: Engine, fake: FakeGitHub
) -> None:
    add_to_catalog(engine, "acme/db")
    settings = app_settings(fake, github_api_url=fake.base_url + "/nowhere")
    report = crawl(engine, settings, now=NOW)
    assert report.status == "failed" and "GitHub App token request failed" in report.stopped
