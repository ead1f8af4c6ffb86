"""The scheduled jobs' bodies: crawl, digest tick, cleanup (each catches and logs its errors)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import structlog
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.deliver import ledger
from bot.deliver.digest import DigestReport, run_digest
from bot.deliver.senders import Sender
from bot.logs import run_context
from bot.schedule.scheduler import Jobs
from bot.store.db import session_scope

log = structlog.get_logger(__name__)


def crawl_job(engine: Engine, settings: Settings) -> None:
    """Sync the awesome lists, then crawl GitHub (stages imported late; absent ones skipped)."""
    try:
        from bot.catalog.sync import sync_lists  # type: ignore[import-not-found]
    except ImportError:
        log.warning("crawl_skipped", stage="catalog", reason="bot.catalog.sync not present")
    else:
        with run_context("crawl"):
            sync_lists(engine, settings)
    try:
        from bot.github.crawl import crawl  # type: ignore[import-not-found]
    except ImportError:
        log.warning("crawl_skipped", stage="github", reason="bot.github.crawl not present")
        return
    with run_context("crawl"):
        crawl(engine, settings)


def digest_job(
    engine: Engine, settings: Settings, sender: Sender, stop: threading.Event
) -> DigestReport | None:
    """One digest tick at the current time; stops after the message in flight on `stop`."""
    if stop.is_set():
        return None
    with run_context("digest"):
        return run_digest(engine, settings, sender, now=datetime.now(UTC), stop=stop)


def cleanup_job(engine: Engine, now: datetime | None = None) -> int:
    """Expire ledger rows that were not sent within their window (kept, never deleted)."""
    now = now or datetime.now(UTC)
    with session_scope(engine) as session:
        expired = ledger.expire_old(session, now)
    if expired:
        log.info("ledger_rows_expired", count=expired)
    return expired


def default_jobs(engine: Engine, settings: Settings, sender: Sender, stop: threading.Event) -> Jobs:
    """The production jobs bound to this engine, settings and sender."""
    return Jobs(
        crawl=lambda: crawl_job(engine, settings),
        digest_tick=lambda: digest_job(engine, settings, sender, stop),
        cleanup=lambda: cleanup_job(engine),
    )
