"""`serve` runs the crawl job in a spawned child process (so the crawl's modules and heap do not
stay in the idle server): the child syncs the lists, crawls against the fake GitHub, writes to
the same database and hands its report back. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.config import load_settings
from bot.fakes.github import FakeGitHub, World
from bot.schedule.jobs import crawl_job_in_child
from bot.store.models import CrawlPass, Repository

LIST = "acme/awesome-things"
REPOS = ("acme/raftdb", "acme/kvstore", "acme/queue")


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    world = World()
    for name in REPOS:
        repo = world.add_repo(name, labels=["good first issue"])
        repo.add_issue("A small task", labels=["good first issue"])
    world.add_repo(LIST).readme = "# Things\n\n" + "".join(
        f"- [{name}](https://github.com/{name}) - A project.\n" for name in REPOS
    )
    with FakeGitHub(world) as server:
        yield server


def test_the_crawl_job_runs_in_a_child_and_reports_back(engine: Engine, fake: FakeGitHub) -> None:
    settings = load_settings(
        github_api_url=fake.base_url, GITHUB_TOKEN="test-token", catalog={"lists": [LIST]}
    )
    now = fake.world.now + timedelta(hours=1)
    report = crawl_job_in_child(engine, settings, now=now)
    assert report is not None and report.status == "ok"
    assert report.pass_done == report.pass_total == len(REPOS)
    assert fake.stats.graphql_requests > 0  # the child talked to GitHub
    with Session(engine) as session:
        crawled = session.exec(
            select(func.count()).select_from(Repository).where(Repository.full_crawled_at == now)
        ).one()
        (crawl_pass,) = session.exec(select(CrawlPass)).all()
    assert crawled == len(REPOS) and crawl_pass.finished_at == now
