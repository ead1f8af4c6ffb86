"""Follow-ups: "did you meet?" a week after an intro, ignored intros, pausing, and answers.

Each side of an open intro is asked once, privately. A follow-up still unanswered after
`people.ignored_after_days` counts as ignored; `people.pause_after_ignored` ignored intros in a
row pause the member (no buddies, no mentees) and tell them how to resume. Any answer resets
the count.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.config.settings import Settings
from bot.core.vocabulary import IntroAnswer, IntroState
from bot.deliver.intros import enqueue_dm
from bot.people import messages
from bot.people.prefs import ensure_prefs
from bot.store.models import Intro, IntroSide, Member, Repository


def send_followups(session: Session, settings: Settings, team_id: str, now: datetime) -> int:
    """Queue "did you meet?" for each side of intros opened a follow-up period ago."""
    cutoff = now - timedelta(days=settings.people.followup_after_days)
    rows = session.exec(
        select(IntroSide, Intro)
        .join(Intro, col(Intro.id) == col(IntroSide.intro_id))
        .where(
            IntroSide.team_id == team_id,
            Intro.team_id == team_id,
            Intro.state == IntroState.OPEN.value,
            col(Intro.opened_at) <= cutoff,
            col(IntroSide.followup_at).is_(None),
        )
        .order_by(col(IntroSide.id))
    ).all()
    queued = 0
    for side, intro in rows:
        assert side.id is not None
        member = session.get(Member, side.member_id)
        other_id = intro.member_b_id if side.member_id == intro.member_a_id else intro.member_a_id
        other = session.get(Member, other_id)
        if member is None or other is None:
            continue
        repo = session.get(Repository, intro.repository_id) if intro.repository_id else None
        queued += enqueue_dm(
            session,
            member,
            key=f"followup:{side.id}",
            kind="followup",
            message=messages.followup(side.id, other, repo),
            now=now,
            intro_id=intro.id,
        )
        side.followup_at = now
        session.add(side)
    return queued


def count_ignored(session: Session, settings: Settings, team_id: str, now: datetime) -> list[int]:
    """Mark unanswered follow-ups as ignored; pause who reached the limit. Returns the member
    ids paused now (each told how to resume)."""
    cutoff = now - timedelta(days=settings.people.ignored_after_days)
    sides = session.exec(
        select(IntroSide)
        .where(
            IntroSide.team_id == team_id,
            col(IntroSide.followup_at) <= cutoff,
            col(IntroSide.answer).is_(None),
            col(IntroSide.ignored).is_(False),
        )
        .order_by(col(IntroSide.followup_at), col(IntroSide.id))
    ).all()
    paused: list[int] = []
    for side in sides:
        side.ignored = True
        session.add(side)
        member = session.get(Member, side.member_id)
        if member is None:
            continue
        prefs = ensure_prefs(session, member, now)
        prefs.ignored_intros += 1
        limit = settings.people.pause_after_ignored
        if prefs.ignored_intros >= limit and not prefs.paused:
            prefs.paused = True
            assert member.id is not None
            paused.append(member.id)
            enqueue_dm(
                session,
                member,
                key=f"paused:{member.id}:{side.id}",
                kind="paused",
                message=messages.paused_notice(prefs.ignored_intros),
                now=now,
            )
        prefs.updated_at = now
        session.add(prefs)
    return paused


def record_answer(
    session: Session, member: Member, side_id: int, answer: IntroAnswer, now: datetime
) -> bool:
    """Store the member's answer to their follow-up; False if it isn't theirs."""
    side = session.get(IntroSide, side_id)
    if side is None or side.member_id != member.id or side.team_id != member.team_id:
        return False
    side.answer = answer.value
    side.answered_at = now
    session.add(side)
    prefs = ensure_prefs(session, member, now)
    prefs.ignored_intros = 0
    session.add(prefs)
    if answer is IntroAnswer.DIDNT_WORK:
        intro = session.get(Intro, side.intro_id)
        if intro is not None and intro.state != IntroState.CLOSED.value:
            intro.state = IntroState.CLOSED.value
            intro.closed_at = now
            session.add(intro)
    return True
