"""The buttons of a pick card (Interested, Not for me, Already taken, …): record the click
(Not for me / Already taken end the clicker's hold), hold the issue after Interested when GitHub
still shows it free, then update the card where it was shown ("held for you until …"), and
follow up (a mentor offer, GitHub's confirmation)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.availability import reason_text
from bot.core.vocabulary import FeedbackKind
from bot.deliver.taken import confirm_report, limit_message
from bot.slack.actions import FEEDBACK_KIND, parse_issue_id, record_feedback, rerender
from bot.slack.blocks import PICK_ACTIONS, CardNote, mark_pick, sibling_ids
from bot.slack.holds import hold_after_interest
from bot.slack.listeners.common import Deps, deps_of, just_ack, publish_home, team_of, user_of
from bot.slack.people import after_interest

log = structlog.get_logger(__name__)


def pick_clicked(
    body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    """Record a pick-card click and show its new state."""
    deps = deps_of(context)
    action = (body.get("actions") or [{}])[0]
    action_id = action.get("action_id")
    issue_id = parse_issue_id(action.get("value"))
    if action_id not in FEEDBACK_KIND or issue_id is None:
        return
    team_id, user_id = team_of(context, body), user_of(context, body)
    now = deps.clock()
    click = record_feedback(
        deps.engine, deps.settings, team_id, user_id, issue_id, action_id, now=now
    )
    if click is None:
        respond(text="That issue is gone from my list.", replace_original=False)
        return
    if click.limited:
        respond(text=limit_message(deps.settings), replace_original=False)
        return
    kind = FEEDBACK_KIND[action_id]
    note = None
    if kind == FeedbackKind.INTERESTED:  # re-check on GitHub; hold it for them if still free
        note = hold_after_interest(
            deps.engine, deps.settings, click.member_id, issue_id, now, deps.issue_checker
        )
    try:
        _update_card(
            deps, body, client, respond, (team_id, user_id), issue_id, click.state, now, note
        )
    except SlackApiError as exc:
        log.warning("updating a pick card failed", error=exc.response.get("error"))
    if kind == FeedbackKind.INTERESTED:  # a mentor for this repo?
        after_interest(deps.engine, deps.settings, client, team_id, click.member_id, issue_id, now)
    if kind == FeedbackKind.ALREADY_TAKEN:  # after the card: GitHub may be slow
        confirmed = confirm_report(
            deps.engine, deps.settings, click.member_id, issue_id, now, deps.issue_checker
        )
        if confirmed is not None:
            respond(
                text=f"Thanks, GitHub confirms it: {reason_text(confirmed)}. "
                "Nobody will get it now.",
                replace_original=False,
            )


def _update_card(
    deps: Deps,
    body: dict[str, Any],
    client: WebClient,
    respond: Respond,
    who: tuple[str, str],
    issue_id: int,
    state: str,
    now: datetime,
    note: CardNote | None = None,
) -> None:
    """Show the click where the card is: Home tab, shared channel, DM or ephemeral reply;
    `note` (what the hold attempt did) replaces the card's Interested note."""
    notes = {issue_id: note} if note is not None else {}
    container = body.get("container") or {}
    message = body.get("message")
    team_id, user_id = who
    if container.get("type") == "view":
        publish_home(deps, client, team_id, user_id)
    elif message and not str(container.get("channel_id", "")).startswith("D"):
        # a post in a shared channel: everyone sees it, so answer only the clicker
        text, blocks = rerender(
            deps.engine, team_id, user_id, [issue_id], now=now, extra_notes=notes
        )
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
    elif message and container.get("channel_id") and container.get("message_ts"):
        client.chat_update(
            channel=container["channel_id"],
            ts=container["message_ts"],
            text=message.get("text") or "Your picks",
            blocks=mark_pick(message.get("blocks") or [], issue_id, state, note),
        )
    else:  # ephemeral: Slack doesn't send its blocks back, rebuild them
        action = (body.get("actions") or [{}])[0]
        ids = sibling_ids(str(action.get("block_id", ""))) or [issue_id]
        text, blocks = rerender(deps.engine, team_id, user_id, ids, now=now, extra_notes=notes)
        respond(text=text, blocks=blocks, replace_original=True)


def register(app: App) -> None:
    """Attach every pick-card button."""
    for action_id in PICK_ACTIONS:
        app.action(action_id)(ack=just_ack, lazy=[pick_clicked])
