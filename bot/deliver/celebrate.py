"""Merge celebrations: a DM (and, when the workspace has a channel, a post) per merged PR.

Opt-in per member (`CelebratePrefs`, off by default). Each merge is queued once in the people
ledger (`bot.deliver.intros`, keys "celebrate:<team>:<PR node id>" and
"celebrate-post:<team>:<PR node id>") in the caller's transaction, and sent by its
`deliver_pending` (claim -> send -> mark), so a crash or a second replica never posts twice
and never loses one. The DM suggests a next step: an available issue of the same repository one
rung up the ladder (first-timer -> some -> experienced).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from bot.config.settings import Settings
from bot.core.availability import Policy, Viewer, available_clause
from bot.core.vocabulary import Level
from bot.deliver.intros import enqueue, enqueue_dm
from bot.match.issues import FIRST_TIMERS_ONLY
from bot.match.taxonomy import term_key
from bot.people.messages import mention
from bot.slack.blocks import context, section
from bot.slack.escape import link, mrkdwn_escape
from bot.store.models import CelebratePrefs, Issue, Member, MergedPR, Pick, Repository

CELEBRATE_DM = "celebrate_dm"
CELEBRATE_POST = "celebrate_post"
NEXT_LEVEL = {
    Level.FIRST_TIMER.value: Level.SOME.value,
    Level.SOME.value: Level.EXPERIENCED.value,
    Level.EXPERIENCED.value: Level.EXPERIENCED.value,
}


def dm_key(team_id: str, pr_node_id: str) -> str:
    return f"celebrate:{team_id}:{pr_node_id}"


def post_key(team_id: str, pr_node_id: str) -> str:
    return f"celebrate-post:{team_id}:{pr_node_id}"


# Opt-in ----------------------------------------------------------------------------------------


def celebrate_enabled(session: Session, member_id: int) -> bool:
    """Has the member turned celebrations on? (off by default)"""
    row = session.exec(select(CelebratePrefs).where(CelebratePrefs.member_id == member_id)).first()
    return bool(row and row.enabled)


def set_celebrate(session: Session, member: Member, enabled: bool, now: datetime) -> None:
    """Turn the member's celebrations on or off."""
    assert member.id is not None
    row = session.exec(select(CelebratePrefs).where(CelebratePrefs.member_id == member.id)).first()
    if row is None:
        row = CelebratePrefs(team_id=member.team_id, member_id=member.id, updated_at=now)
    row.enabled, row.updated_at = enabled, now
    session.add(row)


# Streaks and history ---------------------------------------------------------------------------


def _month(day: date) -> int:
    return day.year * 12 + day.month - 1


def streak_months(merged: list[datetime], upto: datetime) -> int:
    """Calendar months in a row (UTC), ending with `upto`'s month, with a merged PR."""
    months = {_month(when.date()) for when in merged if when <= upto}
    current = _month(upto.date())
    streak = 0
    while current - streak in months:
        streak += 1
    return streak


@dataclass(frozen=True)
class Contribution:
    """One line of a member's contribution history."""

    repo: str
    number: int
    title: str
    url: str
    merged_at: datetime
    picked: bool


def history(session: Session, member_id: int, limit: int = 10) -> list[Contribution]:
    """The member's merged PRs in catalog repositories, newest first."""
    rows = session.exec(
        select(MergedPR, Repository.full_name)
        .join(Repository, col(Repository.id) == col(MergedPR.repository_id))
        .where(MergedPR.member_id == member_id)
        .order_by(col(MergedPR.merged_at).desc())
        .limit(limit)
    ).all()
    return [
        Contribution(repo, pr.number, pr.title, pr.url, pr.merged_at, pr.picked)
        for pr, repo in rows
    ]


def merged_dates(session: Session, member_id: int) -> list[datetime]:
    return list(session.exec(select(MergedPR.merged_at).where(MergedPR.member_id == member_id)))


# Next step -------------------------------------------------------------------------------------


def next_step(
    session: Session, settings: Settings, member: Member, merged: MergedPR, now: datetime
) -> tuple[Issue, str] | None:
    """(issue, level) one rung up: an available issue of the same repository, not picked for the
    member before, a little harder than the merged one (lower approachability), else the
    hardest available; first-timers-only issues are left to first-timers."""
    assert member.id is not None
    level = NEXT_LEVEL.get(member.level, Level.SOME.value)
    picked = select(Pick.issue_id).where(Pick.member_id == member.id)
    rows = session.exec(
        select(Issue, Repository)
        .join(Repository, col(Repository.id) == col(Issue.repository_id))
        .where(
            Issue.repository_id == merged.repository_id,
            col(Issue.id).not_in(picked),
            available_clause(Policy.at(settings, now), Viewer(member.id, member.team_id)),
        )
    ).all()
    candidates = [
        issue
        for issue, _repo in rows
        if issue.id != _merged_issue_id(session, merged)
        and not {term_key(label) for label in issue.labels or []} & FIRST_TIMERS_ONLY
    ]
    if not candidates:
        return None
    merged_issue_score = _merged_issue_score(session, merged)

    def score(issue: Issue) -> float:
        return issue.approachability if issue.approachability is not None else 0.5

    harder = [i for i in candidates if score(i) < merged_issue_score]
    chosen = (
        max(harder, key=lambda i: (score(i), -i.number))
        if harder
        else min(candidates, key=lambda i: (score(i), i.number))
    )
    return chosen, level


