"""The one wall clock: entry points call it once and pass the time down."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_clock() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)
