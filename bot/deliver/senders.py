"""Senders: where a rendered digest goes. Slack (DM or channel) or the console.

Both take the same Block Kit. The Slack sender opens the DM with `conversations.open`, posts with
`chat.postMessage` (tagged with message metadata carrying the ledger key, so a crashed run can
ask Slack whether the message already went out), paces itself (workspace rate, ≈1 msg/s per
channel) and honours 429 Retry-After through a slack_sdk retry handler.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.deliver.pacing import Pacer
from bot.deliver.render import blocks_to_text
from bot.errors import ServiceError
from bot.sanitize import strip_control
from bot.web import metrics

log = structlog.get_logger(__name__)

METADATA_EVENT = "matchmaker_digest"
# Pace a little under the allowed rate: network jitter bunches requests, and one 429 costs
# every sender a whole Retry-After second.
RATE_HEADROOM = 0.95
# Errors about the token or the workspace, not the member (Slack's docs: "Authentication token
# is for a deleted user or workspace", "…the app has been removed", …). Every other row would
# fail the same way: the run stops at once, the row keeps its attempt, and all stay pending.
TOKEN_ERRORS = frozenset(
    {
        "not_authed",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "team_access_not_granted",
        "org_login_required",
        "ekm_access_denied",
        "two_factor_setup_required",
        "missing_scope",
        "not_allowed_token_type",
        "accesslimited",
    }
)
# Errors that will not go away by retrying: record them on the ledger row and skip the member.
PERMANENT_ERRORS = frozenset(
    {
        "user_not_found",
        "cannot_dm_bot",
        "user_disabled",
        "channel_not_found",
        "is_archived",
        "invalid_users",
        "restricted_action",
        "messages_tab_disabled",
    }
)
# The bot was not invited into the community channel: an admin can fix it (/invite), so the
# post stays pending for the next tick, with an error log saying what to do.
NOT_IN_CHANNEL = "not_in_channel"


class SendError(ServiceError):
    """A send failed. `permanent` errors skip the member; others are retried later."""

    def __init__(self, reason: str, *, permanent: bool = False, ambiguous: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.ambiguous = ambiguous  # the request may have reached Slack (connection lost)


class TokenError(SendError):
    """The token or workspace is unusable (revoked, expired, app removed): stop the whole run."""


class CannotVerify(Exception):
    """The sender cannot tell whether an earlier attempt was delivered."""


@dataclass(frozen=True)
class Sent:
    """Where a message went: its channel and Slack timestamp."""

    channel: str
    ts: str


class Sender(Protocol):
    """What the digest run needs from a destination."""

    name: str

    def send(self, target: str, *, blocks: Sequence[dict[str, Any]], text: str, key: str) -> Sent:
        """Post a message to a user id (DM) or channel id; raise `SendError` on failure."""
        ...

    def find_sent(self, target: str, key: str) -> Sent | None:
        """The message with ledger `key` if it was already posted; `CannotVerify` if unknown."""
        ...


# --------------------------------------------------------------------------------------------
# Slack


class PacedRateLimitHandler(RetryHandler):
    """On HTTP 429: pause every sender for Retry-After seconds, then retry (bounded)."""

    def __init__(self, pacer: Pacer, max_retry_count: int = 10) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.pacer = pacer
        self.rate_limited = 0

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code == 429

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        self.rate_limited += 1
        metrics.record_slack_429(_method_of(request))
        self.pacer.slow_down()
        self.pacer.pause(retry_after_seconds(response))
        self.pacer.wait_pause()
        state.next_attempt_requested = True
        state.increment_current_attempt()


def _method_of(request: HttpRequest) -> str:
    """The Web API method of a request URL ("…/api/chat.postMessage" -> "chat.postMessage")."""
    return request.url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


def retry_after_seconds(response: HttpResponse | None, default: float = 1.0) -> float:
    """The Retry-After header of a 429 in seconds (Slack sends whole seconds)."""
    if response is None:
        return default
    for name, value in response.headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            if not isinstance(raw, str):  # an empty list of values
                return default
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return default
    return default


def _error_code(exc: SlackApiError) -> str:
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    status = getattr(exc.response, "status_code", None)
    return "ratelimited" if status == 429 else f"http_{status}"


@dataclass
class SlackStats:
    """Counters of one sender (for reports and the benchmark)."""

    posted: int = 0
    opened: int = 0
    errors: dict[str, int] = field(default_factory=dict)


class SlackSender:
    """Sends digests with the Slack Web API, paced and 429-aware; thread-safe."""

    name = "slack"

    def __init__(
        self,
        token: str,
        *,
        base_url: str = "https://slack.com/api/",
        rate_per_s: float = 1.0,
        max_rate_limit_retries: int = 10,
        client: WebClient | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.pacer = pacer or Pacer(rate_per_s * RATE_HEADROOM)
        self.rate_limit_handler = PacedRateLimitHandler(self.pacer, max_rate_limit_retries)
        self.client = client or WebClient(token=token, base_url=base_url, timeout=30)
        # No connection-error retries: re-posting after a lost response could send twice. The
        # digest run resolves such a message later with `find_sent`.
        self.client.retry_handlers = [self.rate_limit_handler]
        self.stats = SlackStats()
        self._channels: dict[str, str] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any) -> SlackSender:
        """A sender for the configured workspace (needs SLACK_BOT_TOKEN)."""
        if settings.slack_bot_token is None:
            raise ValueError("SLACK_BOT_TOKEN is not set")
        return cls(
            settings.slack_bot_token.get_secret_value(),
            base_url=settings.slack_api_url,
            rate_per_s=settings.digest.workspace_rate_per_s,
        )

    def _call(self, method: Callable[..., Any], *, ambiguous: bool = False, **kwargs: Any) -> Any:
        try:
            return method(**kwargs)
        except SlackApiError as exc:
            code = _error_code(exc)
            with self._lock:
                self.stats.errors[code] = self.stats.errors.get(code, 0) + 1
            if code == NOT_IN_CHANNEL:
                log.error(
                    "slack.not_in_channel",
                    channel=kwargs.get("channel"),
                    fix="invite the bot: type `/invite @matchmaker` in that channel",
                )
            elif code == "missing_scope":
                needed = getattr(exc.response, "data", {}).get("needed")
                log.error("slack.missing_scope", needed=needed, fix="reinstall the app")
            if code in TOKEN_ERRORS:
                metrics.record_slack_token_error(code)
                raise TokenError(code) from None
            raise SendError(code, permanent=code in PERMANENT_ERRORS) from None
        except OSError as exc:  # refused, reset, timed out: did Slack get it? unknown
            raise SendError(f"network: {type(exc).__name__}", ambiguous=ambiguous) from None

    def remember_channels(self, channels: dict[str, str]) -> None:
        """DM channel ids known from earlier digests (user id -> D…): no conversations.open
        for them (a Tier 3 method, ~50 calls/min)."""
        with self._lock:
            self._channels.update(channels)

    def channel_for(self, target: str) -> str:
        """The channel to post into: a user id (U…/W…) becomes its DM channel."""
        if not target.startswith(("U", "W")):
            return target
        with self._lock:
            cached = self._channels.get(target)
        if cached:
            return cached
        response = self._call(self.client.conversations_open, users=target)
        channel = str(response["channel"]["id"])
        with self._lock:
            self._channels[target] = channel
            self.stats.opened += 1
        return channel

    def send(self, target: str, *, blocks: Sequence[dict[str, Any]], text: str, key: str) -> Sent:
        """Open the DM if needed, wait for a slot, post; `SendError` on failure."""
        channel = self.channel_for(target)
        self.pacer.wait(channel)
        response = self._call(
            self.client.chat_postMessage,
            ambiguous=True,
            channel=channel,
            blocks=list(blocks),
            text=text,
            unfurl_links=False,
            unfurl_media=False,
            metadata={"event_type": METADATA_EVENT, "event_payload": {"key": key}},
        )
        with self._lock:
            self.stats.posted += 1
        metrics.record_slack_token_ok()
        self.pacer.succeeded()
        return Sent(channel=str(response.get("channel") or channel), ts=str(response["ts"]))

    def find_sent(self, target: str, key: str) -> Sent | None:
        """Look for our message with ledger `key` among the channel's latest messages."""
        try:
            channel = self.channel_for(target)
            response = self._call(
                self.client.conversations_history,
                channel=channel,
                limit=50,
                include_all_metadata=True,
            )
        except TokenError:
            raise
        except SendError as exc:
            raise CannotVerify(exc.reason) from None
        for message in response.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_EVENT and payload.get("key") == key:
                return Sent(channel=channel, ts=str(message.get("ts")))
        return None


# --------------------------------------------------------------------------------------------
# Console


class ConsoleSender:
    """Prints each message as readable text (no Slack token, or `digest --dry-run`)."""

    name = "console"

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out if out is not None else sys.stdout
        self.sent: list[tuple[str, str, str]] = []  # (target, key, text)
        self._lock = threading.Lock()

    def send(self, target: str, *, blocks: Sequence[dict[str, Any]], text: str, key: str) -> Sent:
        """Print the message under a line naming its recipient."""
        rendered = blocks_to_text(blocks) or strip_control(text)
        with self._lock:
            print(f"\n── to {strip_control(target)} ──\n{rendered}", file=self.out, flush=True)
            self.sent.append((target, key, rendered))
            return Sent(channel=target, ts=f"console-{len(self.sent)}")

    def find_sent(self, target: str, key: str) -> Sent | None:
        """The console keeps no history across processes; printing again is harmless."""
        with self._lock:
            for index, (sent_target, sent_key, _) in enumerate(self.sent, start=1):
                if sent_target == target and sent_key == key:
                    return Sent(channel=target, ts=f"console-{index}")
        return None
