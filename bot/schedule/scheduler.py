"""The APScheduler 3 wiring: three jobs with fixed ids, run only while this process leads.

- `crawl`: catalog sync + GitHub crawl on a `CronTrigger` with an explicit timezone (never
  `CronTrigger.from_crontab`, whose weekday numbers fire a day late in APScheduler 3);
- `digest_tick`: every `schedule.digest_tick_minutes`, sends digests whose local time has come
  (and runs once right after this process becomes leader, so a takeover catches up at once);
- `cleanup`: daily, expires ledger rows that were never sent within their window.

All jobs: `coalesce=True` (a paused process catches up once, not once per missed run),
`max_instances=1`, `misfire_grace_time=schedule.misfire_grace_seconds` (APScheduler's default
of 1 s would silently drop a run that is a little late), `replace_existing=True`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.schedule.leader import LeaderElector, LeaderLock, leader_lock_for

log = structlog.get_logger(__name__)

CRAWL_JOB, DIGEST_JOB, CLEANUP_JOB = "crawl", "digest_tick", "cleanup"


@dataclass
class Jobs:
    """The callables the scheduler runs (no arguments; exceptions are logged by APScheduler)."""

    crawl: Callable[[], object]
    digest_tick: Callable[[], object]
    cleanup: Callable[[], object]


def build_scheduler(
    settings: Settings, jobs: Jobs, *, run_digest_now: bool = True
) -> BackgroundScheduler:
    """A configured, not yet started BackgroundScheduler with the three jobs."""
    tz = ZoneInfo(settings.timezone)
    schedule = settings.schedule
    scheduler = BackgroundScheduler(
        timezone=tz,
        executors={"default": ThreadPoolExecutor(max_workers=3)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": schedule.misfire_grace_seconds,
        },
    )
    scheduler.add_job(
        jobs.crawl,
        CronTrigger(
            day_of_week=schedule.crawl_day_of_week,
            hour=schedule.crawl_hour,
            minute=schedule.crawl_minute,
            timezone=tz,
        ),
        id=CRAWL_JOB,
        name="catalog + GitHub crawl",
        replace_existing=True,
    )
    first_tick = {"next_run_time": datetime.now(tz)} if run_digest_now else {}
    scheduler.add_job(
        jobs.digest_tick,
        IntervalTrigger(minutes=schedule.digest_tick_minutes, timezone=tz),
        id=DIGEST_JOB,
        name="digest tick",
        replace_existing=True,
        **first_tick,
    )
    scheduler.add_job(
        jobs.cleanup,
        CronTrigger(hour=schedule.cleanup_hour, minute=30, timezone=tz),
        id=CLEANUP_JOB,
        name="ledger cleanup",
        replace_existing=True,
    )
    return scheduler


class SchedulerService:
    """Starts the scheduler when elected leader and shuts it down (waiting for running jobs)
    when deposed or stopped. `stop_event` tells running jobs to finish their current message."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        jobs: Jobs,
        *,
        lock: LeaderLock | None = None,
        stop_event: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self.jobs = jobs
        self.stop_event = stop_event or threading.Event()
        self.scheduler: BackgroundScheduler | None = None
        self.elector = LeaderElector(
            lock or leader_lock_for(engine),
            on_elected=self._start_scheduler,
            on_deposed=self._stop_scheduler,
            retry_seconds=settings.schedule.leader_retry_seconds,
        )

    @property
    def is_leader(self) -> bool:
        """True while this process runs the jobs."""
        return self.elector.is_leader

    def _start_scheduler(self) -> None:
        self.scheduler = build_scheduler(self.settings, self.jobs)
        self.scheduler.start()
        for job in self.scheduler.get_jobs():
            log.info("job_scheduled", job=job.id, next_run=str(job.next_run_time))

    def _stop_scheduler(self) -> None:
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=True)
            log.info("scheduler_stopped")

    def start(self) -> None:
        """Begin electing (in the background)."""
        self.elector.start()

    def stop(self) -> None:
        """Ask running jobs to stop after their current message, wait for them, unlock."""
        self.stop_event.set()
        self.elector.stop()
