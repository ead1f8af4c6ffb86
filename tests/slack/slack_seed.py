"""Helpers for Slack tests: synthetic repositories, issues and members.

Import as `tests.slack.slack_seed`. The app over HTTP and the Slack-like client are
`bot.fakes.slack.client.start_app` / `SlackLike`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from bot.store.db import session_scope
from bot.store.models import Issue, Member, Repository

__all__ = ["HOSTILE_TITLE", "add_member", "seed_world"]

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
