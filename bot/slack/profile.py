"""Member rows as the Slack side sees them: find/create, profile updates (stack, GitHub login
and the stack inferred from it), next digest, forget."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from bot.config.settings import Settings
from bot.core.vocabulary import WEEKDAY_NAMES
from bot.deliver.due import next_slot, zone
from bot.errors import ServiceError
from bot.store.models import Delivery, Feedback, Member, Pick, utcnow

if TYPE_CHECKING:  # bot.match is imported on use: an idle server never loads it
    from bot.match.taxonomy import Stack

log = logging.getLogger(__name__)

MAX_STACK_TEXT = 1000


def find_member(session: Session, team_id: str, user_id: str) -> Member | None:
    """The member for a Slack user in exactly this workspace (members never change workspace)."""
    if not team_id:
        return None
    return session.exec(
        select(Member).where(Member.team_id == team_id, Member.slack_user_id == user_id)
    ).first()


def get_or_create_member(
    session: Session, team_id: str, user_id: str, *, timezone: str | None = None
) -> Member:
    """The member for a Slack user, created with defaults on first contact.

    Raises ValueError without a workspace: every member belongs to exactly one.
    """
    if not team_id:
        raise ValueError("a member needs a workspace (team id)")
    member = find_member(session, team_id, user_id)
    if member is None:
        member = Member(team_id=team_id, slack_user_id=user_id, timezone=timezone or "UTC")
        session.add(member)
        session.flush()
    return member


def get_or_create_members(session: Session, users: Sequence[tuple[str, str]]) -> list[Member]:
    """`get_or_create_member` for many (team id, user id) pairs: one query per workspace."""
    found: dict[tuple[str, str], Member] = {}
    by_team: dict[str, set[str]] = defaultdict(set)
    for team_id, user_id in users:
        by_team[team_id].add(user_id)
    for team_id, user_ids in by_team.items():
        if team_id:
            rows = session.exec(
                select(Member).where(
                    Member.team_id == team_id, col(Member.slack_user_id).in_(sorted(user_ids))
                )
            )
            found.update(((m.team_id, m.slack_user_id), m) for m in rows)
    for key in users:
        if key not in found:
            found[key] = get_or_create_member(session, *key)
    return [found[key] for key in users]


def parse_stack(text: str) -> Stack:
    """What a member typed (at most `MAX_STACK_TEXT` characters) as canonical terms."""
    from bot.match.taxonomy import normalize_stack

    return normalize_stack(text[:MAX_STACK_TEXT])


def set_stack(
    member: Member,
    text: str,
    languages: Mapping[str, float] | None = None,
    topics: Mapping[str, float] | None = None,
) -> Stack:
    """Store what the member typed and its normalised languages and topics; returns the parse.

    The one way a typed stack is stored (command, profile modal, demo). `languages`/`topics`
    skip parsing when the caller already has them.
    """
    from bot.match.taxonomy import Stack

    if languages is None and topics is None:
        stack = parse_stack(text)
    else:
        stack = Stack(languages=dict(languages or {}), topics=dict(topics or {}))
    member.stack_text = text[:MAX_STACK_TEXT]
    member.languages = dict(stack.languages)
    member.topics = dict(stack.topics)
    touch(member)
    return stack


# -- GitHub login and the stack inferred from it ------------------------------------------------


class GitHubLookupError(ServiceError):
    """GitHub could not tell us a login's repositories; `str(exc)` is a one-line reply."""


def infer_github_stack(login: str, settings: Settings, now: datetime) -> dict[str, Any]:
    """Infer `login`'s stack from their public repos (`settings.github_api_url`), for
    `Member.inferred`. Raises `GitHubLookupError` with a one-line explanation on any failure."""
    from github import GithubException  # imported on use: only this path talks to GitHub

    from bot.match.profile import infer_from_github

    try:
        return infer_from_github(login, settings, now=now)
    except (GithubException, OSError) as exc:
        log.warning(
            "GitHub inference for %s failed: %s %s",
            login,
            type(exc).__name__,
            getattr(exc, "status", ""),
        )
        raise GitHubLookupError(github_error_text(exc, login)) from None


