"""Generations of the ranker's inputs: stored counters that every writing transaction bumps.

The picks path keeps its inputs (issue table, repository terms, model scores, per-workspace
reports) in memory (`bot.match.inputs`); it reuses them while the counters read here are the
ones it loaded them at. The counters live in the database, so a crawl in another process or
replica invalidates this process's copy too.

Nobody has to remember to call `invalidate`: `watch_writes()` (done by `make_engine`) makes
every ORM session bump the counters itself, in the same transaction as its write, when it
inserts, updates or deletes rows of the watched tables (ORM flushes and `session.execute` of
insert/update/delete statements alike). A session with such writes not yet committed sees them
only itself, so `has_pending_writes` tells the ranker to read around the cache for it.
Writers that bypass ORM sessions (Core `engine.begin()`) call `invalidate` themselves; a
statement with `.execution_options(rank_generation=False)` is not counted (derived data).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, UOWTransaction
from sqlmodel import col

from bot.store.models import Issue, ListEntry, RankGeneration, Repository, TakenReport
from bot.store.upsert import insert_for

ISSUES = "issues"  # issue, repository and list-entry rows: the issue table and repository terms
REPORTS = "reports"  # "already taken" reports: which issues a workspace no longer sees
SCOPES = (ISSUES, REPORTS)

WATCHED: dict[str, str] = {
    Issue.__tablename__: ISSUES,
    Repository.__tablename__: ISSUES,
    ListEntry.__tablename__: ISSUES,
    TakenReport.__tablename__: REPORTS,
}
_PENDING = "rank_generation_pending"  # Session.info key: scopes written in the open transaction

Generation = tuple[int, ...]  # the counters, in SCOPES order


def generation(session: Any) -> Generation:
    """The current counters (one indexed read; 0 for a scope never bumped)."""
    rows = dict(session.execute(select(col(RankGeneration.name), col(RankGeneration.value))).all())
    return tuple(int(rows.get(scope, 0)) for scope in SCOPES)


def invalidate(session: Any, scopes: Iterable[str] = SCOPES) -> None:
    """Bump the counters of `scopes` in the session's transaction (visible once it commits)."""
    for scope in sorted(set(scopes)):
        statement = insert_for(session, RankGeneration).values(name=scope, value=1)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["name"], set_={"value": RankGeneration.value + 1}
            )
        )


def has_pending_writes(session: Any, scope: str | None = None) -> bool:
    """Whether the session wrote watched rows (of `scope`, or any) it has not committed yet."""
    pending = session.info.get(_PENDING) or set()
    return bool(pending) if scope is None else scope in pending


def _mark(session: Session, scopes: Iterable[str]) -> None:
    session.info.setdefault(_PENDING, set()).update(scopes)


def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    written = {
        WATCHED[table]
        for obj in (*session.new, *session.dirty, *session.deleted)
        if (table := getattr(obj, "__tablename__", None)) in WATCHED
    }
    if written:
        _mark(session, written)


def _do_orm_execute(state: Any) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    if not state.execution_options.get("rank_generation", True):
        return  # a derived cache of the inputs (e.g. stored model scores), not a change
    table = getattr(state.statement, "table", None)
    scope = WATCHED.get(getattr(table, "name", ""))
    if scope is not None:
        _mark(state.session, [scope])


def _before_commit(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()  # commit would flush after this hook: mark what that flush writes now
    pending = session.info.pop(_PENDING, None)
    if pending:
        invalidate(session, pending)


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_PENDING, None)


def watch_writes() -> None:
    """Make every ORM session bump the counters of what it writes (idempotent)."""
    for name, listener in (
        ("after_flush", _after_flush),
        ("do_orm_execute", _do_orm_execute),
        ("before_commit", _before_commit),
        ("after_commit", _forget),
        ("after_rollback", _forget),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
