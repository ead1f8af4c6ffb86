"""A stop signal for one run that is also raised by its parents (service shutdown, lost lease)."""

from __future__ import annotations

import threading
from typing import Protocol


class StopSource(Protocol):
    """Anything that can say "stop now" (a `threading.Event`, a leadership lease)."""

    def is_set(self) -> bool:
        """True once whoever owns it wants running work to stop."""
        ...


class LinkedStop(threading.Event):
    """An event that counts as set when it, or any of `parents`, is set.

    `set()` only sets this one: a run that stops itself (bad token, crash) does not stop the
    service whose event it was linked to.
    """

    def __init__(self, *parents: StopSource | None) -> None:
        super().__init__()
        self.parents = [p for p in parents if p is not None]

    def is_set(self) -> bool:
        """Set here or in a parent."""
        return super().is_set() or any(p.is_set() for p in self.parents)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to `timeout` for this event (parents are checked before and after)."""
        if self.is_set():
            return True
        super().wait(timeout if timeout is None else max(0.0, timeout))
        return self.is_set()
