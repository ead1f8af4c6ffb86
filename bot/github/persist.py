"""What the crawl reads from and writes to the store: targets, repository and issue rows, runs.

Writes are upserts keyed on natural keys; nothing is deleted. With `dry_run` every write is a
no-op so `matchmaker crawl --dry-run` shows what would change without changing anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.errors import InputError
from bot.store.db import session_scope
from bot.store.models import CrawlRun, Issue, ListEntry, Reporter, Repository
from bot.store.upsert import insert_for, with_defaults


class CrawlTargetError(InputError):
    """The requested repository is not in the catalog."""


@dataclass
class Target:
    """A repository to crawl, with what the last crawl stored about it."""

    id: int
    full_name: str
    beginner_labels: list[str] | None
    fingerprint: str | None
    full_crawled_at: datetime | None
    crawl_error: str | None
    etag: str | None = None
    rules_blobs: dict[str, str] | None = None  # path -> blob id the stored rules were read from
    rules: dict[str, Any] | None = None
    pass_id: int | None = None  # the crawl pass that last handled it


def load_targets(engine: Engine, repo: str | None = None) -> list[Target]:
    """Repositories named by an active list entry (or just `repo`, "owner/name")."""
    with session_scope(engine) as session:
        query = select(Repository)
        if repo is not None:
            query = query.where(func.lower(Repository.full_name) == repo.strip().lower())
        else:
            active = select(ListEntry.repository_id).where(
                ListEntry.active.is_(True),  # type: ignore[attr-defined]
                ListEntry.repository_id.is_not(None),  # type: ignore[union-attr]
            )
            query = query.where(Repository.id.in_(active))  # type: ignore[union-attr]
        rows = session.exec(query.order_by(Repository.full_name)).all()
        if repo is not None and not rows:
            raise CrawlTargetError(
                f"{repo} is not in the catalog; run `matchmaker catalog sync` (or add it to a list)"
            )
        return [
            Target(
                id=row.id or 0,
                full_name=row.full_name,
                beginner_labels=row.beginner_labels,
                fingerprint=row.crawl_fingerprint,
                full_crawled_at=row.full_crawled_at,
                crawl_error=row.crawl_error,
                etag=row.etag,
                rules_blobs=row.rules_blobs,
                rules=row.rules,
                pass_id=row.crawl_pass_id,
            )
            for row in rows
        ]


class CrawlStore:
    """Writes of one crawl run (no-ops when `dry_run`)."""

    def __init__(self, engine: Engine, *, dry_run: bool, pass_id: int | None = None) -> None:
        self.engine = engine
        self.dry_run = dry_run
        self.pass_id = pass_id  # every repository written is marked handled by this pass

    def open_issue_numbers(self, target: Target) -> dict[int, str]:
        """number -> node id of the issues stored as open for this repository."""
        with session_scope(self.engine) as session:
            rows = session.exec(
                select(Issue.number, Issue.node_id).where(
                    Issue.repository_id == target.id, Issue.state == "open"
                )
            ).all()
            return {number: node for number, node in rows}

    def stored_issue_times(self, target: Target) -> dict[int, datetime | None]:
        """number -> GitHub updated_at of every stored issue of this repository."""
        with session_scope(self.engine) as session:
            rows = session.exec(
                select(Issue.number, Issue.updated_at).where(Issue.repository_id == target.id)
            ).all()
            return {number: updated for number, updated in rows}

    def save_repo(self, target: Target, values: dict[str, Any]) -> None:
        if self.dry_run:
            return
        with session_scope(self.engine) as session:
            row = session.get(Repository, target.id)
            if row is None:
                return
            if values.get("node_id"):
                clash = session.exec(
                    select(Repository).where(
                        Repository.node_id == values["node_id"], Repository.id != target.id
                    )
                ).first()
                if clash is not None:  # a renamed repository listed twice: keep the first
                    values = {k: v for k, v in values.items() if k != "node_id"}
            for key, value in values.items():
                setattr(row, key, value)
            if self.pass_id is not None:
                row.crawl_pass_id = self.pass_id
            session.add(row)

    def save_issues(self, target: Target, issues: list[dict[str, Any]], now: datetime) -> None:
        """Upsert the crawled issues of one repository in one statement (keyed on node id)."""
        if self.dry_run or not issues:
            return
        with session_scope(self.engine) as session:
            stored = dict(
                session.exec(
                    select(Issue.number, Issue.node_id).where(Issue.repository_id == target.id)
                ).all()
            )
            for values in issues:  # same number, new node id: the old issue moved away
                old = stored.get(values["number"])
                if old is not None and old != values["node_id"]:
                    session.execute(
                        update(Issue)
                        .where(Issue.node_id == old)  # type: ignore[arg-type]
                        .values(number=-abs(values["number"]), state="gone")
                    )
            # Rows with the same keys go in one statement; keys a row lacks (details not
            # fetched this time) keep their stored values on conflict.
            groups: dict[frozenset[str], list[dict[str, Any]]] = {}
            for values in issues:
                row = {**values, "repository_id": target.id, "crawled_at": now}
                groups.setdefault(frozenset(row), []).append(row)
            for keys, rows in groups.items():
                statement = insert_for(session, Issue).values(
                    [with_defaults(Issue, row) for row in rows]
                )
                statement = statement.on_conflict_do_update(
                    index_elements=["node_id"],
                    set_={k: getattr(statement.excluded, k) for k in keys if k != "node_id"},
                )
                session.execute(statement)

    def update_issue(self, target: Target, number: int, values: dict[str, Any]) -> None:
        if self.dry_run:
            return
        with session_scope(self.engine) as session:
            row = session.exec(
                select(Issue).where(Issue.repository_id == target.id, Issue.number == number)
            ).first()
            if row is not None:
                for key, value in values.items():
                    setattr(row, key, value)
                session.add(row)

    def fresh_reporters(self, logins: set[str], since: datetime) -> set[str]:
        """Those of `logins` (lower-case) whose experience was fetched at or after `since`."""
        if not logins:
            return set()
        with session_scope(self.engine) as session:
            rows = session.exec(
                select(Reporter.login).where(
                    Reporter.login.in_(sorted(logins)),  # type: ignore[attr-defined]
                    Reporter.fetched_at >= since,
                )
            ).all()
            return set(rows)

    def save_reporters(self, rows: list[dict[str, Any]], now: datetime) -> None:
        """Upsert reporter rows keyed on login (one statement)."""
        if self.dry_run or not rows:
            return
        columns = ("is_user", "followers", "pull_requests", "issues", "commits", "repositories")
        values = [
            {"login": row["login"], "fetched_at": now, **{c: row.get(c) for c in columns}}
            for row in rows
        ]
        with session_scope(self.engine) as session:
            statement = insert_for(session, Reporter).values(values)
            statement = statement.on_conflict_do_update(
                index_elements=["login"],
                set_={k: getattr(statement.excluded, k) for k in (*columns, "fetched_at")},
            )
            session.execute(statement)

    def touch_repo(self, target: Target, now: datetime) -> None:
        """Record that an unchanged repository was checked at `now`."""
        self.touch_repos([target], now)

    def touch_repos(self, targets: list[Target], now: datetime) -> None:
        """Record that these unchanged repositories were checked at `now` (one statement)."""
        if self.dry_run or not targets:
            return
        values: dict[str, Any] = {"crawled_at": now, "crawl_error": None}
        if self.pass_id is not None:
            values["crawl_pass_id"] = self.pass_id
        ids = [t.id for t in targets]
        with session_scope(self.engine) as session:
            for start in range(0, len(ids), 500):  # bounded IN lists
                session.execute(
                    update(Repository)
                    .where(Repository.id.in_(ids[start : start + 500]))  # type: ignore[union-attr]
                    .values(**values)
                )

    def fail_repo(self, target: Target, reason: str, now: datetime) -> None:
        """Remember the failure (retried next run); keep everything stored."""
        self.save_repo(target, {"crawl_error": reason[:1000], "crawled_at": now})

    def mark_gone(self, target: Target, reason: str, now: datetime) -> None:
        """GitHub says the repository does not exist: keep its rows, mark it (since when, why).

        Its issues stop being offered; a later crawl that finds it again clears the mark.
        """
        if self.dry_run:
            return
        with session_scope(self.engine) as session:
            row = session.get(Repository, target.id)
            if row is None:
                return
            row.gone_at = row.gone_at or now
            row.gone_reason = reason[:500]
            row.crawl_error = None
            row.crawled_at = now
            if self.pass_id is not None:
                row.crawl_pass_id = self.pass_id
            session.add(row)

    # Runs --------------------------------------------------------------------------------------

    def start_run(self, mode: str, repos_total: int, now: datetime) -> int | None:
        if self.dry_run:
            return None
        with session_scope(self.engine) as session:
            for stale in session.exec(select(CrawlRun).where(CrawlRun.status == "running")):
                stale.status, stale.error = "failed", "interrupted (the process stopped)"
                session.add(stale)
            run = CrawlRun(mode=mode, repos_total=repos_total, started_at=now)
            session.add(run)
            session.flush()
            return run.id

    def finish_run(self, run_id: int | None, values: dict[str, Any]) -> None:
        if self.dry_run or run_id is None:
            return
        with session_scope(self.engine) as session:
            run = session.get(CrawlRun, run_id)
            if run is not None:
                for key, value in values.items():
                    setattr(run, key, value)
                session.add(run)
