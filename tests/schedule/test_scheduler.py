"""The APScheduler wiring: fixed job ids, weekday crons in local time, one catch-up run."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import apscheduler.executors.base
import apscheduler.schedulers.base
import apscheduler.triggers.interval
import pytest

import bot.schedule.scheduler as scheduler_module
from bot.config import load_settings
from bot.schedule.leader import FileLeaderLock
from bot.schedule.scheduler import (
    CLEANUP_JOB,
    CRAWL_JOB,
    DIGEST_JOB,
    Jobs,
    SchedulerService,
    build_scheduler,
)


class Recorder:
    """Job bodies that count their runs."""

    def __init__(self) -> None:
        self.runs: dict[str, int] = {CRAWL_JOB: 0, DIGEST_JOB: 0, CLEANUP_JOB: 0}
        self.changed = threading.Condition()

    def job(self, name: str):
        def body() -> None:
            with self.changed:
                self.runs[name] += 1
                self.changed.notify_all()

        return body

    def jobs(self) -> Jobs:
        return Jobs(self.job(CRAWL_JOB), self.job(DIGEST_JOB), self.job(CLEANUP_JOB))

    def wait_for(self, name: str, count: int, timeout: float = 5.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.runs[name] >= count, timeout)


class Clock:
    """A controllable "now" for APScheduler (patched into the modules that read the time)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        clock = self

        class FrozenDateTime(datetime):
            @classmethod
            def now(cls, tz=None):  # type: ignore[override]
                return clock.now.astimezone(tz) if tz else clock.now.replace(tzinfo=None)

        for module in (
            apscheduler.schedulers.base,
            apscheduler.executors.base,
            apscheduler.triggers.interval,
            scheduler_module,
        ):
            monkeypatch.setattr(module, "datetime", FrozenDateTime)


def test_jobs_have_fixed_ids_and_catch_up_defaults():
    settings = load_settings(timezone="Europe/Berlin")
    scheduler = build_scheduler(settings, Recorder().jobs())
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {CRAWL_JOB, DIGEST_JOB, CLEANUP_JOB}
        for job in jobs.values():
            assert job.coalesce is True and job.max_instances == 1
            assert job.misfire_grace_time >= 3 * 3600
        # adding a job again under its id replaces it instead of duplicating it
        scheduler.add_job(lambda: None, "interval", minutes=1, id=DIGEST_JOB, replace_existing=True)
        assert len(scheduler.get_jobs()) == 3
    finally:
        scheduler.shutdown(wait=False)


def test_weekday_crawl_fires_on_that_weekday_at_local_time():
    settings = load_settings(
        timezone="America/New_York",
        schedule={"crawl_day_of_week": "mon", "crawl_hour": 9, "crawl_minute": 0},
    )
    scheduler = build_scheduler(settings, Recorder().jobs())
    scheduler.start(paused=True)
    try:
        trigger = scheduler.get_job(CRAWL_JOB).trigger
        # Sunday Nov 1 2026, the day US clocks fall back
        after = datetime(2026, 11, 1, 12, 0, tzinfo=ZoneInfo("America/New_York"))
        fire = trigger.get_next_fire_time(None, after)
        assert fire.strftime("%a %H:%M") == "Mon 09:00"
        assert fire.astimezone(UTC) == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
    finally:
        scheduler.shutdown(wait=False)


def test_three_hour_pause_gives_one_catch_up_run(monkeypatch):
    """A process asleep from 02:00 to 05:30 runs the 03:00 crawl, the 04:30 cleanup and the
    digest tick once each (coalesced), not once per missed run."""
    clock = Clock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    clock.install(monkeypatch)
    settings = load_settings(schedule={"crawl_hour": 3, "digest_tick_minutes": 5})
    recorder = Recorder()
    scheduler = build_scheduler(settings, recorder.jobs())
    scheduler.start()
    try:
        assert recorder.wait_for(DIGEST_JOB, 1)  # the tick right after start
        time.sleep(0.2)
        assert recorder.runs == {CRAWL_JOB: 0, DIGEST_JOB: 1, CLEANUP_JOB: 0}
        clock.now += timedelta(hours=3, minutes=30)  # 42 ticks and the crawl were missed
        scheduler.wakeup()
        assert recorder.wait_for(CRAWL_JOB, 1) and recorder.wait_for(DIGEST_JOB, 2)
        assert recorder.wait_for(CLEANUP_JOB, 1)
        time.sleep(0.5)
        assert recorder.runs == {CRAWL_JOB: 1, DIGEST_JOB: 2, CLEANUP_JOB: 1}
        # the schedule goes on normally from the new "now"
        assert scheduler.get_job(CRAWL_JOB).next_run_time.astimezone(UTC) == datetime(
            2026, 11, 24, 3, 0, tzinfo=UTC
        )
        clock.now += timedelta(minutes=5)
        scheduler.wakeup()
        assert recorder.wait_for(DIGEST_JOB, 3)
    finally:
        scheduler.shutdown(wait=True)


def test_service_runs_jobs_only_while_leader_and_stops_cleanly(tmp_path):
    settings = load_settings(schedule={"leader_retry_seconds": 0.05})
    first, second = Recorder(), Recorder()
    lock_path = tmp_path / "matchmaker.db.scheduler.lock"
    leader = SchedulerService(settings, None, first.jobs(), lock=FileLeaderLock(lock_path))  # type: ignore[arg-type]
    follower = SchedulerService(settings, None, second.jobs(), lock=FileLeaderLock(lock_path))  # type: ignore[arg-type]
    leader.start()
    assert leader.elector.wait_until_leader(5)
    follower.start()
    assert first.wait_for(DIGEST_JOB, 1)
    time.sleep(0.3)
    assert not follower.is_leader and second.runs[DIGEST_JOB] == 0
    leader.stop()
    assert leader.scheduler is None
    assert follower.elector.wait_until_leader(5)  # takes over once the lock is free
    assert second.wait_for(DIGEST_JOB, 1)
    follower.stop()


def test_second_sqlite_process_is_refused_with_the_holder_named(tmp_path):
    path = tmp_path / "matchmaker.db.scheduler.lock"
    first, second = FileLeaderLock(path), FileLeaderLock(path)
    assert first.try_acquire()
    assert not second.try_acquire()
    assert "pid" in second.holder()
    first.release()
    assert second.try_acquire()
    second.release()
