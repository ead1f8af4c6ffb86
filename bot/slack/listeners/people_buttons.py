"""The buttons of people messages: mentor offers and invitations, the #intros offer and the
follow-up answers. The click is recorded, the message says what happened, and whatever it
queued (an intro, a group DM) is delivered right away."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient

from bot.slack.listeners.common import deps_of, just_ack, team_of, user_of
from bot.slack.people import BUTTON_ACTION_IDS, deliver_now, handle_click

MAX_ID_DIGITS = 18  # values are database ids; longer digit strings are not ours


def clicked_value(body: dict[str, Any]) -> tuple[str, int | None]:
    """The clicked button's action id and its numeric value (None if it has none)."""
    action = (body.get("actions") or [{}])[0]
    text = str(action.get("value") or "")
    value = int(text) if text.isdigit() and len(text) <= MAX_ID_DIGITS else None
    return str(action.get("action_id") or ""), value


def people_clicked(
    body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    """Record the click, replace the message with its outcome, deliver what it queued."""
    deps = deps_of(context)
    action_id, value = clicked_value(body)
    team_id, user_id = team_of(context, body), user_of(context, body)
    if value is None or not team_id or not user_id:
        return
    now = deps.clock()
    note = handle_click(deps.engine, deps.settings, team_id, user_id, action_id, value, now)
    respond(text=note, replace_original=True)
    deliver_now(deps.engine, deps.settings, client, team_id, now)


def register(app: App) -> None:
    """Attach every people button."""
    for action_id in BUTTON_ACTION_IDS:
        app.action(action_id)(ack=just_ack, lazy=[people_clicked])
