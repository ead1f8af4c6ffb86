"""An in-process fake of Slack's Web API (and Socket Mode) on 127.0.0.1 for tests and benches.

`FakeSlack().start()` returns a base URL for `WebClient(base_url=…)`. Every call is recorded
(`calls`, `calls_for(method)`); switches inject faults: `fail_next(method, error)` answers
`{"ok": false, "error": …}` (channel_not_found, invalid_auth, user_not_found, …),
`rate_limit_next(method, retry_after)` answers HTTP 429 with `Retry-After`, and the per-channel /
workspace limits of `chat.postMessage` answer 429 like Slack does. Response shapes follow
Slack's OpenAPI spec (see tests/fixtures/slack-api/). `response_url(...)` gives URLs for
slash-command and interactivity replies; they are recorded as method `"response_url"`.
Posted messages keep their `metadata`; `conversations.history` lists a channel's messages newest
first (`limit`, `cursor`; metadata only with `include_all_metadata`), and `posts()` /
`posts_by_channel()` tell what went out.
Scopes: every token holds a set of granted scopes (by default the ones the app manifest
requests) and a method called without its scope is answered like Slack does:
`{"ok": false, "error": "missing_scope", "needed": …, "provided": …}`. Channel membership:
with `joined_channels` set, posting into a public channel the bot is not in answers
`not_in_channel` (unless `chat:write.public` is granted); None means invited everywhere.
Socket Mode: `apps.connections.open` returns a `ws://` URL; `send_envelope()` pushes an envelope
to the connected app and returns its ack.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from bot.fakes.slack.limits import SlidingWindow
from bot.fakes.slack.scopes import manifest_scopes, needed_scopes

TEAM_ID = "T0001"
TEAM_NAME = "Community"
BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
APP_ID = "A0MATCH"
BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
SIGNING_SECRET = "fake-signing-secret"  # what Slack-like requests to the app are signed with

# Methods that post a message into a channel (subject to the channel/workspace limits).
POSTING_METHODS = frozenset({"chat.postMessage"})
# conversations.open: a group DM holds at most 8 users besides the caller ("too_many_users")
MPIM_MAX_USERS = 8


@dataclass
class Call:
    """One recorded request: Web API method (or "response_url"), its arguments, the outcome."""

    method: str
    args: dict[str, Any]
    token: str | None
    status: int
    ok: bool
    error: str | None
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Fault:
    error: str | None = None
    retry_after: int | None = None
    times: int = 1


SHUTDOWN_S = 2.0  # in-flight requests get this long when the fake stops


class FakeSlack:
    """A fake Slack workspace: Web API over HTTP, response URLs, Socket Mode websocket."""

    def __init__(
        self,
        *,
        bot_token: str = BOT_TOKEN,
        app_token: str = APP_TOKEN,
        team_id: str = TEAM_ID,
        admins: set[str] | None = None,
        channel_rate_per_s: float | None = None,
        workspace_rate_per_s: float | None = None,
        latency_s: float = 0.0,
        scopes: list[str] | None = None,
        joined_channels: set[str] | None = None,
    ) -> None:
        self.team_id = team_id
        self.tokens: dict[str, str] = {bot_token: team_id}
        self.granted = list(scopes if scopes is not None else manifest_scopes())
        self.scopes: dict[str, list[str]] = {bot_token: self.granted}  # token -> granted
        self.joined_channels = joined_channels
        self.app_token = app_token
        self.admins: set[str] = set(admins or ())
        self.users: dict[str, dict[str, Any]] = {}
        self.missing_users: set[str] = set()
        self.missing_channels: set[str] = set()  # always channel_not_found
        self.usergroups: dict[str, list[str]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.oauth_codes: dict[str, dict[str, Any]] = {}
        self.latency_s = latency_s
        self.channel_rate_per_s = channel_rate_per_s
        self.workspace_rate_per_s = workspace_rate_per_s
        self.calls: list[Call] = []
        self._faults: dict[str, list[_Fault]] = defaultdict(list)
        self._channel_windows: dict[str, SlidingWindow] = {}
        self._workspace_window: SlidingWindow | None = None
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._changed = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._socket_connected = threading.Event()
        self.port = 0

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1 in a background thread; return the Web API base URL."""
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(port, ready), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake Slack did not start")
        return self.base_url

    @property
    def base_url(self) -> str:
        """Base URL of the Web API (ends with `/api/`, like https://slack.com/api/)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def stop(self) -> None:
        """Stop the server and close websockets."""
        if self._loop is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        future.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)
        self._loop = None

    def __enter__(self) -> FakeSlack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, port: int, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_get("/link/", self._websocket)
        # stop() within its 10 s even when an app thread's request is still in flight (the
        # test is over; aiohttp would wait up to 60 s for the handler)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_S)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        loop.run_until_complete(site.start())
        server = site._server  # the bound socket tells us the port chosen by the OS
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ready.set()
        loop.run_forever()
        loop.close()

    async def _shutdown(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- switches and assertions ---------------------------------------------------------------

    def fail_next(self, method: str, error: str, times: int = 1) -> None:
        """The next `times` calls of `method` answer `{"ok": false, "error": error}`."""
        with self._lock:
            self._faults[method].append(_Fault(error=error, times=times))

    def rate_limit_next(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """The next `times` calls of `method` answer HTTP 429 with `Retry-After`."""
        with self._lock:
            self._faults[method].append(_Fault(retry_after=retry_after, times=times))

    def add_user(self, user_id: str, **fields: Any) -> None:
        """Add or change a user returned by `users.info` (e.g. `is_admin=True`, `tz=…`)."""
        with self._lock:
            self.users[user_id] = {**self.users.get(user_id, {}), **fields}

    def add_oauth_code(self, code: str, *, team_id: str, team_name: str = "Other") -> str:
        """Make `oauth.v2.access` accept `code` for a new workspace; returns its bot token."""
        token = f"xoxb-{team_id.lower()}-{uuid.uuid4().hex[:12]}"
        self.oauth_codes[code] = {"team_id": team_id, "team_name": team_name, "token": token}
        return token

    def calls_for(self, method: str, *, ok_only: bool = False) -> list[Call]:
        """Recorded calls of one method (in order)."""
        with self._lock:
            return [c for c in self.calls if c.method == method and (c.ok or not ok_only)]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until `count` successful calls of `method` were recorded; return them."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self.calls if c.method == method and c.ok]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{method}: {len(found)} of {count} calls after {timeout}s")
                self._changed.wait(left)

    def posts(self) -> list[dict[str, Any]]:
        """Arguments of the messages that went out (one per successful chat.postMessage)."""
        return [c.args for c in self.calls_for("chat.postMessage", ok_only=True)]

    def posts_by_channel(self) -> dict[str, int]:
        """How many messages went out per channel."""
        return dict(Counter(str(args.get("channel", "")) for args in self.posts()))

    def reset_calls(self) -> None:
        """Forget recorded calls (not users, messages or faults)."""
        with self._lock:
            self.calls.clear()

    def response_url(self, key: str | None = None) -> str:
        """A URL the app can post slash-command / interactivity replies to."""
        return f"http://127.0.0.1:{self.port}/response/{key or uuid.uuid4().hex}"

    # -- HTTP handlers -------------------------------------------------------------------------

    async def _read_args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            raw = await request.text()
            if request.content_type == "application/json":
                try:
                    body = json.loads(raw or "{}")
                except ValueError:
                    body = {"__invalid_json__": True}
                if isinstance(body, dict):
                    args.update(body)
            else:
                args.update(dict(parse_qsl(raw, keep_blank_values=True)))
        for key in ("blocks", "view", "users", "attachments", "metadata"):
            value = args.get(key)
            if isinstance(value, str) and value[:1] in "[{":
                with contextlib.suppress(ValueError):
                    args[key] = json.loads(value)
        return args

    @staticmethod
    def _token(request: web.Request, args: dict[str, Any]) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        token = args.pop("token", None)
        return str(token) if token else None

    def _record(
        self, method: str, args: dict[str, Any], token: str | None, status: int, body: dict
    ) -> None:
        with self._changed:
            self.calls.append(
                Call(method, args, token, status, bool(body.get("ok")), body.get("error"))
            )
            self._changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._read_args(request)
        token = self._token(request, args)
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        status, body, headers = self._answer(method, args, token)
        self._record(method, args, token, status, body)
        return web.json_response(body, status=status, headers=headers)

    def _answer(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            fault = self._take_fault(method)
            if fault is not None and fault.retry_after is not None:
                return self._ratelimited(fault.retry_after)
            if fault is not None:
                return 200, {"ok": False, "error": fault.error}, {}
            if method == "oauth.v2.access":
                return 200, self._oauth_access(args), {}
            if method == "apps.connections.open":
                if token != self.app_token:
                    return 200, {"ok": False, "error": "invalid_auth"}, {}
                ticket = uuid.uuid4().hex
                url = f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}"
                return 200, {"ok": True, "url": url}, {}
            if token is None:
                return 200, {"ok": False, "error": "not_authed"}, {}
            team_id = self.tokens.get(token)
            if team_id is None:
                return 200, {"ok": False, "error": "invalid_auth"}, {}
            refused = self._missing_scope(method, args, token)
            if refused is not None:
                return 200, refused, {"x-oauth-scopes": refused["provided"]}
            if method in POSTING_METHODS:
                limited = self._check_rate(str(args.get("channel", "")))
                if limited is not None:
                    return limited
            if method == "chat.postMessage" and self._not_in_channel(
                str(args.get("channel", "")), token
            ):
                return 200, {"ok": False, "error": "not_in_channel"}, {}
            handler = getattr(self, "_m_" + method.replace(".", "_"), None)
            if handler is None:
                return 200, {"ok": False, "error": "unknown_method"}, {}
            return 200, handler(args, team_id), {}

    def _missing_scope(
        self, method: str, args: dict[str, Any], token: str
    ) -> dict[str, Any] | None:
        """Slack's answer when the token lacks every scope that allows `method`."""
        needed = needed_scopes(method, args)
        granted = self.scopes.get(token, self.granted)
        if not needed or any(scope in granted for scope in needed):
            return None
        return {
            "ok": False,
            "error": "missing_scope",
            "needed": ",".join(needed),
            "provided": ",".join(granted),
        }

    def _not_in_channel(self, channel: str, token: str | None) -> bool:
        if self.joined_channels is None or not channel.startswith(("C", "G")):
            return False
        public_ok = channel.startswith("C") and "chat:write.public" in self.scopes.get(
            token or "", self.granted
        )
        return channel not in self.joined_channels and not public_ok

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.pop(0)
        return fault

    @staticmethod
    def _ratelimited(retry_after: int) -> tuple[int, dict[str, Any], dict[str, str]]:
        return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}

    def _check_rate(self, channel: str) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        now = time.monotonic()
        if self.channel_rate_per_s:
            window = self._channel_windows.setdefault(
                channel, SlidingWindow(self.channel_rate_per_s)
            )
            retry = window.try_acquire(now)
            if retry is not None:
                return self._ratelimited(retry)
        if self.workspace_rate_per_s:
            if self._workspace_window is None:
                self._workspace_window = SlidingWindow(self.workspace_rate_per_s)
            retry = self._workspace_window.try_acquire(now)
            if retry is not None:
                return self._ratelimited(retry)
        return None

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.{next(self._ts) % 1_000_000:06d}"

    # -- Web API methods (shapes from Slack's OpenAPI spec) ------------------------------------

    def _message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        message = {
            "type": "message",
            "subtype": "bot_message",
            "text": args.get("text", ""),
            "blocks": args.get("blocks") or [],
            "ts": ts,
            "bot_id": BOT_ID,
            "user": BOT_USER_ID,
        }
        if isinstance(args.get("metadata"), dict):
            message["metadata"] = args["metadata"]
        return message

    @staticmethod
    def _missing_text(args: dict[str, Any]) -> bool:
        return not args.get("text") and not args.get("blocks")

    def _channel_ok(self, channel: str) -> bool:
        """Channel ids (C…, G…, D…) and user ids (U…, W…: the app's DM with that user)."""
        return bool(channel) and channel[0] in "CDGUW" and channel not in self.missing_channels

    def _m_chat_postMessage(self, args: dict[str, Any], team_id: str) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        if not self._channel_ok(channel):
            return {"ok": False, "error": "channel_not_found"}
        if self._missing_text(args):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        message = self._message(args, ts)
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _m_chat_update(self, args: dict[str, Any], team_id: str) -> dict[str, Any]:
        channel, ts = str(args.get("channel", "")), str(args.get("ts", ""))
        if not self._channel_ok(channel):
            return {"ok": False, "error": "channel_not_found"}
        if (channel, ts) not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        message = self._message(args, ts)
        if "metadata" in self.messages[(channel, ts)] and "metadata" not in message:
            message["metadata"] = self.messages[(channel, ts)]["metadata"]
        self.messages[(channel, ts)] = message
        text = message["text"]
        return {"ok": True, "channel": channel, "ts": ts, "text": text, "message": message}

    def _m_conversations_history(self, args: dict[str, Any], team_id: str) -> dict[str, Any]:
        """A channel's messages, newest first, `limit` (default 100) a page from `cursor`."""
        channel = str(args.get("channel", ""))
        if not self._channel_ok(channel):
            return {"ok": False, "error": "channel_not_found"}
        try:
            limit = min(max(int(args.get("limit") or 100), 1), 999)
            start = int(args.get("cursor") or 0)
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        found = sorted(
            (m for (c, _), m in self.messages.items() if c == channel),
            key=lambda m: float(m["ts"]),
            reverse=True,
        )
        page = found[start : start + limit]
        if str(args.get("include_all_metadata", "")).lower() not in ("1", "true"):
            page = [{k: v for k, v in m.items() if k != "metadata"} for m in page]
        has_more = start + limit < len(found)
        return {
            "ok": True,
            "messages": page,
            "has_more": has_more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": str(start + limit) if has_more else ""},
        }

    def _m_chat_postEphemeral(self, args: dict[str, Any], team_id: str) -> dict[str, Any]:
        if not self._channel_ok(str(args.get("channel", ""))):
            return {"ok": False, "error": "channel_not_found"}
        if self._missing_text(args):
            return {"ok": False, "error": "no_text"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _view(self, view: Any, team_id: str) -> dict[str, Any] | None:
        if not isinstance(view, dict) or view.get("type") not in ("home", "modal"):
            return None
        view_id = "V" + uuid.uuid4().hex[:10].upper()
        return {
            "id": view_id,
            "team_id": team_id,
            "type": view["type"],
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "title": view.get("title"),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "clear_on_close": False,
            "notify_on_close": False,
            "external_id": view.get("external_id", ""),
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
        }

    def _m_views_publish(self, args: dict[str, Any], team_id: str) -> dict[str, Any]:
        user_id = str(args.get("user_id", ""))
        if not user_id or user_id in self.missing_users:
            return {"ok": False, "error": "user_not_found"}
        view = self._view(args.get("view"), team_id)
        if view is None or view["type"] != "home":
            return {"ok": False, "error": "invalid_arguments"}
        if len(view["blocks"]) > 100:
            return {"ok": False, "error": "invalid_arguments"}
        self.home_views[user_id] = view
        return {"ok": True, "view": view}

    def _m_views_open(self, args: dict[str, Any], team_id: str) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = self._view(args.get("view"), team_id)
        if view is None or view["type"] != "modal":
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": view}

    def _m_conversations_info(self, args: dict[str, Any], team_id: str) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        if not self._channel_ok(channel) or channel[0] in "UW":
            return {"ok": False, "error": "channel_not_found"}
        member = self.joined_channels is None or channel in self.joined_channels
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "name": channel.lower(),
                "is_channel": channel.startswith("C"),
                "is_private": channel.startswith("G"),
                "is_im": channel.startswith("D"),
                "is_archived": False,
                "is_member": member or channel.startswith("D"),
            },
        }

    def _m_conversations_open(self, args: dict[str, Any], team_id: str) -> dict[str, Any]:
        users = args.get("users")
        if isinstance(users, list):
            users = ",".join(users)
        user_ids = [u for u in str(users or "").split(",") if u]
        if not user_ids:
            return {"ok": False, "error": "users_list_not_supplied"}
        if any(u in self.missing_users for u in user_ids):
            return {"ok": False, "error": "user_not_found"}
        if len(user_ids) == 1:
            return {"ok": True, "channel": {"id": "D" + user_ids[0].lstrip("UW")}}
        if len(user_ids) > MPIM_MAX_USERS:
            return {"ok": False, "error": "too_many_users"}
        # A group DM (mpim): a G… id, the same one for the same people; the bot is a member.
        digest = hashlib.sha1(",".join(sorted(set(user_ids))).encode()).hexdigest()[:10]
        channel = "G" + digest.upper()
        if self.joined_channels is not None:
            self.joined_channels.add(channel)
        return {"ok": True, "channel": {"id": channel, "is_mpim": True}}

    def _user(self, user_id: str, team_id: str) -> dict[str, Any]:
        extra = self.users.get(user_id, {})
        name = extra.get("name", user_id.lower())
        is_admin = bool(extra.get("is_admin", user_id in self.admins))
        return {
            "id": user_id,
            "team_id": team_id,
            "name": name,
            "deleted": False,
            "real_name": extra.get("real_name", name),
            "tz": extra.get("tz", "Europe/Berlin"),
            "tz_label": "Central European Time",
            "tz_offset": 3600,
            "is_admin": is_admin,
            "is_owner": bool(extra.get("is_owner", False)),
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": False,
            "is_app_user": False,
            "has_2fa": False,
            "profile": {
                "display_name": extra.get("display_name", name),
                "display_name_normalized": extra.get("display_name", name),
                "real_name": extra.get("real_name", name),
            },
        }

    def _m_users_info(self, args: dict[str, Any], team_id: str) -> dict[str, Any]:
        user_id = str(args.get("user", ""))
        if not user_id or user_id in self.missing_users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": self._user(user_id, team_id)}

    def _m_auth_test(self, args: dict[str, Any], team_id: str) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://community.slack.invalid/",
            "team": TEAM_NAME,
            "user": "matchmaker",
            "team_id": team_id,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _m_usergroups_users_list(self, args: dict[str, Any], team_id: str) -> dict[str, Any]:
        group = str(args.get("usergroup", ""))
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self.usergroups[group])}

    def _oauth_access(self, args: dict[str, Any]) -> dict[str, Any]:
        grant = self.oauth_codes.pop(str(args.get("code", "")), None)
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        self.tokens[grant["token"]] = grant["team_id"]
        self.scopes[grant["token"]] = self.granted
        return {
            "ok": True,
            "access_token": grant["token"],
            "token_type": "bot",
            "scope": ",".join(self.granted),
            "bot_user_id": BOT_USER_ID,
            "app_id": APP_ID,
            "team": {"id": grant["team_id"], "name": grant["team_name"]},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": "UINSTALLER"},
        }

    # -- response_url --------------------------------------------------------------------------

    async def _response_url(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        args = {"key": request.match_info["key"], **(body if isinstance(body, dict) else {})}
        self._record("response_url", args, None, 200, {"ok": True})
        return web.Response(text="ok")

    # -- Socket Mode ---------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {"host": "fake-slack", "approximate_connection_time": 3600},
                "connection_info": {"app_id": APP_ID},
            }
        )
        self._socket_connected.set()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                future = self._acks.pop(str(data.get("envelope_id", "")), None)
                if future is not None and not future.done():
                    future.set_result(data)
        finally:
            self._sockets.remove(ws)
            if not self._sockets:
                self._socket_connected.clear()
        return ws

    def wait_for_socket(self, timeout: float = 5.0) -> bool:
        """True once an app connected over Socket Mode (and got `hello`)."""
        return self._socket_connected.wait(timeout)

    def send_envelope(
        self, envelope_type: str, payload: dict[str, Any], timeout: float = 5.0
    ) -> dict[str, Any]:
        """Push a Socket Mode envelope (slash_commands, interactive, events_api); return the ack."""
        if self._loop is None:
            raise RuntimeError("fake Slack is not running")
        envelope_id = uuid.uuid4().hex
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": envelope_type != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }

        async def push() -> dict[str, Any]:
            if not self._sockets:
                raise RuntimeError("no Socket Mode connection")
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._acks[envelope_id] = future
            await self._sockets[-1].send_json(envelope)
            return await asyncio.wait_for(future, timeout)

        ack = asyncio.run_coroutine_threadsafe(push(), self._loop).result(timeout + 1)
        self._record("socket_ack", {"type": envelope_type, **ack}, None, 200, {"ok": True})
        return ack
