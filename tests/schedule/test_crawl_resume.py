"""The scheduler resumes a crawl pass that stopped before the hourly budget ran out: at the
budget's reset (the report's `resume_at`), and at start-up when the store has an unfinished
pass (a restarted process)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from bot.config import load_settings
from bot.schedule.scheduler import (
    CRAWL_JOB,
    CRAWL_RESUME_PREFIX,
    RESUME_MARGIN,
    Jobs,
    build_scheduler,
)

RESET = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@dataclass
class Report:
    resume_at: datetime | None


def resume_jobs(scheduler: BackgroundScheduler) -> list[datetime]:
    return [
        job.next_run_time.astimezone(UTC)
        for job in scheduler.get_jobs()
        if job.id.startswith(CRAWL_RESUME_PREFIX)
    ]


def run_resume(scheduler: BackgroundScheduler) -> None:
    """What APScheduler does with a due one-off job: removes it, then runs it."""
    (job,) = [j for j in scheduler.get_jobs() if j.id.startswith(CRAWL_RESUME_PREFIX)]
    scheduler.remove_job(job.id)
    job.func()


def scheduler_for(reports: list[Report], pending: datetime | None = None) -> BackgroundScheduler:
    jobs = Jobs(
        crawl=lambda: reports.pop(0),
        digest_tick=lambda: None,
        cleanup=lambda: None,
        crawl_resume_at=lambda: pending,
    )
    scheduler = build_scheduler(load_settings(), jobs, run_digest_now=False, now=RESET)
    scheduler.start(paused=True)
    return scheduler


def test_a_stopped_crawl_plans_one_resume_at_the_budget_reset_until_the_pass_is_done() -> None:
    later = RESET + timedelta(hours=1)
    scheduler = scheduler_for([Report(RESET), Report(later), Report(None)])
    try:
        assert resume_jobs(scheduler) == []
        scheduler.get_job(CRAWL_JOB).func()
        assert resume_jobs(scheduler) == [RESET + RESUME_MARGIN]
        run_resume(scheduler)  # the resumed part stops again: the next one replaces it
        assert resume_jobs(scheduler) == [later + RESUME_MARGIN]
        run_resume(scheduler)  # the pass is done: nothing more is planned
        assert resume_jobs(scheduler) == []
    finally:
        scheduler.shutdown(wait=False)


def test_a_restarted_process_resumes_an_unfinished_pass() -> None:
    scheduler = scheduler_for([], pending=RESET - timedelta(hours=5))
    try:
        assert resume_jobs(scheduler) == [RESET]  # overdue: at once (the scheduler's now)
    finally:
        scheduler.shutdown(wait=False)
    scheduler = scheduler_for([], pending=RESET + timedelta(minutes=20))
    try:
        assert resume_jobs(scheduler) == [RESET + timedelta(minutes=20)]
    finally:
        scheduler.shutdown(wait=False)