def github_error_text(exc: BaseException, login: str) -> str:
    """A one-line, user-facing description of why GitHub couldn't be read (plain text: escape
    it for mrkdwn; never contains a secret)."""
    from github import BadCredentialsException, GithubException, RateLimitExceededException

    who = login
    if isinstance(exc, RateLimitExceededException):
        reset = (exc.headers or {}).get("x-ratelimit-reset") or ""
        when = ""
        if reset.isdigit():
            when = f" until {datetime.fromtimestamp(int(reset), UTC):%H:%M} UTC"
        return f"GitHub's rate limit for me is used up{when}, so I couldn't read {who}'s repos."
    if isinstance(exc, BadCredentialsException):
        return "GitHub rejected my token (401); please tell a Matchmaker admin."
    if isinstance(exc, GithubException):
        if exc.status == 404:
            return f"GitHub has no user {who}. Check the spelling."
        return f"GitHub answered {exc.status} when I read {who}'s repos. Try again later."
    reason = type(exc).__name__
    return f"I couldn't reach GitHub to read {who}'s repos ({reason}). Try again later."


def set_github(member: Member, login: str | None, inferred: dict[str, Any] | None = None) -> None:
    """Link (or unlink, `None`) a GitHub login; a new login drops the old login's inference
    unless `inferred` (from `infer_github_stack`) is given."""
    changed = (login or "").lower() != (member.github_login or "").lower()
    member.github_login = login
    if inferred is not None:
        member.inferred = inferred
    elif changed or login is None:
        member.inferred = None
    touch(member)


def inferred_terms(member: Member, *, skip_typed: bool = True) -> list[str]:
    """Display names of the languages then topics inferred from GitHub, strongest first
    (without those the member typed, unless `skip_typed=False`)."""
    from bot.match.taxonomy import get_taxonomy

    inferred = member.inferred or {}
    typed = {*(member.languages or {}), *(member.topics or {})} if skip_typed else set()
    taxonomy = get_taxonomy()
    out: list[str] = []
    for key in ("languages", "topics"):
        weights = inferred.get(key) or {}
        for term in sorted(weights, key=lambda t: -float(weights[t] or 0)):
            if term not in typed:
                out.append(taxonomy.label(term))
    return out


def touch(member: Member) -> None:
    """Mark the profile as changed now."""
    member.updated_at = utcnow()


def next_digest(
    member: Member, now: datetime, *, last_sent_week: str | None = None
) -> datetime | None:
    """When the member's next digest is due (aware, in their timezone), None if off.

    The same schedule and back-off (`digest_every_weeks` since `last_sent_week`, the ISO week
    of their last digest sent) as the digest job (`bot.deliver.due`).
    """
    if not member.digest_enabled:
        return None
    slot = next_slot(
        now,
        member.digest_day,
        member.digest_time,
        member.timezone,
        last_sent_week=last_sent_week,
        every_weeks=member.digest_every_weeks,
    )
    return slot.at.astimezone(zone(member.timezone))


def last_sent_week(session: Session, member: Member) -> str | None:
    """The ISO week of the member's last digest DM sent (None if never)."""
    return session.exec(
        select(func.max(Delivery.week)).where(
            Delivery.member_id == member.id, Delivery.kind == "dm", Delivery.state == "sent"
        )
    ).one()


def describe_schedule(member: Member) -> str:
    """`Mondays at 09:00 (Europe/Berlin)` or `off`."""
    if not member.digest_enabled:
        return "off"
    day = WEEKDAY_NAMES.get(member.digest_day, member.digest_day)
    every = "" if member.digest_every_weeks <= 1 else f", every {member.digest_every_weeks} weeks"
    return f"{day}s at {member.digest_time} ({member.timezone}){every}"


def forget_member(session: Session, member: Member) -> dict[str, int]:
    """Delete everything stored about a member; returns how many rows of each kind went."""
    from bot.people.prefs import forget_people

    assert member.id is not None
    counts = forget_people(session, member)
    from bot.deliver.holds import forget_holds

    counts["holds"] = forget_holds(session, member.id)
    counts["feedback"] = session.exec(
        delete(Feedback).where(col(Feedback.member_id) == member.id)
    ).rowcount
    counts["picks"] = session.exec(delete(Pick).where(col(Pick.member_id) == member.id)).rowcount
    counts["deliveries"] = session.exec(
        delete(Delivery).where(col(Delivery.member_id) == member.id)
    ).rowcount
    session.delete(member)
    counts["member"] = 1
    return counts
