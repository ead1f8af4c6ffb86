"""Which bot-token scopes each Web API method needs (Slack's method reference), and the scopes
an installed Matchmaker holds: the ones its manifest (config/slack-manifest.yaml) requests.

Methods whose scope depends on the conversation (conversations.history, conversations.info)
need the scope of that conversation's type: C… public channel, G… private channel or group DM,
D… direct message. conversations.open needs im:write for one user and mpim:write for several
(the group DM it opens). Methods mapped to an empty tuple need no scope.
"""

from __future__ import annotations

from pathlib import Path

import yaml

MANIFEST = Path(__file__).resolve().parents[3] / "config" / "slack-manifest.yaml"

# Method -> scopes, any one of which allows it.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.delete": ("chat:write",),
    "conversations.open": ("im:write", "mpim:write", "channels:manage", "groups:write"),
    "conversations.join": ("channels:join",),
    "users.info": ("users:read",),
    "usergroups.users.list": ("usergroups:read",),
    "views.publish": (),
    "views.open": (),
    "views.update": (),
    "auth.test": (),
}
# Conversation-typed methods: method -> {channel id prefix: scope}.
BY_CONVERSATION: dict[str, dict[str, str]] = {
    "conversations.history": {"C": "channels:history", "G": "groups:history", "D": "im:history"},
    "conversations.info": {"C": "channels:read", "G": "groups:read", "D": "im:read"},
}


def manifest_scopes(path: Path = MANIFEST) -> list[str]:
    """The bot scopes the app manifest requests (what an install grants)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(data["oauth_config"]["scopes"]["bot"])


def _open_scopes(args: dict[str, object]) -> tuple[str, ...]:
    users = args.get("users")
    names = users if isinstance(users, list) else str(users or "").split(",")
    count = len([name for name in names if name])
    if count == 1:
        return ("im:write",)
    if count > 1:
        return ("mpim:write",)
    return METHOD_SCOPES["conversations.open"]


def needed_scopes(method: str, args: dict[str, object]) -> tuple[str, ...] | None:
    """Scopes that allow `method` with these arguments; None: a method this table lacks."""
    if method == "conversations.open":
        return _open_scopes(args)
    if method in BY_CONVERSATION:
        channel = str(args.get("channel", ""))
        table = BY_CONVERSATION[method]
        scope = table.get(channel[:1])
        return (scope,) if scope else tuple(table.values())
    return METHOD_SCOPES.get(method)


def all_methods() -> set[str]:
    return set(METHOD_SCOPES) | set(BY_CONVERSATION)
