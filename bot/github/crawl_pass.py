"""Crawl passes: one crawl over the whole catalog, spread over as many runs as the budget needs.

A run opens the unfinished pass (or starts a new one), crawls only the repositories that pass
has not handled yet, and closes the run with where it stopped: how many are done, why it
stopped and when the budget resets (`resume_at`, when the scheduler runs the next part). Each
repository written by a run carries the pass id (`Repository.crawl_pass_id`), so a run killed
midway, or a new process after a restart, resumes with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.github.persist import Target
from bot.store.db import session_scope
from bot.store.models import CrawlPass, Repository


@dataclass
class PassProgress:
    """Where a pass stands after a run."""

    id: int
    done: int
    total: int
    resume_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.done >= self.total


def open_pass(engine: Engine, now: datetime, targets: list[Target]) -> tuple[int, list[Target]]:
    """The unfinished pass (or a new one) and the targets it has not handled yet."""
    with session_scope(engine) as session:
        row = session.exec(
            select(CrawlPass)
            .where(CrawlPass.finished_at.is_(None))  # type: ignore[union-attr]
            .order_by(CrawlPass.id.desc())  # type: ignore[union-attr]
        ).first()
        if row is None:
            row = CrawlPass(started_at=now)
        row.runs += 1
        row.repos_total = len(targets)
        session.add(row)
        session.flush()
        pass_id = int(row.id or 0)
    return pass_id, [t for t in targets if t.pass_id != pass_id]


def close_run(
    engine: Engine,
    pass_id: int,
    targets: list[Target],
    *,
    now: datetime,
    points: int,
    stopped: str | None,
    resume_at: datetime | None,
) -> PassProgress:
    """Record what this run left: done count, spent points; finish the pass when nothing of
    `targets` is left, else remember why it stopped and when to resume."""
    ids = {t.id for t in targets}
    with session_scope(engine) as session:
        handled = session.exec(
            select(Repository.id).where(Repository.crawl_pass_id == pass_id)
        ).all()
        done = len(ids.intersection(handled))
        row = session.get(CrawlPass, pass_id)
        progress = PassProgress(pass_id, done, len(ids))
        if row is None:
            return progress
        row.repos_done, row.points = done, row.points + points
        if progress.finished:
            row.finished_at, row.resume_at, row.stop_reason = now, None, None
        else:
            row.stopped_at, row.stop_reason = now, (stopped or "interrupted")[:500]
            row.resume_at = progress.resume_at = resume_at
        session.add(row)
    return progress


def pending_resume(engine: Engine) -> datetime | None:
    """When the unfinished pass can go on (its budget reset; None: no unfinished pass).

    A pass stopped for another reason than its budget, or whose run was killed, can go on at
    once (when it stopped or started)."""
    with session_scope(engine) as session:
        row = session.exec(
            select(CrawlPass)
            .where(CrawlPass.finished_at.is_(None))  # type: ignore[union-attr]
            .order_by(CrawlPass.id.desc())  # type: ignore[union-attr]
        ).first()
        if row is None:
            return None
        return row.resume_at or row.stopped_at or row.started_at
