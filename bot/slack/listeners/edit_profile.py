"""The Home tab's "Edit profile" button: open the profile modal."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.home import ACTION_EDIT_PROFILE, profile_modal
from bot.slack.listeners.common import deps_of, team_of, user_of

log = structlog.get_logger(__name__)


def edit_profile(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Ack, then open the modal pre-filled with the stored profile."""
    ack()
    # trigger_id expires after 3 s: open the modal right away, not lazily
    view = profile_modal(deps_of(context).engine, team_of(context, body), user_of(context, body))
    try:
        client.views_open(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as exc:
        log.warning("views.open failed", error=exc.response.get("error"))


def register(app: App) -> None:
    """Attach the button."""
    app.action(ACTION_EDIT_PROFILE)(edit_profile)
