"""The two buttons under `/matchmaker forget`: delete everything, or keep it."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient

from bot.slack.handlers import ACTION_FORGET_CANCEL, ACTION_FORGET_CONFIRM, forget
from bot.slack.listeners.common import deps_of, just_ack, publish_home, team_of, user_of


def forget_confirmed(
    body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    """Delete the member's data and say so in place of the question."""
    deps = deps_of(context)
    team_id, user_id = team_of(context, body), user_of(context, body)
    reply = forget(deps.engine, team_id, user_id)
    respond(text=reply.text, replace_original=True)
    publish_home(deps, client, team_id, user_id)


def forget_cancelled(respond: Respond) -> None:
    """Keep everything."""
    respond(text="OK, nothing was deleted.", replace_original=True)


def register(app: App) -> None:
    """Attach the confirm and cancel buttons."""
    app.action(ACTION_FORGET_CONFIRM)(ack=just_ack, lazy=[forget_confirmed])
    app.action(ACTION_FORGET_CANCEL)(ack=just_ack, lazy=[forget_cancelled])
