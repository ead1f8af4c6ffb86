"""Storing lists (SQLite and PostgreSQL): counts, re-crawls, failures that change nothing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.catalog.errors import CatalogError
from bot.catalog.fetch import FetchResult
from bot.catalog.sync import catalog_repositories, deactivate_list, sync_lists
from bot.config import Settings, load_settings
from bot.fakes.github import FakeGitHub, World
from bot.store.models import ListEntry, ListSource, Repository
from tests.conftest import shared_data

SAMPLES = Path(__file__).parent / "samples"
LIST_V1 = """# Awesome KV

## Databases

- (Go) [kvstore - A key-value store](https://github.com/acme/kvstore)
- (Rust) [logdb - A log database](https://github.com/acme/logdb)

### Key-Value Databases

- [Cachey](https://github.com/Acme/Cachey) - A cache.
"""
LIST_V2 = LIST_V1.replace(
    "- (Rust) [logdb - A log database](https://github.com/acme/logdb)\n",
    "- (Python) [newdb - A new database](https://github.com/acme/newdb)\n",
)


def _settings(*lists: str, **extra: Any) -> Settings:
    return load_settings(catalog={"lists": list(lists)}, **extra)


def _entries(engine: Engine, *, active: bool | None = True) -> dict[str, ListEntry]:
    with Session(engine) as session:
        query = select(ListEntry)
        if active is not None:
            query = query.where(ListEntry.active == active)
        return {row.name: row for row in session.exec(query).all()}


def _snapshot(engine: Engine) -> list[tuple[Any, ...]]:
    with Session(engine) as session:
        entries = session.exec(select(ListEntry).order_by(ListEntry.id)).all()
        repos = session.exec(select(Repository).order_by(Repository.id)).all()
        sources = session.exec(select(ListSource).order_by(ListSource.id)).all()
        return (
            [
                (e.id, e.name, e.url, e.section, e.active, e.repository_id, e.last_seen_at)
                for e in entries
            ]
            + [(r.id, r.full_name) for r in repos]
            + [(s.id, s.url, s.etag, s.last_fetched_at, s.counts) for s in sources]
        )


def test_seed_list_is_stored_with_exact_counts(engine: Engine) -> None:
    readme = shared_data("awesome-distributed-system-projects", "README.md")
    (report,) = sync_lists(engine, _settings(str(readme)))
    assert report.ok and report.status == "updated"
    assert report.counts["entries"] == 141
    assert report.counts["repositories"] == 135
    assert report.counts["stored_entries"] == 139  # FiloDB and CeresDB twice in one section
    with Session(engine) as session:
        names = session.exec(select(Repository.full_name)).all()
        assert len(names) == 135 and all(n == n.lower() for n in names)
        source = session.exec(select(ListSource)).one()
        assert source.counts is not None and source.counts["not_crawlable"] == 4
        assert source.last_error is None and source.last_fetched_at is not None
        other = session.exec(select(ListEntry).where(ListEntry.link_kind == "other")).all()
        assert len(other) == 4 and all(e.repository_id is None for e in other)
        assert len(catalog_repositories(session)) == 135


def test_wrong_spark_link_adds_no_topic_to_sleuth(engine: Engine, tmp_path: Path) -> None:
    old = shared_data("awesome-distributed-system-projects", "history", "readme.41ac7bc.md")
    (report,) = sync_lists(engine, _settings(str(old)))
    assert report.counts["wrong_links"] == 1
    with Session(engine) as session:
        sleuth = session.exec(
            select(Repository).where(Repository.full_name == "ursiform/sleuth")
        ).one()
        sections = session.exec(
            select(ListEntry.section).where(ListEntry.repository_id == sleuth.id)
        ).all()
        assert sections == ["Service Discovery"]
        spark = session.exec(select(ListEntry).where(ListEntry.name == "Apache Spark")).one()
        assert spark.repository_id is None and spark.warning and "wrong link" in spark.warning


def test_duplicate_repo_in_two_sections_keeps_both(engine: Engine) -> None:
    sync_lists(engine, _settings(str(SAMPLES / "awesome-consensus.md")))
    with Session(engine) as session:
        repo = session.exec(
            select(Repository).where(Repository.full_name == "example-org/raftlite")
        ).one()
        rows = session.exec(select(ListEntry).where(ListEntry.repository_id == repo.id)).all()
        assert sorted((r.section, tuple(r.topics or [])) for r in rows) == [
            ("Libraries › Paxos", ("libraries", "paxos")),
            ("Libraries › Raft", ("libraries", "raft")),
        ]


def test_recrawl_marks_removed_entries_inactive_and_adds_new_ones(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "list.md"
    path.write_text(LIST_V1)
    settings = _settings(str(path))
    (first,) = sync_lists(engine, settings)
    assert (first.added, first.deactivated) == (3, 0)
    seen_first = _entries(engine)["kvstore"].first_seen_at

    path.write_text(LIST_V2)
    (second,) = sync_lists(engine, settings)
    assert (second.added, second.updated, second.deactivated) == (1, 2, 1)
    active = _entries(engine)
    assert set(active) == {"kvstore", "newdb", "Cachey"}
    assert active["newdb"].language == "python"
    assert active["kvstore"].first_seen_at == seen_first  # history kept
    inactive = _entries(engine, active=False)
    assert set(inactive) == {"logdb"}
    with Session(engine) as session:  # the repository row stays for history
        assert session.exec(select(Repository).where(Repository.full_name == "acme/logdb")).one()
        assert "acme/logdb" not in catalog_repositories(session)

    path.write_text(LIST_V1)  # the entry comes back: re-activated, not duplicated
    (third,) = sync_lists(engine, settings)
    assert (third.added, third.deactivated) == (1, 1)
    assert len(_entries(engine, active=None)) == 4


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"<!DOCTYPE html><html><body><ul><li><a href='https://github.com/a/b'>x</a></li></ul>",
        "- [Café](https://github.com/a/cafe)".encode("latin-1"),
        b"# Just a title\n\nNo list here.\n",
        None,  # 20 MB
    ],
    ids=["empty", "html", "non-utf8", "no-entries", "20mb"],
)
def test_bad_list_changes_nothing_and_other_lists_still_sync(
    engine: Engine, tmp_path: Path, bad: bytes | None
) -> None:
    path, other = tmp_path / "list.md", tmp_path / "other.md"
    path.write_text(LIST_V1)
    shutil.copy(SAMPLES / "awesome-consensus.md", other)
    settings = _settings(str(path), str(other))
    sync_lists(engine, settings)
    before = _snapshot(engine)

    if bad is None:
        with path.open("wb") as handle:
            handle.truncate(20_000_000)  # over the 5 MB default limit
    else:
        path.write_bytes(bad)
    other.write_text(
        (SAMPLES / "awesome-consensus.md").read_text().replace("chaos-proxy", "chaos-mesh")
    )
    failed, ok = sync_lists(engine, settings)

    assert failed.status == "failed" and failed.error
    assert ok.status == "updated" and (ok.added, ok.deactivated) == (1, 1)
    after = _snapshot(engine)
    first_list = [row for row in before if row[1] in ("kvstore", "logdb", "Cachey")]
    assert len(first_list) == 3
    assert all(row in after for row in first_list)  # same ids, state, last_seen_at
    first_source = next(row for row in before if row[1] == str(path))
    assert first_source in after  # same ETag, last_fetched_at and counts
    with Session(engine) as session:
        source = session.exec(select(ListSource).where(ListSource.url == str(path))).one()
        assert source.last_error == failed.error


class _FlakyFetcher:
    """Serves one list, then fails."""

    def __init__(self, text: str) -> None:
        self.text, self.fail = text, False
        self.etags: list[str | None] = []

    def fetch(self, location: str, etag: str | None = None) -> FetchResult:
        self.etags.append(etag)
        if self.fail:
            raise CatalogError("server error (HTTP 500): https://example.org/list.md")
        return FetchResult(location, self.text, etag='"abc"')


def test_failed_fetch_keeps_entries_and_etag(engine: Engine) -> None:
    fetcher = _FlakyFetcher(LIST_V1)
    settings = _settings("https://example.org/list.md")
    sync_lists(engine, settings, fetcher=fetcher)
    before = _snapshot(engine)
    fetcher.fail = True
    (report,) = sync_lists(engine, settings, fetcher=fetcher)
    assert report.status == "failed" and "HTTP 500" in (report.error or "")
    assert fetcher.etags == [None, '"abc"']
    after = _snapshot(engine)
    assert after == before  # entries, repositories, ETag and last_fetched_at all unchanged
    with Session(engine) as session:
        assert session.exec(select(ListSource.last_error)).one() == report.error


def test_owner_repo_list_via_fake_github_uses_etag(engine: Engine) -> None:
    world = World()
    world.add_repo("acme/awesome-kv", readme=LIST_V1)
    with FakeGitHub(world) as fake:
        settings = _settings("Acme/Awesome-KV", github_api_url=fake.base_url)
        (first,) = sync_lists(engine, settings)
        (second,) = sync_lists(engine, settings)
        fake.faults.add("500", times=10, path="/readme")
        no_retry = load_settings(
            catalog={"lists": ["acme/awesome-kv"], "fetch_retries": 0}, github_api_url=fake.base_url
        )
        (third,) = sync_lists(engine, no_retry)
    assert first.status == "updated" and first.counts["repositories"] == 3
    assert second.status == "unchanged"  # 304 thanks to If-None-Match
    assert second.counts["entries"] == 3  # the stored counts
    assert third.status == "failed" and "HTTP 500" in (third.error or "")
    assert len(_entries(engine)) == 3
    with Session(engine) as session:
        source = session.exec(select(ListSource)).one()
        assert source.url == "acme/awesome-kv" and source.etag


def test_demo_world_list_parses(engine: Engine) -> None:
    from bot.fakes.github.world import demo_world

    with FakeGitHub(demo_world()) as fake:
        (report,) = sync_lists(engine, Settings(github_api_url=fake.base_url))
    assert report.ok, report.error
    assert report.counts["repositories"] > 10


def test_removed_list_is_skipped_and_its_entries_inactive(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "list.md"
    path.write_text(LIST_V1)
    settings = _settings(str(path))
    sync_lists(engine, settings)
    with Session(engine) as session:
        assert deactivate_list(session, str(path)) == 3
        session.commit()
        assert catalog_repositories(session) == []
    assert sync_lists(engine, settings) == []  # the config still names it, but it was removed
