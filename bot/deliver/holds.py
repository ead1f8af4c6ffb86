"""Claim holds: "Interested" on a pick that GitHub still shows free holds it for that member.

While a hold is active (not released, `expires_at` in the future) the availability module's
viewer rule `HELD_FOR_OTHER` hides the issue from every other member of the same workspace;
other workspaces are unaffected. A hold ends early by "Not for me" on that pick, by
`/matchmaker release`, by the Release button of the halfway nudge, or when GitHub shows someone
else took the issue (`release_taken`, after a crawl or a re-check); it ends silently at expiry.

Halfway (`expires_at - hold_days / 2`) the member gets one "still on it?" DM through the people
ledger (`bot.deliver.intros`, kind `hold_nudge`, key `hold_nudge:<hold id>:<keeps>`): sent
once across crashes and replicas. Keep starts a new full period from the click, at most
`match.hold_max_keeps` times per hold; each period gets its own nudge.

Every function takes `now`; the wall clock is never read here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import structlog
from sqlalchemy import and_, delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.core.availability import ISSUE_RULES, Policy, Reason, issue_columns
from bot.deliver.intros import enqueue_dm
from bot.deliver.taken import IssueChecker
from bot.store.db import session_scope
from bot.store.models import Hold, Issue, Member, Repository
from bot.store.upsert import insert_for

log = structlog.get_logger(__name__)

NUDGE_KIND = "hold_nudge"
# What GitHub shows when someone is on the issue: these release a hold unless it is the holder.
TAKEN_REASONS = frozenset({Reason.ASSIGNED, Reason.LINKED_PR, Reason.CLAIMED})


class HoldOutcome(StrEnum):
    """What an "Interested" click did about a hold."""

    HELD = "held"  # a new hold for the member
    ALREADY_YOURS = "already_yours"  # the member held it already
    HELD_BY_OTHER = "held_by_other"  # another member of the workspace holds it (lost the race)
    TAKEN = "taken"  # GitHub shows it taken (or otherwise unavailable): no hold
    OFF = "off"  # holds are turned off (`match.hold_days = 0`)
    UNKNOWN = "unknown"  # no such issue or member


class ReleaseReason(StrEnum):
    """`Hold.release_reason`."""

    NOT_FOR_ME = "not_for_me"
    RELEASED = "released"  # /matchmaker release or the nudge's Release button
    TAKEN = "taken"  # GitHub shows someone else on it
    EXPIRED = "expired"


@dataclass(frozen=True)
class HoldResult:
    """The outcome of `place_hold`; `reason` is GitHub's when the issue is taken."""

    outcome: HoldOutcome
    expires_at: datetime | None = None
    reason: Reason | None = None
    checked: bool = False  # GitHub was re-checked just now


def hold_period(settings: Settings) -> timedelta:
    """How long a hold (or a Keep) lasts."""
    return timedelta(days=settings.match.hold_days)


def active_key(team_id: str, issue_id: int) -> str:
    """The unique key of the one active hold of an issue in a workspace."""
    return f"{team_id}:{issue_id}"


def _is_active(now: datetime) -> ColumnElement[bool]:
    return and_(col(Hold.released_at).is_(None), col(Hold.expires_at) > now)


def blocking_reason(
    issue: Issue, repo: Repository | None, login: str | None, policy: Policy
) -> Reason | None:
    """The first issue rule that makes `issue` unavailable to the member with GitHub `login`,
    not counting the member's own assignment, open PR or claim (None: free for them).

    Without a login every assignee, PR and claim is someone else's. A linked PR whose author
    is not stored counts as someone else's.
    """
    columns = issue_columns([issue], [repo])
    mine = (login or "").lower()
    for rule in ISSUE_RULES:
        assert rule.mask is not None
        if not bool(rule.mask(columns, policy)[0]):
            continue
        if mine and _is_own(issue, rule.reason, mine):
            continue
        return rule.reason
    return None


