"""The checks a Slack request passes before Bolt sees it: signature, freshness, replays.

`SlackGate.admit(body, headers, now)` runs on the raw bytes, before anything is parsed:

1. `X-Slack-Request-Timestamp` must be an integer within 5 minutes of `now`, and
   `X-Slack-Signature` must match the signing secret (slack_sdk's `SignatureVerifier`) → else 401.
2. Each accepted signature is remembered (`ReplayGuard`, shared by replicas): the same signed
   request sent again within the window → 401.
3. Events API deliveries are remembered by `event_id`: Slack's retries (`X-Slack-Retry-Num`) and
   duplicate deliveries of an event already handled are answered 200 without running anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from slack_sdk.signature import SignatureVerifier

from bot.slack.replay import WINDOW, ReplayGuard

MAX_TIMESTAMP_DIGITS = 12


@dataclass(frozen=True)
class Admission:
    """What to do with a request: dispatch `text` to Bolt, or answer `status` with `reason`."""

    status: int
    reason: str = ""
    text: str = ""

    @property
    def dispatch(self) -> bool:
        """True when the request should reach Bolt."""
        return self.status == 0


class _FixedClock:
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


class SlackGate:
    """Verifies and de-duplicates raw Slack requests (see the module docstring)."""

    def __init__(self, signing_secret: str, replay: ReplayGuard | None) -> None:
        self.signing_secret = signing_secret
        self.replay = replay

    def admit(self, body: bytes, headers: Mapping[str, str], now: float) -> Admission:
        """Decide on one request; `headers` are case-insensitive, `now` is Unix seconds."""
        lower = {k.lower(): v for k, v in headers.items()}
        timestamp = lower.get("x-slack-request-timestamp", "").strip()
        signature = lower.get("x-slack-signature", "").strip()
        if not signature or not _is_timestamp(timestamp):
            return Admission(401, "missing or malformed signature headers")
        if abs(now - int(timestamp)) > WINDOW.total_seconds():
            return Admission(401, "stale timestamp")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return Admission(401, "invalid signature")
        verifier = SignatureVerifier(self.signing_secret, clock=_FixedClock(now))  # type: ignore[arg-type]
        if not verifier.is_valid(text, timestamp, signature):
            return Admission(401, "invalid signature")
        when = datetime.fromtimestamp(now, UTC)
        event_id = _event_id(text, lower.get("content-type", ""))
        if event_id is None:
            return Admission(400, "body is not valid JSON")
        is_retry = "x-slack-retry-num" in lower
        if self.replay is not None:
            if is_retry and event_id and self.replay.seen(f"event:{event_id}", when):
                return Admission(200, "retry of an event already handled")
            if not self.replay.first_time(f"sig:{signature}", when):
                return Admission(401, "request already received")
            if event_id and not self.replay.first_time(f"event:{event_id}", when):
                return Admission(200, "event already handled")
        return Admission(0, text=text)


def _is_timestamp(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= MAX_TIMESTAMP_DIGITS


def _event_id(text: str, content_type: str) -> str | None:
    """The Events API `event_id` ("" when there is none); None for a JSON body that isn't."""
    if "json" not in content_type.lower():
        return ""
    try:
        payload = json.loads(text)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    return str(payload.get("event_id") or "")