def _merged_issue_id(session: Session, merged: MergedPR) -> int | None:
    pick = session.get(Pick, merged.pick_id) if merged.pick_id is not None else None
    return pick.issue_id if pick else None


def _merged_issue_score(session: Session, merged: MergedPR) -> float:
    if merged.pick_id is None:
        return 1.0
    pick = session.get(Pick, merged.pick_id)
    issue = session.get(Issue, pick.issue_id) if pick else None
    if issue is None or issue.approachability is None:
        return 1.0
    return issue.approachability


# Messages --------------------------------------------------------------------------------------

LEVEL_WORDS = {"some": "some experience", "experienced": "experienced", "first-timer": "first"}


def dm_message(
    repo: str,
    merged: MergedPR,
    *,
    first: bool,
    streak: int,
    step: tuple[Issue, str] | None,
) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) of the congratulations DM."""
    pr = link(merged.url, f"{repo}#{merged.number} {merged.title}".strip())
    head = (
        f":tada: *Your first merged PR!* {pr} is in. Welcome to the contributors of "
        f"*{mrkdwn_escape(repo)}*."
        if first
        else f":tada: *Merged!* {pr} is in. Nice work."
    )
    blocks: list[dict[str, Any]] = [section(head)]
    if not merged.picked:
        blocks.append(context("Not one of your picks: we count every merged PR in the catalog."))
    if streak >= 2:
        blocks.append(context(f":fire: {streak} months in a row with a merged PR."))
    if step is not None:
        issue, level = step
        blocks.append(
            section(
                f"*Next step* (a rung up, {LEVEL_WORDS.get(level, level)}): "
                f"{link(issue.url, f'#{issue.number} {issue.title}')}"
            )
        )
    else:
        blocks.append(context("No open issue one rung up in this repository right now."))
    blocks.append(context("Celebrations are on. `/matchmaker celebrate off` turns them off."))
    text = f"Merged: {repo}#{merged.number}" + (" (your first!)" if first else "")
    return text, blocks


def post_message(
    user_id: str, repo: str, merged: MergedPR, *, first: bool
) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) of the channel post."""
    pr = link(merged.url, f"{repo}#{merged.number} {merged.title}".strip())
    who = mention(user_id)
    line = (
        f":tada: {who} just landed their *first* merged PR: {pr}. Welcome aboard!"
        if first
        else f":rocket: {who} got another PR merged: {pr}."
    )
    return f"Merged PR by {user_id}: {repo}#{merged.number}", [section(line)]


# Queueing --------------------------------------------------------------------------------------


def queue_celebrations(session: Session, settings: Settings, team_id: str, now: datetime) -> int:
    """Queue the celebrations of the workspace's new merges (opted-in members only); returns how
    many merges got a new DM queued. Idempotent: a merge already queued is skipped by its key."""
    max_age = timedelta(days=settings.celebrate.max_age_days)
    rows = session.exec(
        select(MergedPR, Member, Repository.full_name)
        .join(Member, col(Member.id) == col(MergedPR.member_id))
        .join(CelebratePrefs, col(CelebratePrefs.member_id) == col(Member.id))
        .join(Repository, col(Repository.id) == col(MergedPR.repository_id))
        .where(
            MergedPR.team_id == team_id,
            col(CelebratePrefs.enabled).is_(True),
            col(MergedPR.seen_at) >= now - max_age,
        )
        .order_by(col(MergedPR.merged_at))
    ).all()
    channel = settings.celebrate.channel_for(team_id)
    queued = 0
    for merged, member, repo in rows:
        if merged.merged_at < member.created_at or merged.seen_at - merged.merged_at > max_age:
            continue  # before the member joined, or old history seen late: not news
        assert member.id is not None
        dates = merged_dates(session, member.id)
        first = not any(d < merged.merged_at for d in dates)
        step = next_step(session, settings, member, merged, now)
        text, blocks = dm_message(
            repo, merged, first=first, streak=streak_months(dates, merged.merged_at), step=step
        )
        if enqueue_dm(
            session,
            member,
            key=dm_key(team_id, merged.pr_node_id),
            kind=CELEBRATE_DM,
            message=(text, blocks),
            now=now,
        ):
            queued += 1
        if channel:
            text, blocks = post_message(member.slack_user_id, repo, merged, first=first)
            enqueue(
                session,
                team_id=team_id,
                key=post_key(team_id, merged.pr_node_id),
                kind=CELEBRATE_POST,
                text=text,
                blocks=blocks,
                now=now,
                member_id=member.id,
                target=channel,
            )
    return queued
