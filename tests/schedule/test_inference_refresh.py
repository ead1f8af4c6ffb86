"""The scheduled crawl job also re-reads members' stale GitHub-inferred stacks (fake GitHub)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import Settings, load_settings
from bot.fakes.github import FakeGitHub, World
from bot.github.report import CrawlReport
from bot.schedule import jobs
from bot.store.models import Member


@pytest.fixture
def gh_settings() -> Iterator[Settings]:
    world = World()
    world.add_repo("ada/kv", languages={"Go": 90_000}, topics=["raft"])
    with FakeGitHub(world) as fake:
        yield load_settings(github_api_url=fake.base_url)


def test_crawl_job_refreshes_stale_inferred_stacks(
    engine: Engine, gh_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    stale = (now - timedelta(days=gh_settings.match.inference_cache_days + 1)).isoformat()
    with Session(engine) as session:
        session.add(
            Member(
                slack_user_id="U1",
                github_login="ada",
                inferred={"login": "ada", "inferred_at": stale},
            )
        )
        session.add(Member(slack_user_id="U2"))
        session.commit()
    monkeypatch.setattr("bot.catalog.sync.sync_lists", lambda *_a, **_k: [])

    def crawl(*_a: Any, **_k: Any) -> CrawlReport:
        return CrawlReport(mode="graphql", repos_done=0)

    monkeypatch.setattr("bot.github.crawl.crawl", crawl)
    jobs.crawl_job(engine, gh_settings, now=now)
    with Session(engine) as session:
        members = {m.slack_user_id: m for m in session.exec(select(Member))}
    assert members["U1"].inferred and members["U1"].inferred["languages"] == {"go": 1.0}
    assert members["U2"].inferred is None
    assert jobs.refresh_inferences(engine, gh_settings, now=now) == 0  # now fresh
