"""A wall-clock trigger for the daily jobs (crawl, cleanup) that is right across DST.

APScheduler 3.11's `CronTrigger` in a DST zone skips a 00:30 job the day after spring-forward
and runs a job in the repeated hour twice. This trigger computes each run with `zoneinfo`
instead: the next local date on an allowed weekday at HH:MM. Wall times that do not exist or
happen twice in the zone are refused up front by `check_wall_time` with a clear message, so
the trigger never has to guess.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LOOKAHEAD_DAYS = 400  # every DST transition of the coming year


class ScheduleError(ValueError):
    """A job time the scheduler refuses (e.g. a local time inside a DST gap)."""


def weekdays(spec: str) -> frozenset[int]:
    """Weekday numbers (Monday = 0) of a cron-like "mon,thu" / "mon-fri" / "*" field."""
    if spec.strip() in ("*", ""):
        return frozenset(range(7))
    days: set[int] = set()
    for part in spec.lower().split(","):
        first, _, last = part.strip().partition("-")
        start = WEEKDAYS.index(first)
        end = WEEKDAYS.index(last) if last else start
        days.update(range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)])
    return frozenset(days)


def _exists(day: date, at: time, tz: tzinfo) -> bool:
    wall = datetime.combine(day, at, tzinfo=tz)
    return wall.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall.replace(tzinfo=None)


def _repeats(day: date, at: time, tz: tzinfo) -> bool:
    first = datetime.combine(day, at, tzinfo=tz)
    return first.utcoffset() != first.replace(fold=1).utcoffset()


def check_wall_time(job: str, hour: int, minute: int, tz: ZoneInfo, today: date) -> None:
    """Refuse a daily time that falls in a DST gap or overlap of `tz` in the coming year."""
    at = time(hour, minute)
    for offset in range(LOOKAHEAD_DAYS):
        day = today + timedelta(days=offset)
        problem = (
            "does not exist (clocks jump forward)"
            if not _exists(day, at, tz)
            else "happens twice (clocks go back)"
            if _repeats(day, at, tz)
            else None
        )
        if problem:
            raise ScheduleError(
                f"the {job} job at {at:%H:%M} {tz.key} {problem} on {day:%Y-%m-%d}; choose a "
                f"time outside the DST change (e.g. {(hour + 2) % 24:02d}:{minute:02d}) or "
                'timezone = "UTC"'
            )


class WallClockTrigger(BaseTrigger):
    """Fires at local HH:MM on the given weekdays of `tz` (times checked by `check_wall_time`)."""

    def __init__(self, hour: int, minute: int, tz: ZoneInfo, days: frozenset[int]) -> None:
        self.at = time(hour, minute)
        self.timezone = tz
        self.days = days or frozenset(range(7))

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """The first allowed local day's HH:MM after the previous run (or from `now` on the
        first call), as APScheduler expects: missed runs are listed, then coalesced."""
        start = previous_fire_time or now
        local_start = start.astimezone(self.timezone).date()
        for offset in range(-1, 9):
            day = local_start + timedelta(days=offset)
            if day.weekday() not in self.days:
                continue
            fire = datetime.combine(day, self.at, tzinfo=self.timezone)
            if fire > start or (previous_fire_time is None and fire == start):
                return fire
        return None

    def __str__(self) -> str:
        names = ",".join(WEEKDAYS[d] for d in sorted(self.days))
        return f"wall clock {self.at:%H:%M} {self.timezone.key} on {names}"

    def __repr__(self) -> str:
        return f"<WallClockTrigger ({self})>"
