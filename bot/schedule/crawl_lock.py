"""One crawl at a time across threads, processes and replicas.

PostgreSQL: a session-level advisory lock ("crawl", beside the scheduler's leader lock);
SQLite: an `flock` on a file beside the database. The holder records when it started, so a
second request can say since when a crawl has been running.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.schedule.leader import FileLeaderLock, PostgresLeaderLock, sqlite_lock_path
from bot.store.models import CrawlRun


class CrawlRunning(Exception):
    """Another crawl holds the lock; `since` is when it started (None when unknown)."""

    def __init__(self, since: datetime | None) -> None:
        super().__init__("a crawl is already running")
        self.since = since


def _lock(engine: Engine) -> FileLeaderLock | PostgresLeaderLock:
    if engine.dialect.name == "postgresql":
        return PostgresLeaderLock(engine.url.render_as_string(hide_password=False), name="crawl")
    return FileLeaderLock(sqlite_lock_path(engine, "crawl"))


def running_since(engine: Engine) -> datetime | None:
    """When the crawl that is running now started (its `crawl_run` row), if known."""
    with Session(engine) as session:
        row = session.exec(
            select(CrawlRun)
            .where(CrawlRun.status == "running")
            .order_by(col(CrawlRun.started_at).desc())
        ).first()
        return row.started_at if row is not None else None


@contextlib.contextmanager
def exclusive_crawl(engine: Engine) -> Iterator[None]:
    """Hold the crawl lock for the block; raises `CrawlRunning` when another crawl has it."""
    lock = _lock(engine)
    if not lock.try_acquire():
        raise CrawlRunning(running_since(engine))
    try:
        yield
    finally:
        lock.release()
