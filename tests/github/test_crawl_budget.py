"""The budget-aware crawl against the fake GitHub with a small hourly GraphQL budget: a run stops
at its reserve, the next run (also a new process: new engine) resumes where it stopped, nothing
ever exceeds the budget, unchanged repositories cost no issue query, a changed fingerprint is
crawled first. Time is a virtual clock shared by the crawl (`now`) and the fake's windows.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.fakes.catalog import add_to_catalog as seed_catalog
from bot.fakes.github import FakeGitHub, World
from bot.fakes.github.model import EPOCH
from bot.github.crawl import CrawlReport, crawl
from bot.store.db import make_engine
from bot.store.models import CrawlPass, Issue, Repository
from tests.github.conftest import add_to_catalog, settings_for

DAY = timedelta(days=1)
REPOS = tuple(f"acme/svc{i:02d}" for i in range(12))
LIMIT, RESERVE = 30, 6  # points per hour in the fake; points every run leaves untouched


class Clock:
    """The virtual `now` of the crawl runs and of the fake GitHub's rate-limit windows."""

    def __init__(self) -> None:
        self.now = EPOCH

    def epoch(self) -> float:
        return self.now.timestamp()


def build_world() -> World:
    world = World()
    for i, name in enumerate(REPOS):
        repo = world.add_repo(name, labels=["good first issue", "bug"], pushed_at=EPOCH - DAY)
        for n in range(1 + i % 3):
            created = EPOCH - (10 + n) * DAY
            repo.add_issue(
                f"Task {n}", labels=["good first issue"], created_at=created, updated_at=created
            )
    return world


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeGitHub]:
    with FakeGitHub(build_world(), limits={"graphql": LIMIT}, clock=clock.epoch) as server:
        yield server


def run(db_url: str, fake: FakeGitHub, clock: Clock, **github: Any) -> CrawlReport:
    """One crawl run as a fresh process would do it: its own engine, the clock's `now`."""
    options = {
        "max_budget_share": 1.0,
        "budget_reserve": RESERVE,
        "concurrency": 4,
        "issues_per_page": 100,  # about 5 points per repository: a few fit in one window
        **github,
    }
    engine = make_engine(db_url)
    try:
        return crawl(engine, settings_for(fake, **options), now=clock.now)
    finally:
        engine.dispose()


def crawled(engine: Engine) -> set[str]:
    with Session(engine) as session:
        rows = session.exec(select(Repository).where(Repository.full_crawled_at.is_not(None)))  # type: ignore[union-attr]
        return {row.full_name for row in rows}


def test_a_crawl_stops_at_its_reserve_and_the_next_runs_resume_where_it_stopped(
    engine: Engine, db_url: str, fake: FakeGitHub, clock: Clock
) -> None:
    add_to_catalog(engine, *REPOS)
    reports: list[CrawlReport] = []
    seen_in_earlier_runs: set[str] = set()
    while len(reports) < 10:
        fake.stats.reset()
        report = run(db_url, fake, clock)
        reports.append(report)
        bucket = fake.budget("graphql")
        assert bucket.remaining >= RESERVE  # the reserve is never spent
        assert fake.stats.refused == 0  # never a query GitHub would refuse
        asked = {name for name in REPOS if f'"{name.split("/")[1]}"' in "".join(fake.stats.queries)}
        assert not asked & seen_in_earlier_runs  # resumed: handled repositories cost nothing
        seen_in_earlier_runs |= crawled(engine)
        if report.resume_at is None:
            break
        assert report.stopped and "budget" in report.stopped
        assert report.resume_at == datetime.fromtimestamp(bucket.reset, EPOCH.tzinfo)
        clock.now = report.resume_at + timedelta(seconds=30)  # when the scheduler resumes
    assert len(reports) >= 3  # the first crawl needed several budget windows
    assert crawled(engine) == set(REPOS)
    assert reports[-1].pass_done == reports[-1].pass_total == len(REPOS)
    with Session(engine) as session:
        (crawl_pass,) = session.exec(select(CrawlPass)).all()
        stored = session.exec(select(Issue)).all()
    assert crawl_pass.finished_at == clock.now and crawl_pass.runs == len(reports)
    assert crawl_pass.points == sum(r.points for r in reports)
    assert len(stored) == sum(1 + i % 3 for i in range(len(REPOS)))


def test_a_run_killed_midway_is_resumed_by_a_new_process(
    engine: Engine, db_url: str, fake: FakeGitHub, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.github.persist import CrawlStore

    add_to_catalog(engine, *REPOS)
    original = CrawlStore.save_repo
    saved: list[str] = []

    def dying_save(self: CrawlStore, target, values) -> None:  # type: ignore[no-untyped-def]
        if len(saved) == 3:
            raise KeyboardInterrupt  # the process is killed here
        original(self, target, values)
        saved.append(target.full_name)

    monkeypatch.setattr(CrawlStore, "save_repo", dying_save)
    with pytest.raises(KeyboardInterrupt):
        run(db_url, fake, clock, budget_reserve=0)
    monkeypatch.setattr(CrawlStore, "save_repo", original)
    clock.now += timedelta(hours=1, minutes=1)  # a new budget window, a new process
    fake.stats.reset()
    report = run(db_url, fake, clock, budget_reserve=0)
    queries = "".join(fake.stats.queries)
    assert not any(f'"{name.split("/")[1]}"' in queries for name in saved)
    assert report.pass_done == len(saved) + report.repos_done


def test_unchanged_repositories_cost_no_issue_phase_points(
    engine: Engine, db_url: str, fake: FakeGitHub, clock: Clock
) -> None:
    add_to_catalog(engine, *REPOS)
    fake.limits["graphql"] = 5000
    fake.reset_budgets()
    assert run(db_url, fake, clock).pass_done == len(REPOS)
    clock.now += DAY
    fake.stats.reset()
    again = run(db_url, fake, clock)
    assert again.repos_unchanged == len(REPOS) and again.issues_seen == 0
    names = [q.split("{", 1)[0].split()[-1] for q in fake.stats.queries]
    assert names == ["Changes"]  # no Meta, Issues, Blobs or Reporters query
    assert fake.stats.points == 1  # 2 requests per repository: 24 requests = 1 point


def test_a_changed_fingerprint_is_crawled_before_new_repositories(
    engine: Engine, db_url: str, fake: FakeGitHub, clock: Clock
) -> None:
    old = REPOS[6:]
    add_to_catalog(engine, *old)
    fake.limits["graphql"] = 5000
    fake.reset_budgets()
    run(db_url, fake, clock)
    seed_catalog(engine, REPOS[:6], list_url="https://example.invalid/new.md")  # first by name
    changed = fake.world.repo(old[-1])
    assert changed is not None
    issue = changed.add_issue("Fresh task", labels=["good first issue"], created_at=clock.now)
    issue.touch(clock.now)
    fake.limits["graphql"] = 12  # after the change check, room for one repository only
    clock.now += DAY
    fake.reset_budgets()
    report = run(db_url, fake, clock, budget_reserve=0)
    assert report.stopped and "budget" in report.stopped
    assert report.repos_unchanged == len(old) - 1
    assert crawled(engine) == set(old)  # the changed one was crawled, no new one yet
    with Session(engine) as session:
        titles = {row.title for row in session.exec(select(Issue))}
    assert "Fresh task" in titles
    assert report.pass_done == len(old) and report.pass_total == len(REPOS)
