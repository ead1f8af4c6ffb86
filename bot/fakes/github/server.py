"""`FakeGitHub`: an HTTP server on 127.0.0.1 speaking GitHub's REST and GraphQL wire formats.

    fake = FakeGitHub(world)
    base_url = fake.start()          # e.g. http://127.0.0.1:54321
    ...                              # httpx / PyGithub(base_url=…) / the crawler
    fake.stats.requests, fake.stats.points
    fake.stop()

It counts requests and GraphQL points, sends `X-RateLimit-*` headers, answers `If-None-Match`
with 304 (free, as on GitHub), enforces per-resource budgets and injects faults (`fake.faults`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from graphql import GraphQLError

from bot.fakes.github.faults import FaultRule, Faults
from bot.fakes.github.graphql_api import GitHubGraphQLError, GraphQLEndpoint, format_error
from bot.fakes.github.model import World
from bot.fakes.github.rest import Reply, RestApi, error, split_target

log = logging.getLogger(__name__)

AUTHENTICATED_LIMITS = {"core": 5000, "search": 30, "graphql": 5000}
ANONYMOUS_LIMITS = {"core": 60, "search": 10, "graphql": 0}
WINDOWS = {"core": 3600, "search": 60, "graphql": 3600}  # seconds: search is per minute
# GitHub's secondary limit for the GraphQL endpoint: 2,000 points per minute, where a query
# without mutations is 1 point (whatever its primary cost).
GRAPHQL_QUERIES_PER_MINUTE = 2000


@dataclass
class Stats:
    """What clients spent: requests by kind and GraphQL points."""

    requests: int = 0
    rest_requests: int = 0
    graphql_requests: int = 0
    search_requests: int = 0
    not_modified: int = 0
    points: int = 0
    refused: int = 0  # GraphQL queries refused for the primary rate limit (RATE_LIMITED)
    by_path: Counter[str] = field(default_factory=Counter)
    queries: list[str] = field(default_factory=list)  # GraphQL query texts, in order

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


@dataclass
class Budget:
    """One rate-limit bucket (core, search or graphql) of one identity."""

    limit: int
    used: int = 0
    reset: int = 0
    resource: str = "core"

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


class FakeGitHub:
    """The fake server. `token=None` accepts any token; otherwise only that one (401 else)."""

    def __init__(
        self,
        world: World,
        *,
        token: str | None = None,
        limits: dict[str, int] | None = None,
        anonymous_limits: dict[str, int] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.world = world
        self.clock = clock  # epoch seconds for budget windows (tests pass a virtual clock)
        self.token = token
        self.stats = Stats()
        self.faults = Faults()
        self.limits = {**AUTHENTICATED_LIMITS, **(limits or {})}
        self.anonymous_limits = {**ANONYMOUS_LIMITS, **(anonymous_limits or {})}
        self._budgets: dict[tuple[bool, str], Budget] = {}
        self.graphql_per_minute = GRAPHQL_QUERIES_PER_MINUTE
        self._minute: tuple[int, int] = (0, 0)  # (minute, GraphQL queries in it)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        self.issued_tokens: dict[str, int] = {}  # GitHub App installation token -> installation
        self.rest: RestApi | None = None
        self.graphql = GraphQLEndpoint(world)

    # Lifecycle ---------------------------------------------------------------------------------

    def start(self) -> str:
        """Start serving on a free port of 127.0.0.1 and return the base URL."""
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.rest = RestApi(self.world, self.base_url)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-github",
            daemon=True,
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop the server."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGitHub:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # Budgets -----------------------------------------------------------------------------------

    def budget(self, resource: str, authenticated: bool = True) -> Budget:
        """The bucket `resource` of the authenticated (or anonymous) identity."""
        with self._lock:
            key = (authenticated, resource)
            if key not in self._budgets:
                limits = self.limits if authenticated else self.anonymous_limits
                self._budgets[key] = Budget(
                    limits[resource],
                    reset=int(self.clock()) + WINDOWS[resource],
                    resource=resource,
                )
            budget = self._budgets[key]
            if budget.reset <= self.clock():
                budget.used, budget.reset = 0, int(self.clock()) + WINDOWS[resource]
            return budget

    def secondary_limited(self) -> bool:
        """Count one GraphQL query in the current minute; True past the secondary limit."""
        with self._lock:
            minute = int(self.clock() // 60)
            count = self._minute[1] + 1 if self._minute[0] == minute else 1
            self._minute = (minute, count)
            return count > self.graphql_per_minute

    def reset_budgets(self) -> None:
        """Start every rate-limit bucket afresh (e.g. after changing `limits`)."""
        with self._lock:
            self._budgets.clear()

    def rate_limit_json(self, authenticated: bool) -> dict[str, Any]:
        resources = {
            name: {
                "limit": (b := self.budget(name, authenticated)).limit,
                "used": b.used,
                "remaining": b.remaining,
                "reset": b.reset,
            }
            for name in ("core", "search", "graphql")
        }
        return {"resources": resources, "rate": resources["core"]}


class _Handler(BaseHTTPRequestHandler):
    """One request: faults, auth, budgets, routing, ETags."""

    fake: FakeGitHub
    protocol_version = "HTTP/1.1"
    server_version = "FakeGitHub/1.0"

    def setup(self) -> None:
        super().setup()
        # Headers and body are separate writes: without this, Nagle + delayed ACK add ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    # Entry points ------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        try:
            self._dispatch(method)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a bug in the fake: log it, answer 500 so the test sees it
            log.exception("fake GitHub failed on %s %s", method, self.path)
            self._send(Reply(500, {"message": f"fake GitHub error: {exc!r}"}), None)

    def _dispatch(self, method: str) -> None:
        fake = self.fake
        path, query = split_target(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        payload = self.rfile.read(length) if length else b""
        with fake._lock:
            fake.stats.requests += 1
            fake.stats.by_path[f"{method} {path}"] += 1
        if fake.faults.latency:
            time.sleep(fake.faults.latency)
        fault = fake.faults.take(method, path)
        if fault and fault.kind == "reset":
            self._reset()
            return
        if method == "POST" and path.startswith("/app/installations/"):
            self._installation_token(path)
            return
        authenticated, auth_problem = self._auth()
        if auth_problem:
            self._send(error(401, "Bad credentials"), None)
            return
        if method == "POST" and path == "/graphql":
            self._graphql(payload, authenticated, fault)

        elif method == "GET":
            self._rest(path, query, authenticated, fault)
        else:
            self._send(error(404, "Not Found"), None)

    # Auth and faults ---------------------------------------------------------------------------

    def _auth(self) -> tuple[bool, bool]:
        header = self.headers.get("Authorization", "")
        if not header:
            return False, False
        token = header.split(" ", 1)[1].strip() if " " in header else header
        known = token == self.fake.token or token in self.fake.issued_tokens
        if self.fake.token is not None and not known:
            return True, True
        return True, False

    def _installation_token(self, path: str) -> None:
        """POST /app/installations/{id}/access_tokens: needs an App JWT (Bearer, with `iss`)."""
        match = re.match(r"^/app/installations/(\d+)/access_tokens$", path)
        header = self.headers.get("Authorization", "")
        jwt = header.removeprefix("Bearer ").strip()
        if match is None or not header.startswith("Bearer ") or not _is_jwt(jwt):
            self._send(error(401, "A JSON web token could not be decoded"), None)
            return
        installation = int(match.group(1))
        token = f"ghs_fake{installation}{len(self.fake.issued_tokens):04d}"
        self.fake.issued_tokens[token] = installation
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        body = {
            "token": token,
            "expires_at": expires,
            "permissions": {"issues": "read", "metadata": "read"},
            "repository_selection": "all",
        }
        self._send(Reply(201, body), None)

    def _reset(self) -> None:
        """Close the socket with RST (SO_LINGER 0): the client sees a connection reset."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _fault_reply(self, fault: FaultRule, resource: str, authenticated: bool) -> Reply | None:
        budget = self.fake.budget(resource, authenticated)
        if fault.kind in ("500", "502"):
            status = int(fault.kind)
            text = "Server Error" if status == 500 else "Bad Gateway"
            return Reply(status, {"message": text})
        if fault.kind == "429":
            return Reply(
                429,
                {"message": "Too Many Requests"},
                headers={"Retry-After": str(fault.retry_after)},
            )
        if fault.kind == "429_primary":  # primary limit as 429: remaining 0, reset later
            budget.reset = int(self.fake.clock()) + fault.retry_after
            reply = error(429, "API rate limit exceeded for 127.0.0.1.")
            reply.status = 429
            reply.headers.update(
                {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(budget.reset)}
            )
            return reply
        if fault.kind == "abuse":  # PyGithub's recorded secondary-limit 403 (2018 wording)
            return Reply(
                403,
                {
                    "documentation_url": "https://developer.github.com/v3/#abuse-rate-limits",
                    "message": "You have triggered an abuse detection mechanism. "
                    "Please wait a few minutes before you try again.",
                },
                headers={"Retry-After": str(fault.retry_after)},
            )
        if fault.kind == "secondary":
            return Reply(
                403,
                {
                    "message": "You have exceeded a secondary rate limit. Please wait a few "
                    "minutes before you try again.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                },
                headers={"Retry-After": str(fault.retry_after)},
            )
        if fault.kind == "403_rate_limit":
            budget.reset = int(self.fake.clock()) + fault.retry_after
            reply = error(403, "API rate limit exceeded for user ID 1.")
            reply.headers["X-RateLimit-Remaining"] = "0"
            reply.headers["X-RateLimit-Reset"] = str(budget.reset)
            return reply
        return None

    # REST --------------------------------------------------------------------------------------

    def _rest(
        self, path: str, query: dict[str, str], authenticated: bool, fault: FaultRule | None
    ) -> None:
        fake = self.fake
        resource = "search" if path.startswith("/search/") else "core"
        with fake._lock:
            fake.stats.rest_requests += 1
            fake.stats.search_requests += resource == "search"
        if fault:
            reply = self._fault_reply(fault, resource, authenticated)
            if reply is not None:
                self._send(reply, fake.budget(resource, authenticated), fault)
                return
        budget = fake.budget(resource, authenticated)
        if path == "/rate_limit":
            self._send(Reply(200, fake.rate_limit_json(authenticated)), budget, counted=False)
            return
        if budget.remaining <= 0:
            reply = error(
                403,
                "API rate limit exceeded for 127.0.0.1."
                if not authenticated
                else "API rate limit exceeded for user ID 1.",
            )
            self._send(reply, budget)
            return
        assert fake.rest is not None
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = fake.rest.handle(path, query, headers)
        reply.resource = resource
        self._send(reply, budget, fault, conditional=self.headers.get("If-None-Match"))

    # GraphQL -----------------------------------------------------------------------------------

    def _graphql(self, payload: bytes, authenticated: bool, fault: FaultRule | None) -> None:
        fake = self.fake
        with fake._lock:
            fake.stats.graphql_requests += 1
        budget = fake.budget("graphql", authenticated)
        if not authenticated:
            self._send(
                error(401, "This endpoint requires you to be authenticated."), None, counted=False
            )
            return
        if fault:
            reply = self._fault_reply(fault, "graphql", authenticated)
            if reply is not None:
                self._send(reply, budget, fault)
                return
        if fake.secondary_limited():
            reply = Reply(
                403,
                {
                    "message": "You have exceeded a secondary rate limit. Please wait a few "
                    "minutes before you try again.",
                    "documentation_url": "https://docs.github.com/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api",
                },
                headers={"Retry-After": "60"},
            )
            self._send(reply, budget, counted=False)
            return
        try:
            request = json.loads(payload or b"{}")
            query = request["query"]
            variables = request.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            self._send(error(400, "Problems parsing JSON"), budget)
            return
        with fake._lock:
            fake.stats.queries.append(query)
        try:
            document, points, nodes = fake.graphql.prepare(query, variables)
        except (GraphQLError, GitHubGraphQLError) as exc:
            self._send(Reply(200, {"errors": [format_error(exc)]}), budget)
            return
        with fake._lock:  # price and charge atomically: concurrent queries cannot overdraw
            refused = (fault and fault.kind == "graphql_rate_limited") or budget.remaining < points
            if not refused:
                budget.used += points
                fake.stats.points += points
            else:
                fake.stats.refused += 1
        if refused:
            # GitHub: status 200, an error, `x-ratelimit-remaining: 0`; the query is not run
            # and costs nothing.
            if fault:
                budget.reset = int(fake.clock()) + fault.retry_after
            body = {
                "errors": [
                    {
                        "type": "RATE_LIMITED",
                        "code": "graphql_rate_limit",
                        "message": "API rate limit already exceeded for user ID 1.",
                    }
                ]
            }
            reply = Reply(200, body, headers={"X-RateLimit-Remaining": "0"})
            self._send(reply, budget, fault, counted=False)
            return
        rate = {
            "cost": points,
            "limit": budget.limit,
            "nodeCount": nodes,
            "remaining": budget.remaining,
            "resetAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(budget.reset)),
            "used": budget.used,
        }
        envelope = fake.graphql.run(document, variables, rate)
        if fault and fault.kind == "graphql_partial":
            envelope = _break_one_alias(envelope)
        self._send(Reply(200, envelope), budget, fault, counted=False)

    # Output ------------------------------------------------------------------------------------

    def _send(
        self,
        reply: Reply,
        budget: Budget | None,
        fault: FaultRule | None = None,
        *,
        conditional: str | None = None,
        counted: bool = True,
    ) -> None:
        fake = self.fake
        if reply.raw is not None:
            body = reply.raw.encode()
            content_type = reply.headers.pop("Content-Type", "text/plain; charset=utf-8")
        else:
            body = json.dumps(reply.body, separators=(",", ":")).encode()
            content_type = "application/json; charset=utf-8"
        etag = f'W/"{hashlib.sha1(body).hexdigest()}"'
        status = reply.status
        if status == 200 and conditional and etag in [t.strip() for t in conditional.split(",")]:
            status, body = 304, b""
            with fake._lock:
                fake.stats.not_modified += 1
        elif budget is not None and counted and reply.status < 500:
            with fake._lock:
                budget.used += 1
        headers = {
            "Content-Type": content_type,
            "Content-Length": str(len(body)),
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Request-Id": f"FAKE:{fake.stats.requests:08d}",
        }
        if reply.status == 200:
            headers["ETag"] = etag
            headers["Cache-Control"] = "private, max-age=60, s-maxage=60"
        if budget is not None:
            headers.update(
                {
                    "X-RateLimit-Limit": str(budget.limit),
                    "X-RateLimit-Remaining": str(budget.remaining),
                    "X-RateLimit-Reset": str(budget.reset),
                    "X-RateLimit-Used": str(budget.used),
                    "X-RateLimit-Resource": budget.resource,
                }
            )
        headers.update(reply.headers)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if fault and fault.kind == "slow_body" and body:
            pieces = 5
            step = max(1, len(body) // pieces)
            for start in range(0, len(body), step):
                self.wfile.write(body[start : start + step])
                self.wfile.flush()
                time.sleep(fault.delay / pieces)
        else:
            self.wfile.write(body)


def _is_jwt(token: str) -> bool:
    """A JWT whose payload names its issuer (the App id); the signature is not checked."""
    parts = token.split(".")
    if len(parts) != 3:
        return False
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return False
    return isinstance(payload, dict) and "iss" in payload


def _break_one_alias(envelope: dict[str, Any]) -> dict[str, Any]:
    """Null the first repository alias and report it the way GitHub does."""
    data = envelope.get("data") or {}
    for alias, value in data.items():
        if alias != "rateLimit" and value is not None:
            data[alias] = None
            envelope.setdefault("errors", []).append(
                {
                    "type": "SERVICE_UNAVAILABLE",
                    "path": [alias],
                    "message": "Something went wrong while executing your query. "
                    "This may be the result of a timeout, or it could be a GitHub bug.",
                }
            )
            break
    return envelope
