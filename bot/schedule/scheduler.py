"""The APScheduler 3 wiring: three jobs with fixed ids, run only while this process leads.

- `crawl`: catalog sync + GitHub crawl at local HH:MM on the configured weekdays, with a
  `WallClockTrigger` (APScheduler 3's `CronTrigger` misfires around DST); a time inside a
  DST gap or overlap of `timezone` is refused with a `ScheduleError`;
- `crawl_resume:<time>`: a crawl that stopped before the hourly GitHub budget ran out goes on
  when the budget resets (its report's `resume_at`), and again, until its pass is done; a
  process that starts with an unfinished pass plans the resume from the store at once;
- `digest_tick`: every `schedule.digest_tick_minutes`, sends digests whose local time has come
  (and runs once right after this process becomes leader, so a takeover catches up at once);
- `cleanup`: daily at `cleanup_hour`:30 (same trigger), expires ledger rows never sent;
- `people`: daily at `people.job_hour`:15 UTC, buddy rounds (on their own cadence), follow-ups,
  pauses, mentor invitations, then delivers queued people messages;
- `holds`: every 30 minutes, claim holds end at expiry or when GitHub shows someone else took
  the issue, halfway nudges are queued once, then queued people messages are delivered.

Jobs get a stop signal that is set when the service stops *or* this process stops leading
(deposed, or its lease ran out while frozen): a running digest ends after the message in
flight, before another replica's scheduler can start.

All jobs: `coalesce=True` (a paused process catches up once, not once per missed run),
`max_instances=1`, `misfire_grace_time=schedule.misfire_grace_seconds` (APScheduler's default
of 1 s would silently drop a run that is a little late), `replace_existing=True`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeAlias
from zoneinfo import ZoneInfo

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.deliver.stop import LinkedStop
from bot.schedule.leader import LeaderElector, LeaderLock, leader_lock_for
from bot.schedule.triggers import WallClockTrigger, check_wall_time, weekdays

log = structlog.get_logger(__name__)

CRAWL_JOB, DIGEST_JOB, CLEANUP_JOB = "crawl", "digest_tick", "cleanup"
PEOPLE_JOB = "people"
HOLDS_JOB = "holds"
HOLDS_EVERY_MINUTES = 30  # a nudge or an expiry is at most this late
CRAWL_RESUME_PREFIX = "crawl_resume:"
RESUME_MARGIN = timedelta(seconds=30)  # after GitHub's reset time, for clock skew


@dataclass
class Jobs:
    """The callables the scheduler runs (no arguments; exceptions are logged by APScheduler)."""

    crawl: Callable[[], object]
    digest_tick: Callable[[], object]
    cleanup: Callable[[], object]
    people: Callable[[], object] | None = None  # mentors/buddies/follow-ups (daily, UTC)
    holds: Callable[[], object] | None = None  # claim holds: expiry, releases, nudges
    # when an unfinished crawl pass can go on (from the store), read once at scheduler start
    crawl_resume_at: Callable[[], datetime | None] | None = None


# The jobs, or a factory that builds them around the stop signal the service hands out.
JobsOrFactory: TypeAlias = "Jobs | Callable[[threading.Event], Jobs]"


def check_schedule(settings: Settings, now: datetime) -> None:
    """Refuse crawl/cleanup times in a DST gap or overlap of `timezone` (`ScheduleError`)."""
    tz = ZoneInfo(settings.timezone)
    schedule = settings.schedule
    today = now.astimezone(tz).date()
    check_wall_time("crawl", schedule.crawl_hour, schedule.crawl_minute, tz, today)
    check_wall_time("cleanup", schedule.cleanup_hour, 30, tz, today)


def build_scheduler(
    settings: Settings, jobs: Jobs, *, run_digest_now: bool = True, now: datetime | None = None
) -> BackgroundScheduler:
    """A configured, not yet started BackgroundScheduler with the three jobs."""
    tz = ZoneInfo(settings.timezone)
    schedule = settings.schedule
    now = now or datetime.now(tz)
    check_schedule(settings, now)
    scheduler = BackgroundScheduler(
        timezone=tz,
        executors={"default": ThreadPoolExecutor(max_workers=3)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": schedule.misfire_grace_seconds,
        },
    )
    crawl = CrawlResumer(scheduler, jobs.crawl)
    scheduler.add_job(
        crawl,
        WallClockTrigger(
            schedule.crawl_hour, schedule.crawl_minute, tz, weekdays(schedule.crawl_day_of_week)
        ),
        id=CRAWL_JOB,
        name="catalog + GitHub crawl",
        replace_existing=True,
    )
    pending = jobs.crawl_resume_at() if jobs.crawl_resume_at else None
    if pending is not None:
        crawl.plan(max(pending, now))
    first_tick = {"next_run_time": now} if run_digest_now else {}
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
        WallClockTrigger(schedule.cleanup_hour, 30, tz, weekdays("*")),
        id=CLEANUP_JOB,
        name="ledger cleanup",
        replace_existing=True,
    )
    if jobs.people is not None:
        scheduler.add_job(
            jobs.people,
            WallClockTrigger(settings.people.job_hour, 15, ZoneInfo("UTC"), weekdays("*")),
            id=PEOPLE_JOB,
            name="people: buddy rounds, follow-ups, intros",
            replace_existing=True,
        )
    if jobs.holds is not None:
        scheduler.add_job(
            jobs.holds,
            IntervalTrigger(minutes=HOLDS_EVERY_MINUTES, timezone=tz),
            id=HOLDS_JOB,
            name="claim holds: expiry, releases, halfway nudges",
            replace_existing=True,
        )
    return scheduler


class CrawlResumer:
    """The crawl job: runs the crawl, then plans a one-off resume at the report's `resume_at`
    (a crawl pass stopped by its budget), replacing any resume planned before."""

    def __init__(self, scheduler: BackgroundScheduler, crawl: Callable[[], object]) -> None:
        self.scheduler = scheduler
        self.crawl = crawl

    def __call__(self) -> object:
        report = self.crawl()
        at = getattr(report, "resume_at", None)
        if isinstance(at, datetime):
            self.plan(at + RESUME_MARGIN)
        return report

    def plan(self, at: datetime) -> str:
        """Schedule the resume at `at` (its job id names the time, so the scheduler removing
        the resume job that just ran never removes the next one)."""
        for job in self.scheduler.get_jobs():
            if job.id.startswith(CRAWL_RESUME_PREFIX):
                # the one that just ran may be gone already (removed by the scheduler)
                with contextlib.suppress(JobLookupError):
                    self.scheduler.remove_job(job.id)
        job_id = f"{CRAWL_RESUME_PREFIX}{at.isoformat()}"
        self.scheduler.add_job(
            self, DateTrigger(run_date=at), id=job_id, name="resume the crawl pass"
        )
        log.info("crawl_resume_planned", at=str(at))
        return job_id


class SchedulerService:
    """Starts the scheduler when elected leader and shuts it down (waiting for running jobs)
    when deposed or stopped.

    `job_stop` is the jobs' stop signal: set by `stop()` (service shutdown, `stop_event`) and
    whenever this process is not leading on a valid lease. Pass `jobs` as a factory
    (`lambda stop: Jobs(...)`) to hand it to them. Crawl/cleanup times are checked at once:
    a time in a DST gap or overlap raises `ScheduleError` here, not at election time.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        jobs: JobsOrFactory,
        *,
        lock: LeaderLock | None = None,
        stop_event: threading.Event | None = None,
    ) -> None:
        check_schedule(settings, datetime.now(ZoneInfo(settings.timezone)))
        self.settings = settings
        self.stop_event = stop_event or threading.Event()
        self.scheduler: BackgroundScheduler | None = None
        schedule = settings.schedule
        self.elector = LeaderElector(
            lock or leader_lock_for(engine, lease_seconds=schedule.leader_lease_seconds),
            on_elected=self._start_scheduler,
            on_deposed=self._stop_scheduler,
            retry_seconds=schedule.leader_retry_seconds,
        )
        self.job_stop = LinkedStop(self.stop_event, self.elector)
        self.jobs = jobs(self.job_stop) if callable(jobs) else jobs

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
        # The elector has already cleared leadership, so `job_stop` reads as set: a running
        # digest finishes its message in flight and returns; shutdown waits for that.
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=True)
            log.info("scheduler_stopped", running_jobs_stopped=self.job_stop.is_set())

    def start(self) -> None:
        """Begin electing (in the background)."""
        self.elector.start()

    def stop(self) -> None:
        """Ask running jobs to stop after their current message, wait for them, unlock."""
        self.stop_event.set()
        self.elector.stop()
