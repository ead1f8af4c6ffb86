"""The buttons of the halfway "still on it?" DM of a claim hold: Keep (a new full period,
bounded) and Release. The message is replaced by what happened; App Home is refreshed."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient

from bot.core.vocabulary import HOLD_BUTTONS
from bot.slack.holds import handle_hold_click
from bot.slack.listeners.common import deps_of, just_ack, publish_home, team_of, user_of
from bot.slack.listeners.people_buttons import clicked_value


def hold_clicked(
    body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    """Keep or release the hold named by the button, then say what happened."""
    deps = deps_of(context)
    action_id, hold_id = clicked_value(body)
    team_id, user_id = team_of(context, body), user_of(context, body)
    if hold_id is None or not team_id or not user_id:
        return
    note = handle_hold_click(
        deps.engine, deps.settings, team_id, user_id, action_id, hold_id, deps.clock()
    )
    respond(text=note, replace_original=True)
    publish_home(deps, client, team_id, user_id)


def register(app: App) -> None:
    """Attach Keep and Release."""
    for button in HOLD_BUTTONS:
        app.action(button.action_id)(ack=just_ack, lazy=[hold_clicked])
