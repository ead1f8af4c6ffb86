"""The Home tab's "Get picks now" button: compute picks, then show them on the Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack.handlers import Reply
from bot.slack.home import ACTION_HOME_PICKS
from bot.slack.listeners.common import deps_of, just_ack, publish_home, team_of, user_of
from bot.slack.picks_queue import PicksRequest


def home_picks(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Queue a picks request; the Home tab is published when it is answered."""
    deps = deps_of(context)
    team_id, user_id = team_of(context, body), user_of(context, body)

    def done(reply: Reply) -> None:
        publish_home(deps, client, team_id, user_id)

    deps.picks.submit(PicksRequest(team_id, user_id, deps.settings.digest.picks, done))


def register(app: App) -> None:
    """Attach the button."""
    app.action(ACTION_HOME_PICKS)(ack=just_ack, lazy=[home_picks])
