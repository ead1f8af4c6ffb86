"""Bolt middleware: every request runs in exactly one known workspace.

A request without a team id is refused (it would create members with no workspace, or match
another workspace's installation); so is one whose team differs from the workspace the token
was authorised for (single-workspace mode: the bot token's own team).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import BoltContext, BoltResponse

log = logging.getLogger(__name__)


def require_workspace(
    context: BoltContext, next: Callable[[], BoltResponse]
) -> BoltResponse | None:
    """Call the listeners only when the request's workspace is known and authorised."""
    team_id = context.team_id or ""
    if not team_id:
        log.info("refused a Slack request without a workspace (team id)")
        return BoltResponse(status=400, body="This request names no workspace.")
    authorized = context.authorize_result.team_id if context.authorize_result else None
    if authorized and authorized != team_id:
        log.info("refused a Slack request for workspace %s with %s's token", team_id, authorized)
        return BoltResponse(status=403, body="This app is not installed in that workspace.")
    return next()
