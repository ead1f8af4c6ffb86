"""`matchmaker crawl`: progress, summary table, one repo, dry run, clear errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from bot.cli.app import app
from bot.fakes.github import FakeGitHub
from bot.store.db import make_engine
from tests.github.conftest import add_to_catalog
from tests.github.test_crawl_graphql import REPOS, SQLITE_ONLY, build_world, issues_of

runner = CliRunner()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with FakeGitHub(build_world()) as server:
        monkeypatch.setenv("MATCHMAKER_GITHUB_API_URL", server.base_url)
        yield server


@pytest.fixture
def listed(cli_db: str) -> Iterator[Engine]:
    engine = make_engine(cli_db)
    add_to_catalog(engine, *REPOS)
    yield engine
    engine.dispose()


def test_crawl_prints_a_summary_and_stores_issues(
    listed: Engine, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")
    result = runner.invoke(app, ["crawl"])
    assert result.exit_code == 0, result.output
    assert "Crawl summary" in result.output and "graphql" in result.output
    assert "test-token" not in result.output
    assert len(issues_of(listed, "acme/db")) == 10


@SQLITE_ONLY
def test_crawl_one_repo_dry_run(
    listed: Engine, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")
    result = runner.invoke(app, ["crawl", "--repo", "acme/kinds", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output
    assert issues_of(listed, "acme/kinds") == {}


@SQLITE_ONLY
def test_without_token_it_says_it_uses_slow_search(
    listed: Engine, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.anonymous_limits.update(core=5000, search=5000)
    monkeypatch.setenv("MATCHMAKER_GITHUB__SEARCH_PER_MINUTE", "60000")
    result = runner.invoke(app, ["crawl", "--repo", "acme/kinds"])
    assert result.exit_code == 0, result.output
    assert "No GITHUB_TOKEN" in result.output and "rest" in result.output


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("repo", "message"),
    [("not-a-repo", "owner/name"), ("acme/unknown", "not in the catalog")],
)
def test_bad_repo_is_one_clear_line(
    listed: Engine, fake: FakeGitHub, repo: str, message: str
) -> None:
    result = runner.invoke(app, ["crawl", "--repo", repo])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=30).filter(lambda t: t.count("/") != 1 or not all(t.split("/"))))
def test_any_malformed_repo_is_rejected_without_a_traceback(text: str) -> None:
    result = runner.invoke(app, ["crawl", "--repo", text])
    assert result.exit_code in (1, 2)  # 2: typer refuses e.g. an option-looking value
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
