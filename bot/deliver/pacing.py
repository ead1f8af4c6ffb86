"""Send pacing shared by all sending threads: a workspace rate, ≈1 message/s per channel, and a
global pause when Slack answers 429 with Retry-After.

The rate adapts (AIMD): each 429 cuts it by `BACKOFF` (down to `MIN_SHARE` of the configured
rate), and every `RECOVER_AFTER` messages without one it climbs back by `RECOVER` of the
configured rate. A workspace whose real limit is below the setting (another app posting, a
smaller plan) settles just under that limit instead of hitting it on every burst.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

PER_CHANNEL_INTERVAL_S = 1.0  # Slack: about one message per second per channel
BACKOFF = 0.7  # rate multiplier after a 429
MIN_SHARE = 0.1  # never below a tenth of the configured rate
RECOVER_AFTER = 20  # successful messages before the rate climbs again
RECOVER = 0.05  # share of the configured rate regained each time


class Pacer:
    """Hands out send slots: never faster than `rate_per_s` overall or 1/s into one channel.

    Thread-safe. `wait(channel)` reserves the next free slot and sleeps until it; `pause(s)`
    (after a 429) pushes every slot back by `s` seconds.
    """

    def __init__(
        self,
        rate_per_s: float,
        *,
        per_channel_interval: float = PER_CHANNEL_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self.max_rate = rate_per_s
        self.rate = rate_per_s
        self.interval = 1.0 / rate_per_s
        self._ok_streak = 0
        self.per_channel_interval = per_channel_interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_any = 0.0
        self._next_by_channel: dict[str, float] = {}
        self._paused_until = 0.0
        self.pauses = 0

    def reserve(self, channel: str | None) -> float:
        """Reserve the next slot for `channel` and return how long to wait for it."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_any, self._paused_until)
            if channel is not None:
                slot = max(slot, self._next_by_channel.get(channel, 0.0))
                self._next_by_channel[channel] = slot + self.per_channel_interval
            self._next_any = slot + self.interval
            return slot - now

    def wait(self, channel: str | None) -> None:
        """Block until a send into `channel` is allowed."""
        delay = self.reserve(channel)
        if delay > 0:
            self._sleep(delay)

    def pause(self, seconds: float) -> None:
        """Hold every sender for `seconds` (Slack said Retry-After)."""
        with self._lock:
            self.pauses += 1
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    def slow_down(self) -> None:
        """Slack said 429: send slower from now on (multiplicative decrease)."""
        with self._lock:
            self.rate = max(self.max_rate * MIN_SHARE, self.rate * BACKOFF)
            self.interval = 1.0 / self.rate
            self._ok_streak = 0

    def succeeded(self) -> None:
        """A message went through: after a run of them, speed up a little (additive)."""
        with self._lock:
            self._ok_streak += 1
            if self._ok_streak >= RECOVER_AFTER and self.rate < self.max_rate:
                self.rate = min(self.max_rate, self.rate + self.max_rate * RECOVER)
                self.interval = 1.0 / self.rate
                self._ok_streak = 0

    def wait_pause(self) -> None:
        """Sleep until a pause set by `pause` is over."""
        with self._lock:
            delay = self._paused_until - self._clock()
        if delay > 0:
            self._sleep(delay)
