"""Fixtures for Slack tests: the fake Slack, the app in HTTP mode behind a real HTTP server,
and a client that talks to it like Slack does (signed requests)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.config.settings import Settings, load_settings
from bot.fakes.slack import BOT_TOKEN, FakeSlack
from bot.fakes.slack import signing as s
from bot.slack import admin
from bot.slack.app import build_app
from bot.slack.http import SlackHTTPServer

sys.path.insert(0, str(Path(__file__).parent))  # for slack_seed

SIGNING_SECRET = "test-signing-secret"
TEAM = "T0001"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A running fake Slack workspace."""
    fake = FakeSlack(team_id=TEAM)
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
    )


class SlackLike:
    """Sends requests to the app the way Slack does, and reads replies from the fake Slack."""

    def __init__(self, url: str, fake: FakeSlack, secret: str = SIGNING_SECRET) -> None:
        self.url = url
        self.fake = fake
        self.secret = secret
        self.http = httpx.Client(timeout=10)

    def post(self, body: str, headers: dict[str, str]) -> httpx.Response:
        return self.http.post(self.url, content=body, headers=headers)

    def command(self, text: str, *, user_id: str = "U0001", team_id: str = TEAM) -> httpx.Response:
        form = s.slash_command_form(
            text, user_id=user_id, team_id=team_id, response_url=self.fake.response_url()
        )
        body, headers = s.signed(self.secret, form=form)
        return self.post(body, headers)

    def reply(self, text: str, **kwargs: Any) -> dict[str, Any]:
        """Run a command and return its ephemeral reply (ack body or response_url post)."""
        before = len(self.fake.calls_for("response_url"))
        response = self.command(text, **kwargs)
        assert response.status_code == 200, response.text
        if response.text:
            return response.json()
        calls = self.fake.wait_for("response_url", before + 1)
        return calls[before].args

    def click(self, payload: dict[str, Any]) -> httpx.Response:
        body, headers = s.signed(self.secret, payload=payload)
        return self.post(body, headers)

    def event(self, event: dict[str, Any]) -> httpx.Response:
        body, headers = s.signed(self.secret, event=event)
        return self.post(body, headers)

    def close(self) -> None:
        self.http.close()


def start_app(
    settings: Settings, engine: Engine, fake: FakeSlack, **kwargs: Any
) -> tuple[SlackHTTPServer, SlackLike]:
    client = WebClient(token=BOT_TOKEN, base_url=fake.base_url)
    app = build_app(settings, engine, client, **kwargs)
    server = SlackHTTPServer(app, port=0)
    url = server.start()
    return server, SlackLike(url, fake)


@pytest.fixture
def slack(http_settings: Settings, engine: Engine, fake_slack: FakeSlack) -> Iterator[SlackLike]:
    """The app over real HTTP in HTTP mode (real recommender), and a Slack-like client."""
    server, client = start_app(http_settings, engine, fake_slack)
    yield client
    client.close()
    server.stop()
