"""Fault injection for the fake GitHub: latency and scripted failures per request."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

KINDS = (
    "500",  # Internal Server Error
    "502",  # Bad Gateway (GitHub's answer to a GraphQL query that took too long)
    "403_rate_limit",  # primary rate limit exhausted: 403, X-RateLimit-Remaining: 0
    "429",  # 429 Too Many Requests with Retry-After
    "secondary",  # 403 "secondary rate limit" with Retry-After
    "abuse",  # 403 "abuse detection mechanism" with Retry-After (PyGithub's recording)
    "429_primary",  # 429 with X-RateLimit-Remaining: 0 and a reset `retry_after` s away
    "graphql_partial",  # 200 with data for all but one alias and an `errors` entry
    "graphql_rate_limited",  # 200 with errors type RATE_LIMITED
    "reset",  # TCP connection reset before any response
    "slow_body",  # headers at once, body trickles in over `delay` seconds
)


@dataclass
class FaultRule:
    """Fire `kind` on the next `times` requests whose path contains `path` (and method)."""

    kind: str
    times: int = 1
    path: str = ""
    method: str | None = None
    retry_after: int = 1
    delay: float = 1.0

    def matches(self, method: str, path: str) -> bool:
        return self.path in path and (self.method is None or self.method == method)


@dataclass
class Faults:
    """The fault switches of one fake server (thread-safe)."""

    latency: float = 0.0  # seconds added to every request
    rules: list[FaultRule] = field(default_factory=list)
    fired: list[tuple[str, str]] = field(default_factory=list)  # (kind, path)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, kind: str, times: int = 1, **options: object) -> FaultRule:
        """Schedule a fault; see `KINDS`."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; choose one of {', '.join(KINDS)}")
        rule = FaultRule(kind, times, **options)  # type: ignore[arg-type]
        with self._lock:
            self.rules.append(rule)
        return rule

    def take(self, method: str, path: str) -> FaultRule | None:
        """The fault to apply to this request, if any (consumes one use)."""
        with self._lock:
            for rule in self.rules:
                if rule.times > 0 and rule.matches(method, path):
                    rule.times -= 1
                    self.fired.append((rule.kind, path))
                    if rule.times == 0:
                        self.rules.remove(rule)
                    return rule
        return None

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.latency = 0.0
