"""Fixtures for delivery tests: a seeded catalog, members, the fake Slack, a simple
stand-in matcher (the delivery logic, not the scoring, is under test here)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings, load_settings
from bot.deliver.senders import SlackSender
from bot.fakes.slack import BOT_TOKEN, FakeSlack
from bot.store.models import Delivery, Issue, Member, Pick, Repository

# Monday 2026-11-23 is in ISO week 2026-W48.
MONDAY_9_UTC = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def settings() -> Settings:
    return load_settings(
        digest={"workspace_rate_per_s": 1000.0, "send_concurrency": 2, "picks": 3},
        github={"recheck_after_hours": 6},
    )


def make_sender(slack: FakeSlack, rate: float = 1000.0) -> SlackSender:
    return SlackSender(BOT_TOKEN, base_url=slack.base_url, rate_per_s=rate)


@pytest.fixture
def sender(slack: FakeSlack) -> SlackSender:
    return make_sender(slack)


@dataclass
class Rec:
    """A Recommendation-shaped pick from the stand-in matcher."""

    member_id: int
    issue_id: int
    repo_full_name: str
    issue_number: int
    title: str
    url: str
    labels: list[str] = field(default_factory=list)
    score: float = 1.0
    reasons: list[str] = field(default_factory=lambda: ["fits your stack"])
    signals: dict[str, Any] = field(default_factory=dict)


def simple_recommend(
    session: Session,
    settings: Settings,
    member_ids: list[int] | None = None,
    n: int = 3,
    *,
    now: datetime | None = None,
) -> dict[int, list[Rec]]:
    """Open, unassigned issues the member has not been shown, spread across members."""
    issues = session.execute(
        select(Issue, Repository)
        .join(Repository, Repository.id == Issue.repository_id)
        .where(Issue.state == "open")
        .order_by(Issue.id)
    ).all()
    if member_ids is None:
        member_ids = list(session.scalars(select(Member.id)))
    shown: dict[int, set[int]] = {}
    for member_id, issue_id in session.execute(select(Pick.member_id, Pick.issue_id)):
        shown.setdefault(member_id, set()).add(issue_id)
    result: dict[int, list[Rec]] = {}
    for member_id in member_ids:
        recs: list[Rec] = []
        start = member_id % max(1, len(issues))
        for issue, repo in issues[start:] + issues[:start]:
            if issue.id in shown.get(member_id, set()) or issue.assignees:
                continue
            score = 1.0 / (1 + len(recs))
            recs.append(
                Rec(
                    member_id,
                    issue.id,
                    repo.full_name,
                    issue.number,
                    issue.title,
                    issue.url,
                    list(issue.labels or []),
                    score,
                )
            )
            if len(recs) == n:
                break
        result[member_id] = recs
    return result


def seed_issues(engine: Engine, count: int = 30, *, crawled_at: datetime | None = None) -> None:
    """Repositories and open beginner issues (titles with mrkdwn that must be escaped)."""
    crawled_at = crawled_at or MONDAY_9_UTC
    with Session(engine) as session:
        repos = [Repository(full_name=f"org/repo{i}", primary_language="Python") for i in range(5)]
        session.add_all(repos)
        session.flush()
        for i in range(count):
            repo = repos[i % len(repos)]
            session.add(
                Issue(
                    node_id=f"I_{i}",
                    repository_id=repo.id,
                    number=100 + i,
                    title=f"Fix <thing> & {i}",
                    url=f"https://github.com/{repo.full_name}/issues/{100 + i}",
                    labels=["good first issue"],
                    crawled_at=crawled_at,
                    created_at=datetime(2026, 11, 1, tzinfo=UTC),
                )
            )
        session.commit()


def seed_members(engine: Engine, specs: list[dict[str, Any]]) -> list[int]:
    """Members from dicts of Member fields; returns their ids."""
    with Session(engine) as session:
        members = [Member(**spec) for spec in specs]
        session.add_all(members)
        session.commit()
        return [m.id for m in members]  # type: ignore[misc]


def members_at(n: int, **fields: Any) -> list[dict[str, Any]]:
    return [{"slack_user_id": f"U{i:05d}", **fields} for i in range(1, n + 1)]


def ledger_counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
        return {state: count for state, count in rows}
