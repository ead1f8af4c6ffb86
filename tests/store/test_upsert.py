"""Upserts: the same natural key twice gives one row with the newer fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlmodel import Session, select

from bot.store.models import Issue, Member, Repository
from bot.store.upsert import upsert


def test_same_repository_twice_is_one_row_updated(session: Session) -> None:
    first = upsert(
        session, Repository, {"full_name": "etcd-io/etcd"}, {"stars": 10, "topics": ["raft"]}
    )
    second = upsert(session, Repository, {"full_name": "etcd-io/etcd"}, {"stars": 12})
    session.commit()
    rows = session.exec(select(Repository)).all()
    assert len(rows) == 1
    assert first.id == second.id
    assert rows[0].stars == 12
    assert rows[0].topics == ["raft"]  # fields not given are kept


def test_issue_keyed_on_node_id(session: Session) -> None:
    repo = upsert(session, Repository, {"full_name": "a/b"}, {})
    values = {"repository_id": repo.id, "number": 7, "title": "Old", "url": "https://x/7"}
    upsert(session, Issue, {"node_id": "I_kw1"}, values)
    upsert(session, Issue, {"node_id": "I_kw1"}, {**values, "title": "New", "labels": ["easy"]})
    session.commit()
    (issue,) = session.exec(select(Issue)).all()
    assert (issue.title, issue.labels) == ("New", ["easy"])


def test_datetimes_round_trip_as_aware_utc(session: Session) -> None:
    berlin = timezone(timedelta(hours=1))
    pushed = datetime(2026, 3, 29, 2, 30, tzinfo=berlin)
    upsert(session, Repository, {"full_name": "c/d"}, {"pushed_at": pushed})
    session.commit()
    session.expire_all()
    stored = session.exec(select(Repository)).one()
    assert stored.pushed_at == pushed
    assert stored.pushed_at.tzinfo is not None
    assert stored.pushed_at.utcoffset() == timedelta(0)
    assert stored.created_at.tzinfo == UTC


def test_member_defaults_filled_by_upsert(session: Session) -> None:
    member = upsert(session, Member, {"team_id": "T1", "slack_user_id": "U1"}, {"level": "some"})
    session.commit()
    assert member.digest_enabled is True
    assert member.digest_day == "mon"
    assert member.level == "some"
