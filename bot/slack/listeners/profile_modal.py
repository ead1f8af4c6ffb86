"""The profile modal's Save: validate in the ack (errors go back to the modal), then store."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.slack.home import PROFILE_MODAL, save_profile
from bot.slack.listeners.common import deps_of, publish_home, team_of, user_of


def profile_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Store the profile, or show the modal's errors next to their fields."""
    deps = deps_of(context)
    team_id, user_id = team_of(context, body), user_of(context, body)
    values = (view.get("state") or {}).get("values") or {}
    errors = save_profile(
        deps.engine,
        team_id,
        user_id,
        values,
        settings=deps.settings,
        now=deps.clock(),
        executor=deps.executor,
        on_inferred=lambda: publish_home(deps, client, team_id, user_id),
    )
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    publish_home(deps, client, team_id, user_id)


def register(app: App) -> None:
    """Attach the modal's submission."""
    app.view(PROFILE_MODAL)(profile_submitted)
