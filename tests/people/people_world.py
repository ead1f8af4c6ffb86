"""Helpers for people tests (import as `tests.people.people_world`): members, clicks, an outbox."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from bot.deliver.intros import DeliverReport, deliver_pending
from bot.deliver.senders import ConsoleSender
from bot.store.db import session_scope
from bot.store.models import Feedback, Member

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday
LEASE = timedelta(minutes=10)


class Outbox:
    """A console sender plus the group DMs it was asked to open."""

    def __init__(self) -> None:
        self.sender = ConsoleSender(io.StringIO())
        self.groups: list[list[str]] = []

    def open_group(self, users: Sequence[str]) -> str:
        self.groups.append(list(users))
        return "G" + "".join(u.lstrip("U") for u in users)

    def deliver(self, engine: Engine, now: datetime) -> DeliverReport:
        return deliver_pending(engine, self.sender, self.open_group, now=now, lease=LEASE)

    def texts_to(self, target: str) -> list[str]:
        return [text for t, _, text in self.sender.sent if t == target]

    @property
    def keys(self) -> list[str]:
        return [key for _, key, _ in self.sender.sent]


def member(engine: Engine, user_id: str, team_id: str = "T1", **fields) -> int:
    """A member with a stack; returns its id."""
    fields.setdefault("languages", {"python": 1.0})
    fields.setdefault("topics", {"databases": 1.0})
    with session_scope(engine) as session:
        row = Member(slack_user_id=user_id, team_id=team_id, created_at=NOW, **fields)
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def interested(engine: Engine, member_id: int, issue_id: int, at: datetime = NOW) -> None:
    """An Interested click of `member_id` on `issue_id`."""
    with session_scope(engine) as session:
        session.add(
            Feedback(member_id=member_id, issue_id=issue_id, kind="interested", created_at=at)
        )


def get(engine: Engine, model, member_id: int):  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return session.get(model, member_id)
