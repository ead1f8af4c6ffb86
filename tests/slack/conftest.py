"""Fixtures for Slack tests: the fake Slack, the app in HTTP mode behind a real HTTP server,
and a client that talks to it like Slack does (signed requests)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from bot.config.settings import Settings, load_settings
from bot.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from bot.fakes.slack.client import SlackLike, start_app
from bot.slack import admin


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A running fake Slack workspace."""
    fake = FakeSlack()
    fake.start()
    admin.clear_cache()
    yield fake
    fake.stop()


@pytest.fixture
def http_settings(fake_slack: FakeSlack) -> Settings:
    """HTTP-mode settings pointing at the fake Slack."""
    return load_settings(
        slack_mode="http",
        slack_signing_secret=SIGNING_SECRET,
        slack_bot_token=BOT_TOKEN,
        slack_api_url=fake_slack.base_url,
        github_api_url="http://127.0.0.1:9",  # closed port: no test reaches the real GitHub
    )


@pytest.fixture
def slack(http_settings: Settings, engine: Engine, fake_slack: FakeSlack) -> Iterator[SlackLike]:
    """The app over real HTTP in HTTP mode (real recommender), and a Slack-like client."""
    server, slack_like = start_app(http_settings, engine, fake_slack)
    yield slack_like
    slack_like.close()
    server.stop()
