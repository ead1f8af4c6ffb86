"""Who may run admin sub-commands: workspace admins/owners, or members of a configured group."""

from __future__ import annotations

import time
from threading import Lock

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

_CACHE_SECONDS = 60.0  # a demoted admin loses admin rights within a minute
_cache: dict[tuple[str, str], tuple[float, bool]] = {}
_lock = Lock()


def is_admin(client: WebClient, user_id: str, *, admin_group: str = "", team_id: str = "") -> bool:
    """True for workspace admins/owners (users.info) or members of `admin_group`.

    Results are cached for one minute; any Slack error means "not an admin".
    """
    key = (team_id, user_id)
    now = time.monotonic()
    with _lock:
        cached = _cache.get(key)
    if cached and now - cached[0] < _CACHE_SECONDS:
        return cached[1]
    allowed = False
    try:
        user = client.users_info(user=user_id).get("user") or {}
        allowed = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        if not allowed and admin_group:
            members = client.usergroups_users_list(usergroup=admin_group).get("users") or []
            allowed = user_id in members
    except SlackApiError:
        allowed = False
    with _lock:
        _cache[key] = (now, allowed)
    return allowed


def clear_cache() -> None:
    """Forget cached answers (tests, or after a role change)."""
    with _lock:
        _cache.clear()
