"""Helpers for Slack tests: synthetic repositories/issues/members, the app over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from bot.config.settings import Settings
from bot.fakes.slack import FakeSlack
from bot.fakes.slack import client as slack_client
from bot.fakes.slack.client import SlackLike
from bot.slack.http import SlackHTTPServer
from bot.store.db import session_scope
from bot.store.models import Issue, Member, Repository

SIGNING_SECRET = "test-signing-secret"
HOSTILE_TITLE = "Fix <!channel> & <@U999> see <http://evil.example|github.com>"


def seed_world(
    engine: Engine, *, repos: int = 3, issues_per_repo: int = 4, hostile: bool = False
) -> list[int]:
    """Python/Go/Rust repositories with open beginner issues; returns the issue ids.

    `hostile=True` gives every issue a title full of Slack control sequences.
    """
    now = datetime.now(UTC)
    ids: list[int] = []
    languages = ["Python", "Go", "Rust"]
    with session_scope(engine) as session:
        for r in range(repos):
            lang = languages[r % len(languages)]
            repo = Repository(
                full_name=f"org{r}/db{r}",
                node_id=f"R_{r}",
                description="A distributed database",
                primary_language=lang,
                languages={lang: 10_000},
                topics=["database", "raft"],
                beginner_labels=["good first issue"],
                stars=500,
                pushed_at=now - timedelta(days=2),
                has_contributing=True,
                maintainer_response_hours=30.0,
                crawled_at=now,
            )
            session.add(repo)
            session.flush()
            for k in range(issues_per_repo):
                title = f"Improve docs of module {r}.{k}"
                if hostile:
                    title = f"{HOSTILE_TITLE} ({r}.{k})"
                issue = Issue(
                    node_id=f"I_{r}_{k}",
                    repository_id=repo.id,
                    number=100 + k,
                    title=title,
                    body="Small change.",
                    url=f"https://github.com/org{r}/db{r}/issues/{100 + k}",
                    labels=["good first issue"],
                    assignees=[],
                    comments_count=k,
                    created_at=now - timedelta(days=5 + k),
                    updated_at=now - timedelta(days=1),
                    last_activity_at=now - timedelta(days=1),
                    crawled_at=now,
                )
                session.add(issue)
                session.flush()
                assert issue.id is not None
                ids.append(issue.id)
    return ids


def add_member(engine: Engine, user_id: str = "U0001", team_id: str = "T0001", **fields) -> int:
    """A member row; returns its id."""
    with session_scope(engine) as session:
        member = Member(slack_user_id=user_id, team_id=team_id, **fields)
        session.add(member)
        session.flush()
        assert member.id is not None
        return member.id


def start_app(
    settings: Settings, engine: Engine, fake: FakeSlack, **kwargs: Any
) -> tuple[SlackHTTPServer, SlackLike]:
    """The app over real HTTP (HTTP mode), signing with the test secret."""
    return slack_client.start_app(settings, engine, fake, SIGNING_SECRET, **kwargs)
