"""When a member's digest is due: their weekday, local time and timezone, and the back-off.

All arithmetic happens in the member's own timezone with `zoneinfo`, so a DST change moves the
UTC instant, never the local hour. A local time that does not exist on a spring-forward day
(e.g. 02:30) is sent at the first instant after the gap; an ambiguous one (fall-back) the
first time it happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.vocabulary import WEEKDAYS

# Engagement back-off (CodeTriage's model): consecutive ignored digests -> send every N weeks.
IGNORED_BEFORE_BIWEEKLY = 3
IGNORED_BEFORE_MONTHLY = 6


def iso_week(day: date) -> str:
    """The ISO week key of `day`, e.g. "2026-W48"."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(week: str) -> date:
    """The Monday of an ISO week key."""
    return date.fromisocalendar(int(week[:4]), int(week[6:]), 1)


def weeks_between(earlier: str, later: str) -> int:
    """Whole weeks from ISO week `earlier` to `later` (0 for the same week)."""
    return (week_monday(later) - week_monday(earlier)).days // 7


def zone(name: str | None, fallback: str = "UTC") -> ZoneInfo:
    """The member's timezone; an unknown name falls back to `fallback` instead of failing."""
    for candidate in (name, fallback, "UTC"):
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def parse_hhmm(value: str | None, fallback: str = "09:00") -> time:
    """ "HH:MM" as a time; a malformed value falls back to `fallback`."""
    for candidate in (value, fallback, "09:00"):
        try:
            hours, minutes = (candidate or "").strip().split(":")
            return time(int(hours), int(minutes))
        except ValueError:
            continue
    return time(9, 0)


@dataclass(frozen=True)
class Slot:
    """This week's send instant for one schedule: its ISO week (local) and UTC time."""

    week: str
    at: datetime  # aware UTC


def weekly_slot(now: datetime, day: str, hhmm: str, timezone: str) -> Slot:
    """The send slot of the local ISO week containing `now` for (day, HH:MM, timezone)."""
    tz = zone(timezone)
    return _slot_in_week(now.astimezone(tz).date(), day, hhmm, tz)


def due_slot(now: datetime, day: str, hhmm: str, timezone: str, catch_up: timedelta) -> Slot | None:
    """The newest slot that has come and is less than `catch_up` old, or None.

    That is this local week's slot once it has passed, else the previous week's: a "sun 20:00"
    slot missed by an outage is still sent on Monday or Tuesday (within `catch_up`), and a
    "sun 23:59" slot is sent by the first tick after midnight.
    """
    tz = zone(timezone)
    today = now.astimezone(tz).date()
    for local_day in (today, today - timedelta(days=7)):
        slot = _slot_in_week(local_day, day, hhmm, tz)
        if slot.at <= now:
            return slot if now < slot.at + catch_up else None
    return None


def _slot_in_week(local_day: date, day: str, hhmm: str, tz: ZoneInfo) -> Slot:
    """The slot of the local ISO week containing the local date `local_day`."""
    weekday = WEEKDAYS.index(day) if day in WEEKDAYS else 0
    slot_day = local_day - timedelta(days=local_day.weekday()) + timedelta(days=weekday)
    wall = datetime.combine(slot_day, parse_hhmm(hhmm), tzinfo=tz)
    # fold=0: a wall time in a spring-forward gap maps to just after the gap (PEP 495).
    return Slot(week=iso_week(slot_day), at=wall.astimezone(UTC))


def every_weeks_for(ignored: int) -> int:
    """Cadence for a member who ignored `ignored` digests in a row: 1, 2 or 4 weeks."""
    if ignored >= IGNORED_BEFORE_MONTHLY:
        return 4
    if ignored >= IGNORED_BEFORE_BIWEEKLY:
        return 2
    return 1


def next_slot(
    now: datetime,
    day: str,
    hhmm: str,
    timezone: str,
    *,
    last_sent_week: str | None = None,
    every_weeks: int = 1,
) -> Slot:
    """The first send slot after `now` that the schedule and the back-off cadence allow.

    Weeks are stepped in the member's local calendar, so a DST change never skips one.
    """
    tz = zone(timezone)
    today = now.astimezone(tz).date()
    slot = weekly_slot(now, day, hhmm, timezone)
    for k in range(0, 6):  # every_weeks <= 4: five weeks always contain an allowed one
        anchor = datetime.combine(today + timedelta(weeks=k), time(12), tzinfo=tz)
        slot = weekly_slot(anchor, day, hhmm, timezone)
        if slot.at > now and cadence_allows(slot.week, last_sent_week, every_weeks):
            return slot
    return slot


def cadence_allows(week: str, last_sent_week: str | None, every_weeks: int) -> bool:
    """True when at least `every_weeks` weeks passed since the last digest sent."""
    return last_sent_week is None or weeks_between(last_sent_week, week) >= max(1, every_weeks)
