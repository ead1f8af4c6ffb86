"""HTTP client for GitHub's REST and GraphQL APIs with rate-limit handling.

* Retries (tenacity) transport errors, 5xx and timeouts with exponential backoff and jitter.
* Rate limits as GitHub documents them: `Retry-After` on any 403/429 is waited out; else
  `X-RateLimit-Remaining: 0` (or GraphQL `RATE_LIMITED`) waits until `X-RateLimit-Reset`; a
  secondary-limit body without headers ("secondary rate limit", "abuse detection", as PyGithub
  matches them) waits a minute. A wait longer than `max_wait`, or one that keeps recurring,
  raises `RateLimited` (a resumable stop), never a blind retry.
* Budgets per resource and window: core and GraphQL are hourly, and one run spends at most
  `budget_share` of them and never the last `reserve` points (`BudgetExhausted`, raised before
  the request is sent; queries in flight hold their estimate until GitHub prices them); search
  is per minute, so an empty search window is waited out until its reset. What is left comes
  from `GET /rate_limit` (free), the `X-RateLimit-*` headers and GraphQL's `rateLimit` field.
* Conditional GETs: pass the stored ETag; a 304 costs nothing.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from bot.errors import ServiceError

log = structlog.get_logger(__name__)

RETRY_STATUSES = {500, 502, 503, 504}
HOURLY = ("core", "graphql")  # budget_share applies to these; search resets every minute
SECONDARY_MARKERS = ("secondary rate limit", "abuse detection")
RATE_LIMIT_TYPES = ("RATE_LIMITED", "RATE_LIMIT")  # GraphQL error types of the primary limit


class GitHubError(ServiceError):
    """A request failed for good (after retries)."""


class NotFound(GitHubError):
    """404 / GraphQL NOT_FOUND."""


class RateLimited(GitHubError):
    """The primary rate limit is exhausted until `reset` (epoch seconds)."""

    def __init__(self, message: str, reset: float | None = None) -> None:
        super().__init__(message)
        self.reset = reset


class BudgetExhausted(GitHubError):
    """This run reached its configured share of the hourly budget."""


class Unprocessable(GitHubError):
    """422 Validation Failed (e.g. a search naming a repository that cannot be searched)."""


class _Retry(Exception):
    """Internal: retry after `delay` seconds (None: exponential backoff)."""

    def __init__(self, reason: str, delay: float | None = None, *, limited: bool = False) -> None:
        super().__init__(reason)
        self.delay = delay
        self.limited = limited  # a rate-limit wait: giving up means RateLimited


@dataclass
class Usage:
    """What this client spent and what GitHub says is left, per resource."""

    requests: int = 0
    points: int = 0
    not_modified: int = 0
    retries: int = 0
    spent: dict[str, int] = field(default_factory=dict)  # resource -> requests/points this run
    remaining: dict[str, int] = field(default_factory=dict)
    limit: dict[str, int] = field(default_factory=dict)
    reset: dict[str, int] = field(default_factory=dict)


@dataclass
class GraphQLResult:
    """`data` (possibly partial) and GitHub's `errors` list."""

    data: dict[str, Any]
    errors: list[dict[str, Any]]

    def error_for(self, alias: str) -> dict[str, Any] | None:
        """The first error whose path starts at `alias`."""
        return next((e for e in self.errors if (e.get("path") or [None])[0] == alias), None)


