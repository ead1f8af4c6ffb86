"""Issue 16, finding 6: crawl and cleanup run once a day at local time across DST changes,
and a local time inside a DST gap or overlap is refused with a clear message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_settings
from bot.schedule.scheduler import CLEANUP_JOB, CRAWL_JOB, Jobs, SchedulerService, build_scheduler
from bot.schedule.triggers import ScheduleError


def jobs() -> Jobs:
    return Jobs(crawl=lambda: None, digest_tick=lambda: None, cleanup=lambda: None)


def fire_times(settings, job_id: str, start: datetime, count: int) -> list[datetime]:
    scheduler = build_scheduler(settings, jobs(), now=start)
    scheduler.start(paused=True)
    try:
        trigger = scheduler.get_job(job_id).trigger
    finally:
        scheduler.shutdown(wait=False)
    times, previous = [], None
    for _ in range(count):
        previous = trigger.get_next_fire_time(previous, previous or start)
        times.append(previous)
    return times


@pytest.mark.parametrize(
    ("zone", "spring_forward"),
    [("Europe/Berlin", datetime(2027, 3, 28)), ("America/New_York", datetime(2027, 3, 14))],
)
def test_a_0030_crawl_runs_every_day_around_spring_forward(zone, spring_forward):
    tz = ZoneInfo(zone)
    settings = load_settings(timezone=zone, schedule={"crawl_hour": 0, "crawl_minute": 30})
    start = (spring_forward - timedelta(days=2)).replace(hour=12, tzinfo=tz)
    times = fire_times(settings, CRAWL_JOB, start, 5)
    local = [t.astimezone(tz) for t in times]
    assert [t.strftime("%H:%M") for t in local] == ["00:30"] * 5
    days = [t.date() for t in local]
    assert days == [days[0] + timedelta(days=i) for i in range(5)]  # no day skipped


@pytest.mark.parametrize(
    ("zone", "fall_back"),
    [("Europe/Berlin", datetime(2026, 10, 25)), ("America/New_York", datetime(2026, 11, 1))],
)
def test_cleanup_runs_once_on_the_day_clocks_go_back(zone, fall_back):
    tz = ZoneInfo(zone)
    settings = load_settings(timezone=zone, schedule={"cleanup_hour": 4})
    start = (fall_back - timedelta(days=1)).replace(hour=12, tzinfo=tz)
    times = fire_times(settings, CLEANUP_JOB, start, 3)
    assert [t.astimezone(tz).strftime("%m-%d %H:%M") for t in times] == [
        (fall_back + timedelta(days=i)).strftime("%m-%d 04:30") for i in range(3)
    ]
    assert len({t.astimezone(UTC) for t in times}) == 3


@pytest.mark.parametrize(
    ("zone", "hour", "problem"),
    [
        ("Europe/Berlin", 2, "does not exist"),  # 02:30: skipped in March (and repeated in Oct)
        ("America/New_York", 1, "happens twice"),  # 01:30: repeated in November
    ],
)
def test_a_time_in_a_dst_gap_or_overlap_is_refused_clearly(zone, hour, problem):
    settings = load_settings(timezone=zone, schedule={"crawl_hour": hour, "crawl_minute": 30})
    with pytest.raises(ScheduleError) as caught:
        SchedulerService(settings, None, jobs(), lock=object())  # type: ignore[arg-type]
    message = str(caught.value)
    assert f"{hour:02d}:30 {zone}" in message and problem in message and "UTC" in message


def test_utc_and_times_outside_transitions_are_accepted():
    for zone, hour in (("UTC", 2), ("Europe/Berlin", 3), ("America/New_York", 3)):
        settings = load_settings(timezone=zone, schedule={"crawl_hour": hour})
        scheduler = build_scheduler(settings, jobs(), now=datetime(2026, 12, 1, tzinfo=UTC))
        assert len(scheduler.get_jobs()) >= 3, zone  # crawl, digest and cleanup are scheduled
