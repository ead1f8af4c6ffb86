"""Member rows as the Slack side sees them: find/create, profile updates, next digest, forget."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete
from sqlmodel import Session, col, select

from bot.store.models import Delivery, Feedback, Member, Pick, utcnow

MAX_STACK_TEXT = 1000
WEEKDAY_INDEX = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
WEEKDAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}


def find_member(session: Session, team_id: str, user_id: str) -> Member | None:
    """The member for a Slack user in a workspace (a row without team adopts this team)."""
    member = session.exec(
        select(Member).where(Member.team_id == team_id, Member.slack_user_id == user_id)
    ).first()
    if member is None and team_id:
        member = session.exec(
            select(Member).where(Member.team_id == "", Member.slack_user_id == user_id)
        ).first()
        if member is not None:
            member.team_id = team_id
            session.add(member)
    return member


def get_or_create_member(
    session: Session, team_id: str, user_id: str, *, timezone: str | None = None
) -> Member:
    """The member for a Slack user, created with defaults on first contact."""
    member = find_member(session, team_id, user_id)
    if member is None:
        member = Member(team_id=team_id, slack_user_id=user_id, timezone=timezone or "UTC")
        session.add(member)
        session.flush()
    return member


def set_stack(
    member: Member, text: str, languages: Mapping[str, float], topics: Mapping[str, float]
) -> None:
    """Store what the member typed and its normalised languages and topics."""
    member.stack_text = text[:MAX_STACK_TEXT]
    member.languages = dict(languages)
    member.topics = dict(topics)
    touch(member)


def touch(member: Member) -> None:
    """Mark the profile as changed now."""
    member.updated_at = utcnow()


def next_digest(member: Member, now: datetime | None = None) -> datetime | None:
    """When the member's next weekly digest is due (aware, in their timezone), None if off."""
    if not member.digest_enabled:
        return None
    try:
        tz = ZoneInfo(member.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    local_now = (now or datetime.now(UTC)).astimezone(tz)
    hour, minute = (int(x) for x in (member.digest_time or "09:00").split(":"))
    days_ahead = (WEEKDAY_INDEX.get(member.digest_day, 0) - local_now.weekday()) % 7
    candidate = (local_now + timedelta(days=days_ahead)).replace(
        hour=hour, minute=minute, second=0, microsecond=0
    )
    if candidate <= local_now:
        candidate += timedelta(days=7)
    return candidate


def describe_schedule(member: Member) -> str:
    """`Mondays at 09:00 (Europe/Berlin)` or `off`."""
    if not member.digest_enabled:
        return "off"
    day = WEEKDAY_NAMES.get(member.digest_day, member.digest_day)
    every = "" if member.digest_every_weeks <= 1 else f", every {member.digest_every_weeks} weeks"
    return f"{day}s at {member.digest_time} ({member.timezone}){every}"


def forget_member(session: Session, member: Member) -> dict[str, int]:
    """Delete everything stored about a member; returns how many rows of each kind went."""
    assert member.id is not None
    counts = {}
    counts["feedback"] = session.exec(  # type: ignore[call-overload]
        delete(Feedback).where(col(Feedback.member_id) == member.id)
    ).rowcount
    counts["picks"] = session.exec(  # type: ignore[call-overload]
        delete(Pick).where(col(Pick.member_id) == member.id)
    ).rowcount
    counts["deliveries"] = session.exec(  # type: ignore[call-overload]
        delete(Delivery).where(col(Delivery.member_id) == member.id)
    ).rowcount
    session.delete(member)
    counts["member"] = 1
    return counts
