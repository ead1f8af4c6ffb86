"""Fixtures for the ops tests: the fake GitHub and Slack servers with recognisable tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opshelp import GITHUB_TOKEN, SLACK_APP_TOKEN, SLACK_BOT_TOKEN


@pytest.fixture
def fake_github() -> Iterator[str]:
    """The project's fake GitHub (demo world), accepting only GITHUB_TOKEN; yields its URL."""
    server_mod = pytest.importorskip("bot.fakes.github.server")
    world_mod = pytest.importorskip("bot.fakes.github.world")
    fake = server_mod.FakeGitHub(world_mod.demo_world(), token=GITHUB_TOKEN)
    try:
        yield fake.start()
    finally:
        fake.stop()


@pytest.fixture
def fake_slack() -> Iterator[object]:
    """The project's fake Slack Web API, knowing SLACK_BOT_TOKEN and SLACK_APP_TOKEN."""
    server_mod = pytest.importorskip("bot.fakes.slack.server")
    fake = server_mod.FakeSlack(bot_token=SLACK_BOT_TOKEN, app_token=SLACK_APP_TOKEN)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
