"""Sliding-window rate limits of the fake Slack (per channel and per workspace)."""

from __future__ import annotations

import math
from collections import deque


class SlidingWindow:
    """At most `rate` events per second, measured over a window of max(1 s, 1/rate)."""

    def __init__(self, rate_per_s: float) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate must be positive")
        self.window = max(1.0, 1.0 / rate_per_s)
        self.capacity = max(1, round(rate_per_s * self.window))
        self._times: deque[float] = deque()

    def try_acquire(self, now: float) -> int | None:
        """Record an event at `now` and return None, or return Retry-After seconds (≥ 1)."""
        while self._times and now - self._times[0] >= self.window:
            self._times.popleft()
        if len(self._times) < self.capacity:
            self._times.append(now)
            return None
        return max(1, math.ceil(self._times[0] + self.window - now))
