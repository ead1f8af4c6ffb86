"""Send pacing shared by all sending threads: a workspace rate, ≈1 message/s per channel, and a
global pause when Slack answers 429 with Retry-After."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

PER_CHANNEL_INTERVAL_S = 1.0  # Slack: about one message per second per channel


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
        self.interval = 1.0 / rate_per_s
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

    def wait_pause(self) -> None:
        """Sleep until a pause set by `pause` is over."""
        with self._lock:
            delay = self._paused_until - self._clock()
        if delay > 0:
            self._sleep(delay)
