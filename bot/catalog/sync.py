"""Store lists: ListSource, Repository (lower-case full name) and ListEntry rows.

Each list is fetched, parsed and stored on its own, in one transaction: a list that fails (fetch,
decode, parse or database error) records `last_error` and changes nothing else, and the other lists
are still processed. A re-crawl marks entries that disappeared inactive (history is kept) and adds
or re-activates the ones it finds. Entries flagged as the wrong link (their name does not match the
repository, which another entry names) are stored without a repository so they add no topics.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from bot.catalog.errors import CatalogError
from bot.catalog.fetch import Fetcher, ListFetcher, normalize_location
from bot.catalog.parse import parse_awesome_list
from bot.catalog.types import ParsedEntry, ParsedList
from bot.config import Settings
from bot.store.db import session_scope
from bot.store.models import ListEntry, ListSource, Repository, utcnow
from bot.store.upsert import upsert

log = structlog.get_logger(__name__)

UPDATED = "updated"
UNCHANGED = "unchanged"
FAILED = "failed"


@dataclass(slots=True)
class ListReport:
    """What happened to one list in one sync."""

    location: str
    status: str  # updated | unchanged | failed
    list_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    added: int = 0  # entries new to this list (or active again)
    updated: int = 0  # entries seen again
    deactivated: int = 0  # entries no longer in the list (kept, marked inactive)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True unless the list failed."""
        return self.status != FAILED

    def summary(self) -> str:
        """One line for logs and the CLI."""
        if self.status == FAILED:
            return f"{self.location}: failed: {self.error}"
        if self.status == UNCHANGED:
            return (
                f"{self.location}: unchanged since the last fetch (HTTP 304), "
                f"{self.counts.get('entries', 0)} entries"
            )
        c = self.counts
        text = (
            f"{self.location}: {c.get('entries', 0)} entries, {c.get('repositories', 0)} "
            f"repositories, {c.get('duplicates', 0)} duplicates, {c.get('not_crawlable', 0)} not "
            f"crawlable; {self.added} added, {self.deactivated} removed"
        )
        if c.get("uncounted_links"):
            text += (
                f"; {c['uncounted_links']} GitHub links in no entry (see `catalog show "
                "--list … --json`)"
            )
        return text


def configured_locations(session: Session, settings: Settings) -> list[str]:
    """Lists to sync: the config's lists plus lists added with `catalog add`, minus removed ones."""
    rows = session.exec(select(ListSource)).all()
    disabled = {row.url for row in rows if not row.enabled}
    out: list[str] = []
    for location in settings.catalog.lists:
        try:
            key = normalize_location(location)
        except CatalogError:
            key = location.strip()
        if key not in disabled and key not in out:
            out.append(key)
    for row in sorted(rows, key=lambda r: r.id or 0):
        if row.enabled and row.url not in out:
            out.append(row.url)
    return out


def sync_lists(
    engine: Engine,
    settings: Settings,
    *,
    fetcher: Fetcher | None = None,
    only: Sequence[str] | None = None,
) -> list[ListReport]:
    """Fetch, parse and store every configured list (or just `only`); one report per list."""
    with session_scope(engine) as session:
        locations = list(only) if only is not None else configured_locations(session, settings)
    own = fetcher is None
    active_fetcher: Fetcher = fetcher or ListFetcher(settings)
    try:
        return [_sync_one(engine, active_fetcher, location) for location in locations]
    finally:
        if own and isinstance(active_fetcher, ListFetcher):
            active_fetcher.close()


def _sync_one(engine: Engine, fetcher: Fetcher, location: str) -> ListReport:
    try:
        key = normalize_location(location)
    except CatalogError as exc:
        return ListReport(location, FAILED, error=str(exc))
    try:
        with session_scope(engine) as session:
            source = _source(session, key)
            list_id, etag, stored_counts = source.id, source.etag, dict(source.counts or {})
            has_entries = session.exec(
                select(ListEntry.id).where(ListEntry.list_id == list_id, ListEntry.active).limit(1)
            ).first()
    except SQLAlchemyError as exc:
        return ListReport(key, FAILED, error=f"database error: {_first_line(exc)}")
    report = ListReport(key, FAILED, list_id=list_id)
    try:
        fetched = fetcher.fetch(key, etag if has_entries else None)
        if fetched.not_modified:
            with session_scope(engine) as session:
                _touch(session, list_id, error=None)
            report.status, report.counts = UNCHANGED, stored_counts
            return report
        parsed = parse_awesome_list(fetched.text or "", key)
        with session_scope(engine) as session:
            store_parsed(session, list_id, parsed, etag=fetched.etag, report=report)
        report.status = UPDATED
    except CatalogError as exc:
        report.error = str(exc)
    except SQLAlchemyError as exc:
        report.error = f"database error: {_first_line(exc)}"
    except Exception as exc:  # a bug in one list's sync must not stop the others (logged)
        log.exception("catalog.sync.unexpected", location=key)
        report.error = f"internal error: {type(exc).__name__}: {_first_line(exc)}"
    if report.error is not None:
        log.warning("catalog.sync.failed", location=key, error=report.error)
        _record_error(engine, list_id, report.error)
    else:
        log.info("catalog.sync.done", location=key, **report.counts)
        if report.counts.get("uncounted_links"):
            log.warning(
                "catalog.sync.uncounted_links",
                location=key,
                links=report.counts["uncounted_links"],
                hint="GitHub links in no entry: `matchmaker catalog show --list … --json`",
            )
    return report


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _source(session: Session, key: str) -> ListSource:
    existing = session.exec(select(ListSource).where(ListSource.url == key)).first()
    if existing is not None:
        return existing
    return upsert(session, ListSource, {"url": key}, {})


