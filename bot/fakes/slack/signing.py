"""Build requests the way Slack sends them to an app: signed, form-encoded or JSON payloads.

Used by tests and benchmarks to talk to the app's HTTP endpoint like Slack does.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier


def new_trigger_id() -> str:
    """A fresh trigger id: Slack gives every request its own (so no two bodies are equal)."""
    return f"{int(time.time())}.42.{secrets.token_hex(8)}"


def signed_headers(
    signing_secret: str, body: str, *, timestamp: int | None = None, content_type: str
) -> dict[str, str]:
    """Headers Slack adds to each request: v0 HMAC-SHA256 signature over `v0:ts:body`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=ts, body=body)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or "",
    }


def slash_command_form(
    text: str,
    *,
    user_id: str = "U0001",
    team_id: str = "T0001",
    channel_id: str = "D0001",
    response_url: str = "https://hooks.slack.invalid/commands/1",
    trigger_id: str | None = None,
    command: str = "/matchmaker",
    user_name: str = "member",
) -> dict[str, str]:
    """The form fields of a slash-command invocation."""
    return {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "team_domain": "community",
        "channel_id": channel_id,
        "channel_name": "directmessage",
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": "A0MATCH",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or new_trigger_id(),
    }


def block_action_payload(
    action_id: str,
    value: str,
    *,
    user_id: str = "U0001",
    team_id: str = "T0001",
    channel_id: str = "D0001",
    message_ts: str | None = "1700000000.000100",
    message_blocks: list[dict[str, Any]] | None = None,
    response_url: str = "https://hooks.slack.invalid/actions/1",
    is_ephemeral: bool = False,
    block_id: str = "b",
    view: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An interactivity payload for one button click (in a message, or in a view)."""
    action = {
        "type": "button",
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "action_ts": f"{time.time():.6f}",
        "text": {"type": "plain_text", "text": action_id},
    }
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": "member", "team_id": team_id},
        "api_app_id": "A0MATCH",
        "token": "deprecated-verification-token",
        "team": {"id": team_id, "domain": "community"},
        "trigger_id": new_trigger_id(),
        "actions": [action],
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id", "V0001")}
        payload["view"] = view
        return payload
    payload["channel"] = {"id": channel_id, "name": "directmessage"}
    payload["response_url"] = response_url
    payload["container"] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel_id,
        "is_ephemeral": is_ephemeral,
    }
    if not is_ephemeral:
        payload["message"] = {
            "type": "message",
            "ts": message_ts,
            "text": "picks",
            "blocks": message_blocks or [],
        }
    return payload


def view_submission_payload(
    callback_id: str,
    values: dict[str, dict[str, Any]],
    *,
    user_id: str = "U0001",
    team_id: str = "T0001",
    private_metadata: str = "",
) -> dict[str, Any]:
    """An interactivity payload for a modal submission."""
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "community"},
        "user": {"id": user_id, "username": "member", "team_id": team_id},
        "api_app_id": "A0MATCH",
        "token": "deprecated-verification-token",
        "trigger_id": new_trigger_id(),
        "view": {
            "id": "V0MODAL",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
        },
    }


def app_home_opened_event(*, user_id: str = "U0001", team_id: str = "T0001") -> dict[str, Any]:
    """An Events API envelope for `app_home_opened` (Home tab)."""
    return {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "api_app_id": "A0MATCH",
        "type": "event_callback",
        "event_id": f"Ev{int(time.time() * 1e6)}",
        "event_time": int(time.time()),
        "authorizations": [
            {"team_id": team_id, "user_id": "UBOT", "is_bot": True, "is_enterprise_install": False}
        ],
        "event": {
            "type": "app_home_opened",
            "user": user_id,
            "channel": "D0001",
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        },
    }


def form_body(fields: dict[str, str]) -> str:
    """URL-encoded form body."""
    return urlencode(fields)


def interactivity_body(payload: dict[str, Any]) -> str:
    """Interactivity is sent as a form with one `payload` field holding JSON."""
    return urlencode({"payload": json.dumps(payload)})


def signed(
    signing_secret: str,
    *,
    form: dict[str, str] | None = None,
    payload: dict[str, Any] | None = None,
    event: dict[str, Any] | None = None,
    timestamp: int | None = None,
) -> tuple[str, dict[str, str]]:
    """A (body, headers) pair for a slash command (`form`), click (`payload`) or `event`."""
    if form is not None:
        body, ctype = form_body(form), "application/x-www-form-urlencoded"
    elif payload is not None:
        body, ctype = interactivity_body(payload), "application/x-www-form-urlencoded"
    elif event is not None:
        body, ctype = json.dumps(event), "application/json"
    else:
        raise ValueError("give form, payload or event")
    return body, signed_headers(signing_secret, body, timestamp=timestamp, content_type=ctype)