def _is_own(issue: Issue, reason: Reason, login: str) -> bool:
    """The member with (lower-case) `login` is the one GitHub shows on the issue for `reason`."""
    if reason is Reason.ASSIGNED:
        return login in {a.lower() for a in issue.assignees or []}
    if reason is Reason.LINKED_PR:
        open_prs = [p for p in issue.linked_prs or [] if p.get("state") == "OPEN"]
        return bool(open_prs) and all(str(p.get("author") or "").lower() == login for p in open_prs)
    if reason is Reason.CLAIMED:
        return (issue.claimed_by or "").lower() == login
    return False


def _release(
    session: Session, where: Sequence[ColumnElement[bool]], reason: ReleaseReason, now: datetime
) -> list[int]:
    """Release the active holds matching `where`; the ids of the issues released."""
    held = session.exec(select(Hold).where(col(Hold.released_at).is_(None), *where)).all()
    ids = [h.id for h in held if h.id is not None]
    if not ids:
        return []
    session.execute(
        update(Hold)
        .where(col(Hold.id).in_(ids), col(Hold.released_at).is_(None))
        .values(released_at=now, release_reason=reason.value, active_key=None)
    )
    return [h.issue_id for h in held]


def place_hold(
    engine: Engine,
    settings: Settings,
    member_id: int,
    issue_id: int,
    now: datetime,
    checker: IssueChecker | None,
) -> HoldResult:
    """After `member_id`'s Interested click on `issue_id`: re-check the issue on GitHub, then
    hold it for them if it is still free and nobody of their workspace holds it.

    A failed re-check falls back on the stored state (the latest crawl). Exactly one of two
    concurrent calls for one issue and workspace gets `HELD` (the unique `active_key`).
    """
    if settings.match.hold_days <= 0:
        return HoldResult(HoldOutcome.OFF)
    checked = False
    if checker is not None:
        try:
            checked = checker(engine, settings, issue_id, now)
        except Exception as exc:  # the stored state decides
            log.warning("hold_recheck_failed", issue=issue_id, error=type(exc).__name__)
    policy = Policy.at(settings, now)
    with session_scope(engine) as session:
        member = session.get(Member, member_id)
        issue = session.get(Issue, issue_id)
        if member is None or issue is None or member.id is None:
            return HoldResult(HoldOutcome.UNKNOWN, checked=checked)
        repo = session.get(Repository, issue.repository_id)
        reason = blocking_reason(issue, repo, member.github_login, policy)
        if reason is not None:
            mine = [col(Hold.member_id) == member.id, col(Hold.issue_id) == issue_id]
            _release(session, mine, ReleaseReason.TAKEN, now)
            log.info("hold_refused", issue=issue_id, reason=reason.value, checked=checked)
            return HoldResult(HoldOutcome.TAKEN, reason=reason, checked=checked)
        key = active_key(member.team_id, issue_id)
        # an expired hold nobody released yet must not block the key
        _release(
            session, [col(Hold.active_key) == key, col(Hold.expires_at) <= now],
            ReleaseReason.EXPIRED, now,
        )  # fmt: skip
        expires = now + hold_period(settings)
        table = Hold.__table__  # type: ignore[attr-defined]
        inserted = session.execute(
            insert_for(session, Hold)
            .values(
                team_id=member.team_id,
                issue_id=issue_id,
                member_id=member.id,
                held_at=now,
                expires_at=expires,
                keeps=0,
                active_key=key,
            )
            .on_conflict_do_nothing(index_elements=["active_key"])
            .returning(table.c.id)
        ).scalar()
        if inserted is not None:
            log.info("hold_placed", issue=issue_id, hold=inserted, checked=checked)
            return HoldResult(HoldOutcome.HELD, expires_at=expires, checked=checked)
        current = session.exec(select(Hold).where(Hold.active_key == key)).first()
        if current is not None and current.member_id == member.id:
            return HoldResult(HoldOutcome.ALREADY_YOURS, current.expires_at, checked=checked)
        return HoldResult(HoldOutcome.HELD_BY_OTHER, checked=checked)


