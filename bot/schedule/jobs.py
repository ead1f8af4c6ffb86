"""The scheduled jobs' bodies: crawl, digest tick, cleanup, people, holds (APScheduler logs
errors).

Crawl and digest run inside `bot.logs.run_context`, so every log line carries their run id.
`serve` runs the crawl job in a spawned child process (`crawl_job_in_child`): the crawl's
modules (PyGithub for the stack inferences, the crawler, the list parser) and its peak heap
never stay in the idle serving process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import multiprocessing
import threading
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.deliver import ledger
from bot.deliver.digest import DigestReport, run_digest
from bot.deliver.intros import (
    DeliverReport,
    GroupOpener,
    console_group_opener,
    deliver_pending,
    slack_group_opener,
)
from bot.deliver.senders import Sender
from bot.logs import configure_logging, run_context
from bot.schedule.crawl_lock import CrawlRunning, exclusive_crawl
from bot.schedule.scheduler import Jobs
from bot.store.db import make_engine, session_scope

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from bot.github.report import CrawlReport

log = structlog.get_logger(__name__)


def crawl_job(
    engine: Engine, settings: Settings, *, now: datetime | None = None
) -> CrawlReport | None:
    """Sync the awesome lists, crawl GitHub, score the crawled issues' approachability, then
    refresh the members' stale GitHub-inferred stacks.

    All run under one `run_context("crawl")`, so their log lines share a run id. Scores
    are refreshed unless the crawl failed outright, so the first `/matchmaker picks` after a
    crawl does not pay for scoring. Inferred stacks older than `match.inference_cache_days` are
    read again here (a bounded batch per run); nothing else calls GitHub for them. Skipped
    (None) while another crawl runs.
    """
    from bot.catalog.sync import sync_lists
    from bot.github.crawl import crawl

    now = now or datetime.now(UTC)  # the job's one clock reading
    try:
        with run_context("crawl"), exclusive_crawl(engine):
            sync_lists(engine, settings)
            report = crawl(engine, settings, now=now)
            if report.status != "failed":
                try:
                    refresh_approachability(engine, settings, now=now)
                except Exception as exc:  # scores are refreshed again when picks are ranked
                    log.warning("approachability_refresh_failed", error=str(exc)[:200])
            refresh_inferences(engine, settings, now=now)
            if report.status != "failed":
                release_taken_holds(engine, settings, now=now)
            return report
    except CrawlRunning as busy:
        log.info("crawl_skipped", reason="another crawl is running", since=str(busy.since))
        return None
    finally:
        release_memory()


def crawl_job_in_child(
    engine: Engine, settings: Settings, *, now: datetime | None = None
) -> CrawlReport | None:
    """`crawl_job` in a spawned child process (threads are running here, so no fork); returns
    its report (None when the child died or another crawl was running)."""
    now = now or datetime.now(UTC)  # the job's one clock reading
    spawn = multiprocessing.get_context("spawn")
    receive, send = spawn.Pipe(duplex=False)
    url = engine.url.render_as_string(hide_password=False)
    child = spawn.Process(target=_crawl_child, args=(url, settings, now, send), name="crawl")
    child.start()
    send.close()
    try:
        report: CrawlReport | None = receive.recv()
    except EOFError:  # killed, or crashed hard: the crawl pass resumes next time
        report = None
    child.join()
    if child.exitcode:
        log.error("crawl_process_failed", exit_code=child.exitcode)
    return report


def _crawl_child(url: str, settings: Settings, now: datetime, send: Connection) -> None:
    """The child's side of `crawl_job_in_child`."""
    configure_logging(settings)
    engine = make_engine(url)
    try:
        send.send(crawl_job(engine, settings, now=now))
    finally:
        send.close()
        engine.dispose()


def refresh_approachability(
    engine: Engine, settings: Settings, *, now: datetime | None = None
) -> int:
    """Score the eligible open issues whose cached approachability is older than their crawl.

    Uses the same selection as the ranker (`bot.match.recommend.rank_profiles`), so ranking
    right afterwards finds nothing left to score. Returns how many issues were scored.
    """
    from bot.match import approachability_adapter
    from bot.match.eligibility import issue_reason_codes
    from bot.match.issues import load_issue_table
    from bot.match.taxonomy import get_taxonomy
    from bot.match.terms import TermSpace

    now = now or datetime.now(UTC)
    with session_scope(engine) as session:
        table = load_issue_table(session, settings, TermSpace(get_taxonomy()))
        eligible = issue_reason_codes(table, settings, now) == 0
        scored = approachability_adapter.refresh(session, table, eligible, now)
    log.info("approachability_refreshed", issues=scored)
    return scored