class GitHubClient:
    """Sync client shared by the crawl's worker threads."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        budget_share: float = 1.0,
        reserve: int = 0,
        max_wait: float = 900.0,
        max_attempts: int = 6,
        concurrency: int = 4,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        backoff_base: float = 0.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "matchmaker-bot",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.authenticated = bool(token)
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=timeout,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        self.usage = Usage()
        self.budget_share = budget_share
        self.reserve = reserve  # hourly points a run never spends (others' share, estimate slack)
        self._in_flight: dict[str, int] = {}  # resource -> estimates of requests not yet priced
        self.max_wait = max_wait
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self._sleep = sleep
        self._clock = clock  # epoch seconds, only when a response carries no Date header
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # Budget ------------------------------------------------------------------------------------

    def budget_left(self, resource: str) -> int | None:
        """What GitHub last said is left of `resource` (None before the first response)."""
        return self.usage.remaining.get(resource)

    def now(self) -> float:
        """Epoch seconds on the injected clock (compared with X-RateLimit-Reset)."""
        return self._clock()

    def sleep(self, seconds: float) -> None:
        """Wait (the injected sleep, so tests run on a virtual clock)."""
        if seconds > 0:
            self._sleep(seconds)

    def allowance(self, resource: str) -> int | None:
        """How much more this run may spend of `resource` (None: unknown yet).

        Hourly resources (core, GraphQL) are capped at `budget_share` of the limit; search
        is a per-minute window, so only what GitHub says is left counts."""
        limit = self.usage.limit.get(resource)
        if limit is None:
            return None
        remaining = self.usage.remaining.get(resource, limit)
        if resource not in HOURLY:
            return max(0, remaining)
        share_left = int(limit * self.budget_share) - self.usage.spent.get(resource, 0)
        left = min(share_left, remaining - self.reserve) - self._in_flight.get(resource, 0)
        return max(0, left)

    def _check_budget(self, resource: str, cost: int) -> None:
        with self._lock:
            allowance = self.allowance(resource)
            if allowance is None or cost <= allowance:
                if resource == "graphql":  # held until GitHub prices the query
                    self._in_flight[resource] = self._in_flight.get(resource, 0) + cost
                return
        if resource not in HOURLY:  # the per-minute window refills soon: wait for it
            self._wait_for_window(resource)
            return
        raise BudgetExhausted(
            f"{resource}: {cost} more would exceed this run's share "
            f"({self.budget_share:.0%}) of the hourly budget or its reserve of {self.reserve}"
        )

    def _release(self, resource: str, cost: int) -> None:
        with self._lock:
            self._in_flight[resource] = max(0, self._in_flight.get(resource, 0) - cost)

    def resets_at(self, resource: str) -> float | None:
        """When `resource`'s window resets (epoch seconds, GitHub's word), if known."""
        return self.usage.reset.get(resource)

    def rate_limit(self) -> None:
        """Read every resource's limit, remaining and reset from `GET /rate_limit`, which
        GitHub does not count against any limit; a failure leaves the budget unknown."""
        try:
            response = self.http.get("/rate_limit")
            resources = response.json().get("resources") or {} if response.is_success else {}
        except (httpx.HTTPError, ValueError) as exc:
            log.info("github.rate_limit_unknown", error=str(exc)[:200])
            return
        with self._lock:
            self.usage.requests += 1
            for name, values in resources.items():
                for key, target in (
                    ("remaining", self.usage.remaining),
                    ("limit", self.usage.limit),
                    ("reset", self.usage.reset),
                ):
                    if isinstance(values.get(key), int):
                        target[name] = values[key]

    def _wait_for_window(self, resource: str) -> None:
        reset = self.usage.reset.get(resource)
        wait = (reset - self.now() + 1) if reset else 60.0
        if wait > self.max_wait:
            raise RateLimited(f"{resource}: window resets in {wait:.0f} s", reset)
        log.info("github.window_wait", resource=resource, wait_s=round(max(wait, 0), 1))
        self.sleep(wait)
        with self._lock:
            self.usage.remaining.pop(resource, None)  # unknown until the next response

    def _record(self, response: httpx.Response, fallback_resource: str) -> None:
        headers = response.headers
        resource = headers.get("X-RateLimit-Resource", fallback_resource)
        with self._lock:
            self.usage.requests += 1
            if headers.get("X-RateLimit-Limit", "").isdigit():
                self.usage.limit[resource] = int(headers["X-RateLimit-Limit"])
            if headers.get("X-RateLimit-Remaining", "").isdigit():
                reset = headers.get("X-RateLimit-Reset", "")
                self._set_remaining(
                    resource,
                    int(headers["X-RateLimit-Remaining"]),
                    int(reset) if reset.isdigit() else None,
                )
            if response.status_code == 304:
                self.usage.not_modified += 1
            elif resource != "graphql" and response.status_code < 500:
                self.usage.spent[resource] = self.usage.spent.get(resource, 0) + 1

    # Retry machinery ---------------------------------------------------------------------------

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        with self._lock:
            self.usage.retries += 1
        if isinstance(error, _Retry) and error.delay is not None:
            return error.delay
        # Exponential backoff with full jitter.
        ceiling = min(60.0, self.backoff_base * 2 ** (state.attempt_number - 1))
        return random.uniform(ceiling / 2, ceiling)

    def _call(self, send: Callable[[], httpx.Response], resource: str) -> httpx.Response:
        retrying = Retrying(
            retry=retry_if_exception_type(_Retry),
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(self._attempt, send, resource)
        except _Retry as exc:
            if exc.limited:
                raise RateLimited(
                    f"still rate limited after {self.max_attempts} attempts: {exc}"
                ) from None
            raise GitHubError(f"gave up after {self.max_attempts} attempts: {exc}") from None

    def _attempt(self, send: Callable[[], httpx.Response], resource: str) -> httpx.Response:
        with self._slots:
            try:
                response = send()
            except httpx.TransportError as exc:
                raise _Retry(f"{type(exc).__name__}: {exc}") from None
        self._record(response, resource)
        status = response.status_code
        if status in RETRY_STATUSES:
            raise _Retry(f"HTTP {status}")
        if status in (403, 429):
            self._rate_limit_response(response)
        return response

    def _rate_limit_response(self, response: httpx.Response) -> None:
        """Raise _Retry / RateLimited for a 403 or 429 that is about rate limits.

        Order as in GitHub's docs: `Retry-After` first, then `X-RateLimit-Remaining: 0` with
        `X-RateLimit-Reset`, then a secondary-limit body (wait one minute). A 403 that is none
        of these (e.g. a forbidden resource) is returned to the caller."""
        headers = response.headers
        message = _message(response)
        lowered = message.lower()
        retry_after = headers.get("Retry-After", "").strip()
        if retry_after.isdigit():
            delay = float(retry_after)
            if delay > self.max_wait:
                raise RateLimited(f"retry after {delay:.0f} s: {message}", self.now() + delay)
            log.warning("github.retry_after", wait_s=delay, status=response.status_code)
            reason = f"HTTP {response.status_code} Retry-After {delay:.0f}"
            raise _Retry(reason, delay, limited=True)
        if headers.get("X-RateLimit-Remaining") == "0":
            self._wait_for_reset(headers.get("X-RateLimit-Reset"), message, _server_time(response))
        if response.status_code == 429 or any(m in lowered for m in SECONDARY_MARKERS):
            log.warning("github.secondary_limit", wait_s=60, status=response.status_code)
            raise _Retry(f"secondary rate limit: {message}", 60.0, limited=True)
        if "rate limit" in lowered:
            self._wait_for_reset(headers.get("X-RateLimit-Reset"), message, _server_time(response))

    def _wait_for_reset(
        self, reset_header: str | None, message: str, server_now: float | None = None
    ) -> None:
        """Wait until GitHub's reset time, measured on GitHub's clock (its `Date` header) so a
        skewed local clock does not matter; the injected clock only without that header."""
        reset = float(reset_header) if reset_header and reset_header.isdigit() else None
        now = server_now if server_now is not None else self._clock()
        wait = (reset - now + 1) if reset else None
        if wait is not None and wait <= self.max_wait:
            log.warning("github.rate_limited", wait_s=round(max(wait, 0), 1))
            raise _Retry("primary rate limit", max(wait, 0.0), limited=True)
        raise RateLimited(message or "rate limit exceeded", reset)

    # Public API --------------------------------------------------------------------------------

    def get(
        self, path: str, params: dict[str, Any] | None = None, *, etag: str | None = None
    ) -> httpx.Response:
        """GET a REST resource (200 or 304); raises NotFound on 404, GitHubError otherwise."""
        resource = "search" if path.startswith("/search/") else "core"
        self._check_budget(resource, 1)
        headers = {"If-None-Match": etag} if etag else {}
        response = self._call(lambda: self.http.get(path, params=params, headers=headers), resource)
        if response.status_code == 404:
            raise NotFound(f"GET {path}: not found")
        if response.status_code == 422:
            raise Unprocessable(f"GET {path}: HTTP 422 {_message(response)}")
        if response.status_code not in (200, 304):
            raise GitHubError(f"GET {path}: HTTP {response.status_code} {_message(response)}")
        return response

    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, *, estimate: int = 1
    ) -> GraphQLResult:
        """POST a GraphQL query; returns partial data with errors (never raises for those)."""
        self._check_budget("graphql", estimate)
        try:
            return self._graphql(query, variables, estimate)
        finally:
            self._release("graphql", estimate)

    def _graphql(
        self, query: str, variables: dict[str, Any] | None, estimate: int
    ) -> GraphQLResult:
        payload = {"query": query, "variables": variables or {}}
        for _ in range(self.max_attempts):
            response = self._call(lambda: self.http.post("/graphql", json=payload), "graphql")
            if response.status_code != 200:
                raise GitHubError(f"GraphQL: HTTP {response.status_code} {_message(response)}")
            body = response.json()
            errors = body.get("errors") or []
            if any(e.get("type") in RATE_LIMIT_TYPES for e in errors):
                try:
                    self._wait_for_reset(response.headers.get("X-RateLimit-Reset"), "RATE_LIMITED")
                except _Retry as retry:
                    self._sleep(retry.delay or 0)
                    continue
            rate = (body.get("data") or {}).get("rateLimit") or {}
            cost = rate.get("cost", estimate)
            with self._lock:
                self.usage.points += cost
                self.usage.spent["graphql"] = self.usage.spent.get("graphql", 0) + cost
                self._note_rate(rate)
            return GraphQLResult(body.get("data") or {}, errors)
        raise RateLimited("GraphQL RATE_LIMITED after waiting for the reset")

    def _note_rate(self, rate: dict[str, Any]) -> None:
        """Take GraphQL's `rateLimit { remaining limit resetAt }` of a response."""
        if isinstance(rate.get("limit"), int):
            self.usage.limit["graphql"] = rate["limit"]
        reset: int | None = None
        try:
            when = datetime.fromisoformat(str(rate.get("resetAt")).replace("Z", "+00:00"))
            reset = int(when.timestamp())
        except ValueError:
            pass
        if isinstance(rate.get("remaining"), int):
            self._set_remaining("graphql", rate["remaining"], reset)

    def _set_remaining(self, resource: str, remaining: int, reset: int | None) -> None:
        """Within one window the lowest remaining wins (concurrent responses arrive out of
        order); a later reset time starts a new window. Call with the lock held."""
        known_reset = self.usage.reset.get(resource)
        if reset is not None and (known_reset is None or reset > known_reset):
            self.usage.reset[resource] = reset
            self.usage.remaining[resource] = remaining
            return
        known = self.usage.remaining.get(resource)
        self.usage.remaining[resource] = remaining if known is None else min(known, remaining)


def _server_time(response: httpx.Response) -> float | None:
    """Epoch seconds of the response's `Date` header (None when absent or malformed)."""
    value = response.headers.get("Date")
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


def _message(response: httpx.Response) -> str:
    """GitHub's `message`, with the `errors[].message` details of a validation failure."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if not isinstance(data, dict):
        return ""
    details = [str(e.get("message")) for e in data.get("errors") or [] if isinstance(e, dict)]
    return "; ".join([str(data.get("message", "")), *(d for d in details if d != "None")])
