"""Builders for match tests: repositories, issues, members, picks and feedback in the test DB."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from bot.config import Settings, load_settings
from bot.store.models import (
    Feedback,
    Issue,
    ListEntry,
    ListSource,
    Member,
    Pick,
    Repository,
    TakenReport,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class World:
    """Adds rows with sensible "available beginner issue" defaults; override any field."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._ids = itertools.count(1)
        self._list: ListSource | None = None

    def repo(self, full_name: str, *, section: str | None = None, **fields: Any) -> Repository:
        values: dict[str, Any] = {
            "full_name": full_name.lower(),
            "node_id": f"R_{full_name}",
            "primary_language": "Python",
            "languages": {"Python": 10_000},
            "topics": [],
            "stars": 100,
            "pushed_at": NOW - timedelta(days=3),
            "crawled_at": NOW - timedelta(hours=1),
        }
        values.update(fields)
        repo = Repository(**values)
        self.session.add(repo)
        self.session.flush()
        if section is not None:
            if self._list is None:
                self._list = ListSource(url="https://example.org/list.md")
                self.session.add(self._list)
                self.session.flush()
            self.session.add(
                ListEntry(
                    list_id=self._list.id,
                    repository_id=repo.id,
                    name=full_name,
                    url=f"https://github.com/{full_name}",
                    link_kind="github_repo",
                    section=section,
                )
            )
        return repo

    def issue(self, repo: Repository, **fields: Any) -> Issue:
        number = next(self._ids)
        values: dict[str, Any] = {
            "node_id": f"I_{repo.full_name}_{number}",
            "repository_id": repo.id,
            "number": number,
            "title": f"Issue {number} of {repo.full_name}",
            "url": f"https://github.com/{repo.full_name}/issues/{number}",
            "labels": ["good first issue"],
            "assignees": [],
            "created_at": NOW - timedelta(days=10),
            "updated_at": NOW - timedelta(days=2),
            "last_activity_at": NOW - timedelta(days=2),
            "crawled_at": NOW - timedelta(hours=1),
        }
        values.update(fields)
        issue = Issue(**values)
        self.session.add(issue)
        self.session.flush()
        return issue

    def member(self, stack: str = "python", level: str = "first-timer", **fields: Any) -> Member:
        number = next(self._ids)
        values: dict[str, Any] = {
            "slack_user_id": f"U{number:06d}",
            "stack_text": stack,
            "level": level,
        }
        values.update(fields)
        member = Member(**values)
        self.session.add(member)
        self.session.flush()
        return member

    def pick(self, member: Member, issue: Issue, **fields: Any) -> Pick:
        pick = Pick(member_id=member.id, issue_id=issue.id, **fields)
        self.session.add(pick)
        self.session.flush()
        return pick

    def report(self, member: Member, issue: Issue, at: datetime = NOW) -> TakenReport:
        """`member` clicked "Already taken" on `issue` at `at`."""
        row = TakenReport(
            team_id=member.team_id, member_id=member.id, issue_id=issue.id, reported_at=at
        )
        self.session.add(row)
        self.session.flush()
        return row

    def feedback(self, member: Member, issue: Issue, kind: str, **fields: Any) -> Feedback:
        row = Feedback(member_id=member.id, issue_id=issue.id, kind=kind, **fields)
        self.session.add(row)
        self.session.flush()
        return row


@pytest.fixture
def world(session: Session) -> World:
    """A builder bound to the test session."""
    return World(session)


@pytest.fixture
def settings() -> Settings:
    """Default settings."""
    return load_settings()


@pytest.fixture
def picks_for(session: Session, settings: Settings) -> Callable[..., Any]:
    """recommend() at NOW for the given members; returns {member_id: [issue ids]}."""
    from bot.match.recommend import recommend

    def run(*members: Member, n: int = 3, **kw: Any) -> dict[int, list[int]]:
        recs = recommend(session, kw.pop("settings", settings), [m.id for m in members], n, now=NOW)
        return {mid: [r.issue_id for r in rs] for mid, rs in recs.items()}

    return run