def release_holds(
    session: Session,
    member_id: int,
    now: datetime,
    reason: ReleaseReason = ReleaseReason.RELEASED,
    issue_id: int | None = None,
) -> list[int]:
    """Release the member's active holds (all, or the one on `issue_id`); the issue ids."""
    where: list[ColumnElement[bool]] = [col(Hold.member_id) == member_id]
    if issue_id is not None:
        where.append(col(Hold.issue_id) == issue_id)
    released = _release(session, where, reason, now)
    if released:
        log.info("holds_released", member=member_id, reason=reason.value, count=len(released))
    return released


def release_taken(
    engine: Engine, settings: Settings, now: datetime, *, team_id: str | None = None
) -> int:
    """Release every active hold whose issue GitHub (as last crawled or re-checked) shows taken
    by someone other than the holder; returns how many were released."""
    policy = Policy.at(settings, now)
    with session_scope(engine) as session:
        query = (
            select(Hold, Issue, Repository, Member)
            .join(Issue, col(Issue.id) == col(Hold.issue_id))
            .join(Repository, col(Repository.id) == col(Issue.repository_id))
            .join(Member, col(Member.id) == col(Hold.member_id))
            .where(col(Hold.released_at).is_(None), col(Hold.expires_at) > now)
        )
        if team_id is not None:
            query = query.where(Hold.team_id == team_id)
        taken = [
            hold.id
            for hold, issue, repo, member in session.exec(query).all()
            if blocking_reason(issue, repo, member.github_login, policy) in TAKEN_REASONS
        ]
        if taken:
            _release(session, [col(Hold.id).in_(taken)], ReleaseReason.TAKEN, now)
    if taken:
        log.info("holds_released", reason=ReleaseReason.TAKEN.value, count=len(taken))
    return len(taken)


def release_expired(session: Session, now: datetime) -> int:
    """Mark the holds whose time is up as released (silently: no message)."""
    return len(_release(session, [col(Hold.expires_at) <= now], ReleaseReason.EXPIRED, now))


def active_holds(session: Session, member_id: int, now: datetime) -> list[Hold]:
    """The member's active holds at `now`, the one ending first first."""
    return list(
        session.exec(
            select(Hold)
            .where(col(Hold.member_id) == member_id, _is_active(now))
            .order_by(col(Hold.expires_at), col(Hold.id))
        ).all()
    )


def held_until(
    session: Session, member_id: int | None, issue_ids: Sequence[int], now: datetime
) -> dict[int, datetime]:
    """{issue id: when the member's active hold on it ends} for those of `issue_ids` they hold."""
    if member_id is None or not issue_ids:
        return {}
    rows = session.exec(
        select(Hold.issue_id, Hold.expires_at).where(
            col(Hold.member_id) == member_id,
            col(Hold.issue_id).in_(list(issue_ids)),
            _is_active(now),
        )
    ).all()
    return {int(i): e for i, e in rows}


def held_issue_ids(session: Session, now: datetime, team_id: str | None = None) -> set[int]:
    """Issues with an active hold at `now` (in one workspace, or in any)."""
    query = select(Hold.issue_id).where(_is_active(now))
    if team_id is not None:
        query = query.where(Hold.team_id == team_id)
    return {int(i) for i in session.exec(query).all()}


def holds_placed(session: Session, team_id: str | None, start: datetime, end: datetime) -> int:
    """How many holds were placed in [start, end) (in one workspace, or all): for stats."""
    query = select(Hold.id).where(col(Hold.held_at) >= start, col(Hold.held_at) < end)
    if team_id is not None:
        query = query.where(Hold.team_id == team_id)
    return len(session.exec(query).all())