def refresh_inferences(engine: Engine, settings: Settings, *, now: datetime) -> int:
    """Re-read the public repositories of members whose inferred stack is missing or stale.

    A GitHub failure for one member is stored on that member (and shown on their Home tab);
    it never stops the others. Returns how many members were refreshed.
    """
    from bot.match.profile import refresh_stale_inferences

    with session_scope(engine) as session:
        refreshed = refresh_stale_inferences(session, settings, now=now)
    if refreshed:
        log.info("github_inferences_refreshed", members=refreshed)
    return refreshed


def release_taken_holds(engine: Engine, settings: Settings, *, now: datetime) -> int:
    """Release the claim holds whose issue the crawl shows taken by someone else (never fails
    the crawl: the holds job tries again)."""
    from bot.deliver.holds import release_taken

    try:
        return release_taken(engine, settings, now)
    except Exception as exc:  # never fails the crawl: the holds job tries again (logged)
        log.warning("hold_release_failed", error=str(exc)[:200])
        return 0


def holds_job(
    engine: Engine,
    settings: Settings,
    sender: Sender,
    opener: GroupOpener | None = None,
    *,
    now: datetime | None = None,
) -> DeliverReport:
    """Claim holds, every `HOLDS_EVERY_MINUTES`: expired holds end silently, holds GitHub shows
    taken by someone else end, halfway nudges are queued once, then the people ledger (which
    carries the nudges) is delivered."""
    from bot.deliver.holds import queue_nudges, release_expired, release_taken

    now = now or datetime.now(UTC)  # the job's one clock reading
    if opener is None:
        client = getattr(sender, "client", None)
        opener = slack_group_opener(client) if client is not None else console_group_opener
    with run_context("holds"):
        with session_scope(engine) as session:
            expired = release_expired(session, now)
        taken = release_taken(engine, settings, now)
        with session_scope(engine) as session:
            nudges = queue_nudges(session, settings, now)
        if expired or taken or nudges:
            log.info("holds_pass", expired=expired, taken=taken, nudges=nudges)
        lease = timedelta(seconds=settings.people.lease_seconds)
        return deliver_pending(engine, sender, opener, now=now, lease=lease)


def digest_job(
    engine: Engine, settings: Settings, sender: Sender, stop: threading.Event
) -> DigestReport | None:
    """One digest tick at the current time; stops after the message in flight on `stop`."""
    if stop.is_set():
        return None
    try:
        with run_context("digest"):
            return run_digest(engine, settings, sender, now=datetime.now(UTC), stop=stop)
    finally:
        release_memory()


@cache
def _malloc_trim() -> object | None:
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


def release_memory() -> None:
    """Hand the heap freed by a big job back to the OS (glibc `malloc_trim`; else just gc).

    Without it the idle process keeps the crawl's and digest's peak heap resident for a week.
    """
    gc.collect()
    trim = _malloc_trim()
    if callable(trim):
        trim(0)


def cleanup_job(engine: Engine, now: datetime | None = None) -> int:
    """Expire ledger rows that were not sent within their window (kept, never deleted)."""
    now = now or datetime.now(UTC)
    with session_scope(engine) as session:
        expired = ledger.expire_old(session, now)
    if expired:
        log.info("ledger_rows_expired", count=expired)
    return expired


def people_job(
    engine: Engine,
    settings: Settings,
    sender: Sender,
    opener: GroupOpener | None = None,
    *,
    now: datetime | None = None,
) -> DeliverReport:
    """The daily people pass (offers lapse, mentor invitations, buddy rounds when due,
    follow-ups, pauses, merge celebrations), then every queued people message is delivered
    once."""
    from bot.people.run import run_pass

    now = now or datetime.now(UTC)  # the job's one clock reading
    if opener is None:
        client = getattr(sender, "client", None)
        opener = slack_group_opener(client) if client is not None else console_group_opener
    with run_context("people"):
        report = run_pass(engine, settings, now)
        log.info(
            "people_pass",
            teams=report.teams,
            buddy_intros=report.buddy_intros,
            followups=report.followups,
            paused=len(report.paused),
            invitations=report.invitations,
            celebrations=report.celebrations,
        )
        lease = timedelta(seconds=settings.people.lease_seconds)
        return deliver_pending(engine, sender, opener, now=now, lease=lease)


def default_jobs(engine: Engine, settings: Settings, sender: Sender, stop: threading.Event) -> Jobs:
    """The production jobs bound to this engine, settings and sender."""
    return Jobs(
        crawl=lambda: crawl_job_in_child(engine, settings),
        digest_tick=lambda: digest_job(engine, settings, sender, stop),
        cleanup=lambda: cleanup_job(engine),
        people=lambda: people_job(engine, settings, sender),
        holds=lambda: holds_job(engine, settings, sender),
        crawl_resume_at=lambda: crawl_resume_at(engine),
    )


def crawl_resume_at(engine: Engine) -> datetime | None:
    """When the unfinished crawl pass can go on (None: none is unfinished)."""
    from bot.github.crawl_pass import pending_resume

    return pending_resume(engine)
