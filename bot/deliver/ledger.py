"""The digest ledger: one Delivery row per (member, ISO week, kind), sent at most once.

State machine of a row: pending -> sending (claimed, with `claimed_at`) -> sent | skipped |
failed, or back to pending (rate limited / transient error). A row left in "sending" by a crash
is re-claimed after the lease and resolved by asking the sender whether it was posted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from bot.store.models import Delivery, Member, Pick
from bot.store.upsert import insert_for

PENDING, SENDING, SENT = "pending", "sending", "sent"
SKIPPED, FAILED, EXPIRED = "skipped", "failed", "expired"
RESEND_WINDOW = timedelta(days=8)  # pending rows older than this are expired by cleanup
LEASE_EXPIRED = datetime(2000, 1, 1, tzinfo=UTC)  # claimed_at of a "sending" row anyone may claim


@dataclass(frozen=True)
class NewRow:
    """A ledger row to create, with the picks that go with it."""

    key: str
    week: str
    kind: str
    member_id: int | None
    channel: str | None
    picks: Sequence[Any]  # Recommendation-like: issue_id, score, reasons
    content: list[dict[str, Any]] | None = None


def write_rows(
    session: Session, rows: Sequence[NewRow], *, run_id: int | None, now: datetime
) -> list[int]:
    """Insert rows (and their Pick rows) unless their key exists; returns the new row ids.

    Keys are inserted in sorted order so concurrent writers on PostgreSQL never deadlock;
    a writer that loses the race for a key skips it and writes no picks for it.
    """
    created: list[int] = []
    for row in sorted(rows, key=lambda r: r.key):
        statement = (
            insert_for(session, Delivery)
            .values(
                dedupe_key=row.key,
                member_id=row.member_id,
                digest_run_id=run_id,
                week=row.week,
                kind=row.kind,
                channel=row.channel,
                state=PENDING if (row.picks or row.content) else SKIPPED,
                error=None if (row.picks or row.content) else "no_picks",
                attempts=0,
                content=row.content,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(Delivery.__table__.c.id)  # type: ignore[attr-defined]
        )
        delivery_id = session.execute(statement).scalar()
        if delivery_id is None:
            continue
        created.append(delivery_id)
        if row.member_id is not None and row.picks:
            add_picks(session, row.member_id, delivery_id, row.picks, now=now)
    return created


def add_picks(
    session: Session,
    member_id: int,
    delivery_id: int,
    recs: Sequence[Any],
    *,
    now: datetime,
    first_rank: int = 0,
) -> None:
    """Pick rows for a delivery (an issue a member already had is left as it was)."""
    values = [
        {
            "member_id": member_id,
            "issue_id": rec.issue_id,
            "delivery_id": delivery_id,
            "source": "digest",
            "rank": first_rank + rank,
            "score": float(rec.score),
            "reasons": list(rec.reasons or []),
            "state": "shown",
            "created_at": now,
        }
        for rank, rec in enumerate(recs)
    ]
    if values:
        statement = insert_for(session, Pick).values(values)
        session.execute(statement.on_conflict_do_nothing(index_elements=["member_id", "issue_id"]))


@dataclass(frozen=True)
class Work:
    """A ledger row to send: where to, and whether an earlier attempt may have posted it."""

    id: int
    key: str
    kind: str
    member_id: int | None
    target: str  # Slack user id (DM) or channel id
    week: str
    was_sending: bool


def sendable(session: Session, now: datetime, lease: timedelta) -> list[Work]:
    """Rows to send now: pending ones and "sending" ones whose claim has expired."""
    query = (
        select(Delivery, col(Member.slack_user_id))
        .join(Member, col(Member.id) == col(Delivery.member_id), isouter=True)
        .where(
            col(Delivery.created_at) >= now - RESEND_WINDOW,
            or_(
                col(Delivery.state) == PENDING,
                and_(col(Delivery.state) == SENDING, col(Delivery.claimed_at) < now - lease),
            ),
        )
        .order_by(col(Delivery.id))
    )
    work: list[Work] = []
    for delivery, slack_user_id in session.execute(query):
        target = slack_user_id if delivery.kind == "dm" else delivery.channel
        if not target:
            continue
        work.append(
            Work(
                id=delivery.id,
                key=delivery.dedupe_key or f"delivery:{delivery.id}",
                kind=delivery.kind,
                member_id=delivery.member_id,
                target=target,
                week=delivery.week,
                was_sending=delivery.state == SENDING,
            )
        )
    return work


def claim(session: Session | Connection, item: Work, now: datetime, lease: timedelta) -> bool:
    """Take a row for sending; False if another run already has it (or it was sent)."""
    allowed = (
        and_(col(Delivery.state) == SENDING, col(Delivery.claimed_at) < now - lease)
        if item.was_sending
        else col(Delivery.state) == PENDING
    )
    result = session.execute(
        update(Delivery)
        .where(col(Delivery.id) == item.id, allowed)
        .values(state=SENDING, claimed_at=now, attempts=col(Delivery.attempts) + 1)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def finish(
    session: Session | Connection,
    delivery_id: int,
    state: str,
    *,
    now: datetime,
    ts: str | None = None,
    channel: str | None = None,
    error: str | None = None,
) -> None:
    """Record the outcome of a claimed row (sent with its ts, skipped, failed, or pending)."""
    values: dict[str, Any] = {"state": state, "claimed_at": None, "error": error}
    if state == SENT:
        values.update(slack_ts=ts, sent_at=now, error=None)
    if channel:
        values["channel"] = channel
    session.execute(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id, col(Delivery.state) == SENDING)
        .values(**values)
    )


def release(
    session: Session | Connection, delivery_id: int, *, was_sending: bool, error: str | None
) -> None:
    """Hand a claimed row back without using an attempt (the token, not the row, failed).

    A row that was already "sending" before this claim stays "sending" with an expired lease,
    so the next run still asks Slack whether the earlier attempt went out before posting.
    """
    values: dict[str, Any] = {"attempts": col(Delivery.attempts) - 1, "error": error}
    if was_sending:
        values.update(state=SENDING, claimed_at=LEASE_EXPIRED)
    else:
        values.update(state=PENDING, claimed_at=None)
    session.execute(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id, col(Delivery.state) == SENDING)
        .values(**values)
    )


def attempts_of(session: Session | Connection, delivery_id: int) -> int:
    """How many times a row has been claimed."""
    return int(
        session.scalar(select(col(Delivery.attempts)).where(col(Delivery.id) == delivery_id)) or 0
    )


def expire_old(session: Session, now: datetime) -> int:
    """Mark pending rows older than the resend window as expired (cleanup job)."""
    result = session.execute(
        update(Delivery)
        .where(
            col(Delivery.state).in_([PENDING, SENDING]),
            col(Delivery.created_at) < now - RESEND_WINDOW,
        )
        .values(state=EXPIRED, claimed_at=None, error="not sent within the resend window")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def known_dm_channels(session: Session, slack_user_ids: Sequence[str]) -> dict[str, str]:
    """DM channel ids of earlier sent digests: {Slack user id: channel id}."""
    found: dict[str, str] = {}
    ids = list(dict.fromkeys(slack_user_ids))
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(col(Member.slack_user_id), col(Delivery.channel))
            .join(Delivery, col(Delivery.member_id) == col(Member.id))
            .where(
                col(Member.slack_user_id).in_(ids[start : start + 500]),
                col(Delivery.kind) == "dm",
                col(Delivery.state) == SENT,
                col(Delivery.channel).is_not(None),
            )
        )
        found.update({user: channel for user, channel in rows})
    return found
