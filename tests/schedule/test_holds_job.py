"""The scheduler's holds job: fixed id, every 30 minutes, replace_existing; `now` passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.config import load_settings
from bot.schedule.jobs import default_jobs
from bot.schedule.scheduler import HOLDS_EVERY_MINUTES, HOLDS_JOB, Jobs, build_scheduler


def test_the_holds_job_runs_every_half_hour_under_a_fixed_id():
    noop = lambda: None  # noqa: E731
    settings = load_settings(timezone="Europe/Berlin")
    scheduler = build_scheduler(settings, Jobs(noop, noop, noop, holds=noop))
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job(HOLDS_JOB)
        start = datetime(2026, 3, 29, 0, 50, tzinfo=UTC)  # across a European DST change
        first = job.trigger.get_next_fire_time(None, start)
        second = job.trigger.get_next_fire_time(first, first + timedelta(seconds=1))
        assert second - first == timedelta(minutes=HOLDS_EVERY_MINUTES) == timedelta(minutes=30)
        scheduler.add_job(noop, "interval", minutes=1, id=HOLDS_JOB, replace_existing=True)
        assert [j.id for j in scheduler.get_jobs()].count(HOLDS_JOB) == 1
    finally:
        scheduler.shutdown(wait=False)


def test_the_production_jobs_include_holds_and_without_it_nothing_is_scheduled():
    noop = lambda: None  # noqa: E731
    assert build_scheduler(load_settings(), Jobs(noop, noop, noop)).get_job(HOLDS_JOB) is None
    jobs = default_jobs(None, load_settings(), None, None)  # type: ignore[arg-type]
    assert callable(jobs.holds)
