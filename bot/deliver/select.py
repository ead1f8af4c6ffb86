"""Step 1 of a digest run: which members are due now, and their engagement back-off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from bot.config import Settings
from bot.deliver.due import cadence_allows, due_slot, every_weeks_for, iso_week, zone
from bot.store.models import Delivery, Feedback, Member

DM = "dm"
CHANNEL = "channel"


def dm_key(member_id: int, week: str) -> str:
    """Ledger key of a member's weekly DM."""
    return f"dm:{member_id}:{week}"


def channel_key(channel: str, week: str) -> str:
    """Ledger key of the weekly channel post."""
    return f"channel:{channel}:{week}"


@dataclass(frozen=True)
class DueMember:
    """A member who gets a digest in this run, for ISO week `week` (their local week)."""

    member_id: int
    slack_user_id: str
    week: str
    ignored: int
    every_weeks: int


def select_due(
    session: Session,
    settings: Settings,
    now: datetime,
    *,
    force: bool = False,
    slack_user_ids: list[str] | None = None,
    record: bool = True,
) -> list[DueMember]:
    """Members whose latest local send time has come (at most `digest.catch_up_hours` ago,
    possibly last week's) and who have no digest for that week yet.

    `force` (admin "send now") ignores day, time and back-off but still sends at most one per
    member and week. Also stores each member's current back-off (`ignored_digests`,
    `digest_every_weeks`) so `status` can show it (unless `record` is False). The back-off
    counts digests sent since the member last clicked a pick or changed their settings, so any
    click (or `digest weekly`) brings them back to weekly.
    """
    query = select(Member).where(col(Member.digest_enabled).is_(True))
    if slack_user_ids:
        query = query.where(col(Member.slack_user_id).in_(slack_user_ids))
    members = list(session.scalars(query.order_by(col(Member.id))))
    candidates: list[tuple[Member, str]] = []
    catch_up = timedelta(hours=settings.digest.catch_up_hours)
    for member in members:
        if force:
            week = iso_week(now.astimezone(zone(member.timezone, settings.timezone)).date())
            candidates.append((member, week))
            continue
        slot = due_slot(
            now,
            member.digest_day or settings.digest.day,
            member.digest_time or settings.digest.time,
            member.timezone or settings.timezone,
            catch_up,
        )
        if slot is not None:  # this week's slot, or last week's when it is still catchable
            candidates.append((member, slot.week))
    if not candidates:
        return []
    ids = [m.id for m, _ in candidates if m.id is not None]  # stored rows: all have an id
    history = _history(session, ids)
    due: list[DueMember] = []
    for member, week in candidates:
        assert member.id is not None
        weeks, last_click = history.get(member.id, ({}, None))
        # Engagement = a click on a pick, or the member changing their profile or schedule
        # (the Slack handlers bump `updated_at`; "digest weekly" also resets the back-off).
        last_click = max(filter(None, [last_click, _aware(member.updated_at)]), default=None)
        if week in weeks:
            continue  # already in the ledger for this week (sent, pending or skipped)
        sent_before = sorted(w for w, sent_at in weeks.items() if sent_at is not None and w < week)
        ignored = sum(1 for w in sent_before if last_click is None or _after(weeks[w], last_click))
        every = every_weeks_for(ignored)
        if record:
            _store_engagement(session, member, ignored, every)
        last_sent = sent_before[-1] if sent_before else None
        if force or cadence_allows(week, last_sent, every):
            due.append(DueMember(member.id, member.slack_user_id, week, ignored, every))
    return due


def _history(
    session: Session, member_ids: list[int]
) -> dict[int, tuple[dict[str, datetime | None], datetime | None]]:
    """Per member: {week: sent_at} of their DM ledger rows, and their last click."""
    result: dict[int, tuple[dict[str, datetime | None], datetime | None]] = {}
    for start in range(0, len(member_ids), 500):
        chunk = member_ids[start : start + 500]
        rows = session.execute(
            select(col(Delivery.member_id), col(Delivery.week), col(Delivery.sent_at)).where(
                col(Delivery.member_id).in_(chunk),
                col(Delivery.kind) == DM,
            )
        )
        for member_id, week, sent_at in rows:
            result.setdefault(member_id, ({}, None))[0][week] = sent_at
        clicks = session.execute(
            select(col(Feedback.member_id), func.max(col(Feedback.created_at)))
            .where(col(Feedback.member_id).in_(chunk))
            .group_by(col(Feedback.member_id))
        )
        for member_id, last in clicks:
            weeks = result.get(member_id, ({}, None))[0]
            result[member_id] = (weeks, _aware(last))
    return result


def _after(sent_at: datetime | None, click: datetime) -> bool:
    """True when a digest was sent after the click (sent_before holds sent rows only)."""
    return sent_at is not None and sent_at > click


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _store_engagement(session: Session, member: Member, ignored: int, every: int) -> None:
    if member.ignored_digests == ignored and member.digest_every_weeks == every:
        return
    session.execute(
        update(Member)
        .where(col(Member.id) == member.id)
        .values(ignored_digests=ignored, digest_every_weeks=every)
    )