def forget_holds(session: Session, member_id: int) -> int:
    """Delete every hold of a member (profile deletion); how many rows went."""
    result = session.execute(delete(Hold).where(col(Hold.member_id) == member_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -- the halfway nudge, Keep and Release ------------------------------------------------------


def nudge_key(hold: Hold) -> str:
    """The people-ledger key of a hold's nudge for its current period."""
    return f"{NUDGE_KIND}:{hold.id}:{hold.keeps}"


def queue_nudges(session: Session, settings: Settings, now: datetime) -> int:
    """Queue the "still on it?" DM of every active hold past its halfway point (once per
    period: `nudged_at` and the ledger key both guard it); returns how many were queued."""
    from bot.slack.holds import nudge_message  # Block Kit lives on the Slack side

    half = hold_period(settings) / 2
    due = session.exec(
        select(Hold, Issue, Repository, Member)
        .join(Issue, col(Issue.id) == col(Hold.issue_id))
        .join(Repository, col(Repository.id) == col(Issue.repository_id))
        .join(Member, col(Member.id) == col(Hold.member_id))
        .where(
            _is_active(now),
            col(Hold.nudged_at).is_(None),
            col(Hold.expires_at) <= now + half,
        )
        .order_by(col(Hold.id))
    ).all()
    queued = 0
    for hold, issue, repo, member in due:
        claimed = session.execute(
            update(Hold)
            .where(col(Hold.id) == hold.id, col(Hold.nudged_at).is_(None))
            .values(nudged_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        can_keep = hold.keeps < settings.match.hold_max_keeps
        queued += enqueue_dm(
            session,
            member,
            key=nudge_key(hold),
            kind=NUDGE_KIND,
            message=nudge_message(hold, issue, repo, member, can_keep=can_keep),
            now=now,
        )
    if queued:
        log.info("hold_nudges_queued", count=queued)
    return queued


class KeepOutcome(StrEnum):
    """What a Keep click did."""

    KEPT = "kept"
    LIMIT = "limit"  # already kept `hold_max_keeps` times
    GONE = "gone"  # no such active hold of this member


@dataclass(frozen=True)
class KeepResult:
    """A Keep click's outcome and the hold's (new) end."""

    outcome: KeepOutcome
    expires_at: datetime | None = None


def _own_active(session: Session, member: Member, hold_id: int, now: datetime) -> Hold | None:
    hold = session.get(Hold, hold_id)
    if hold is None or hold.member_id != member.id or hold.team_id != member.team_id:
        return None
    if hold.released_at is not None or hold.expires_at <= now:
        return None
    return hold


def keep_hold(
    session: Session, settings: Settings, member: Member, hold_id: int, now: datetime
) -> KeepResult:
    """Keep: the hold runs a new full period from `now` (bounded by `match.hold_max_keeps`)."""
    hold = _own_active(session, member, hold_id, now)
    if hold is None:
        return KeepResult(KeepOutcome.GONE)
    if hold.keeps >= settings.match.hold_max_keeps:
        return KeepResult(KeepOutcome.LIMIT, hold.expires_at)
    expires = now + hold_period(settings)
    done = session.execute(
        update(Hold)
        .where(col(Hold.id) == hold.id, col(Hold.keeps) == hold.keeps)
        .values(expires_at=expires, keeps=hold.keeps + 1, nudged_at=None)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]  # a concurrent click won
        session.refresh(hold)
        return KeepResult(KeepOutcome.KEPT, hold.expires_at)
    log.info("hold_kept", hold=hold.id, keeps=hold.keeps + 1)
    return KeepResult(KeepOutcome.KEPT, expires)


def release_by_id(session: Session, member: Member, hold_id: int, now: datetime) -> int | None:
    """The nudge's Release button: release that hold of the member; the issue id, else None."""
    hold = _own_active(session, member, hold_id, now)
    if hold is None:
        return None
    released = _release(session, [col(Hold.id) == hold.id], ReleaseReason.RELEASED, now)
    return released[0] if released else None


def find_issue(session: Session, full_name: str, number: int) -> Issue | None:
    """The stored issue `owner/repo#number` (full name compared case-insensitively)."""
    return session.exec(
        select(Issue)
        .join(Repository, col(Repository.id) == col(Issue.repository_id))
        .where(Repository.full_name == full_name.lower(), Issue.number == number)
    ).first()
