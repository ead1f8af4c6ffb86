"""A fake Slack (Web API, response URLs, Socket Mode) on 127.0.0.1 and Slack-like requests."""

from bot.fakes.slack.server import (
    APP_TOKEN,
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM_ID,
    Call,
    FakeSlack,
)

__all__ = ["APP_TOKEN", "BOT_TOKEN", "SIGNING_SECRET", "TEAM_ID", "Call", "FakeSlack"]
