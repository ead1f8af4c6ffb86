"""`app_home_opened`: publish the member's Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack.listeners.common import deps_of, just_ack, publish_home, team_of


def home_opened(
    event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Publish the Home tab when it (not the Messages tab) is opened."""
    if event.get("tab", "home") != "home":
        return
    publish_home(deps_of(context), client, team_of(context, body), str(event.get("user", "")))


def register(app: App) -> None:
    """Attach the App Home event."""
    app.event("app_home_opened")(ack=just_ack, lazy=[home_opened])