def _touch(session: Session, list_id: int | None, *, error: str | None) -> None:
    source = session.get(ListSource, list_id)
    if source is not None:
        source.last_fetched_at = utcnow()
        source.last_error = error
        session.add(source)


def _record_error(engine: Engine, list_id: int | None, error: str) -> None:
    """Only `last_error` changes when a list fails; entries, ETag and repositories stay."""
    try:
        with session_scope(engine) as session:
            source = session.get(ListSource, list_id)
            if source is not None:
                source.last_error = error[:2000]
                session.add(source)
    except SQLAlchemyError:
        log.warning("catalog.sync.error_not_recorded", list_id=list_id)


def _repository_ids(session: Session, names: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(names))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.exec(
            select(Repository.full_name, Repository.id).where(col(Repository.full_name).in_(chunk))
        ).all()
        found.update({name: rid for name, rid in rows if rid is not None})
    for name in wanted:
        if name not in found:
            stored = upsert(session, Repository, {"full_name": name}, {})
            assert stored.id is not None
            found[name] = stored.id
    return found


def _entry_values(entry: ParsedEntry, repository_id: int | None) -> dict[str, Any]:
    return {
        "repository_id": repository_id,
        "name": entry.name[:500],
        "link_kind": entry.link_kind,
        "language": entry.language[:50] if entry.language else None,
        "topics": list(entry.topics),
        "description": entry.description,
        "warning": entry.warning,
    }


def store_parsed(
    session: Session,
    list_id: int | None,
    parsed: ParsedList,
    *,
    etag: str | None = None,
    report: ListReport | None = None,
    now: datetime | None = None,
) -> ListReport:
    """Write one parsed list: repositories, entries (added / seen / inactive), source counts."""
    now = now or utcnow()
    report = report or ListReport(parsed.source, UPDATED, list_id=list_id)
    source = session.get(ListSource, list_id) if list_id is not None else None
    if source is None or list_id is None:
        raise CatalogError(f"list {list_id} is not stored")
    crawlable = [e for e in parsed.entries if e.repo is not None and not e.wrong_link]
    repo_ids = _repository_ids(session, (e.repo for e in crawlable if e.repo))
    existing = {
        (row.url, row.section): row
        for row in session.exec(select(ListEntry).where(ListEntry.list_id == list_id)).all()
    }
    seen: set[tuple[str, str]] = set()
    for entry in parsed.entries:
        key = (entry.url[:2000], entry.section[:500])
        if key in seen:  # the same link twice in one section: one row
            continue
        seen.add(key)
        repo_id = repo_ids.get(entry.repo or "") if not entry.wrong_link else None
        values = _entry_values(entry, repo_id)
        row = existing.get(key)
        if row is None:
            row = ListEntry(list_id=list_id, url=key[0], section=key[1], **values)
            row.first_seen_at = now
            report.added += 1
        else:
            for name, value in values.items():
                setattr(row, name, value)
            if row.active:
                report.updated += 1
            else:
                report.added += 1
        row.active = True
        row.last_seen_at = now
        session.add(row)
    for key, row in existing.items():
        if key not in seen and row.active:
            row.active = False
            session.add(row)
            report.deactivated += 1
    counts = parsed.counts
    counts["stored_entries"] = len(seen)
    source.etag = etag
    source.last_fetched_at = now
    source.last_error = None
    source.counts = counts
    session.add(source)
    report.counts = counts
    return report


def deactivate_list(session: Session, key: str) -> int:
    """Disable a list (`catalog remove`) and mark its entries inactive; returns how many."""
    source = session.exec(select(ListSource).where(ListSource.url == key)).first()
    if source is None:
        raise CatalogError(f"no stored list {key!r}")
    source.enabled = False
    source.etag = None
    session.add(source)
    rows = session.exec(
        select(ListEntry).where(ListEntry.list_id == source.id, ListEntry.active)
    ).all()
    for row in rows:
        row.active = False
        session.add(row)
    return len(rows)


def catalog_repositories(session: Session) -> list[str]:
    """Full names of repositories named by at least one active entry of an enabled list."""
    rows = session.exec(
        select(Repository.full_name)
        .join(ListEntry, col(ListEntry.repository_id) == Repository.id)
        .join(ListSource, col(ListSource.id) == ListEntry.list_id)
        .where(ListEntry.active, ListSource.enabled)
        .distinct()
        .order_by(Repository.full_name)
    ).all()
    return list(rows)
