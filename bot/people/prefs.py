"""A member's people opt-ins, their private do-not-pair list, pausing, and forgetting it all.

No `PeoplePrefs` row means every people feature is off: nothing here turns anything on
without the member asking.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_
from sqlmodel import Session, col, select

from bot.store.models import Intro, IntroSide, Member, NoPair, PeopleMessage, PeoplePrefs
from bot.store.upsert import insert_for


def get_prefs(session: Session, member: Member) -> PeoplePrefs | None:
    """The member's opt-ins, None when they never opted into anything."""
    return session.exec(select(PeoplePrefs).where(PeoplePrefs.member_id == member.id)).first()


def ensure_prefs(session: Session, member: Member, now: datetime) -> PeoplePrefs:
    """The member's opt-ins row, created (everything off) on first use."""
    prefs = get_prefs(session, member)
    if prefs is not None:
        return prefs
    assert member.id is not None
    insert = insert_for(session, PeoplePrefs)
    session.execute(  # two clicks at once: one row, no error
        insert.values(
            team_id=member.team_id,
            member_id=member.id,
            mentor=False,
            mentor_paused=False,
            buddies=False,
            paused=False,
            ignored_intros=0,
            updated_at=now,
        ).on_conflict_do_nothing(index_elements=["member_id"])
    )
    prefs = get_prefs(session, member)
    assert prefs is not None
    return prefs


def _resume(prefs: PeoplePrefs) -> None:
    prefs.paused = False
    prefs.ignored_intros = 0


def set_mentor(
    session: Session, member: Member, on: bool, scope: list[str] | None, now: datetime
) -> PeoplePrefs:
    """`mentor on [scope]` (resumes a pause; a new scope replaces the old) or `mentor off`."""
    prefs = ensure_prefs(session, member, now)
    prefs.mentor = on
    prefs.mentor_paused = False
    if on:
        _resume(prefs)
        if scope:
            prefs.mentor_scope = sorted(set(scope))
    else:
        prefs.mentor_scope = None
    prefs.updated_at = now
    session.add(prefs)
    return prefs


def add_mentor_repo(session: Session, member: Member, repo: str, now: datetime) -> PeoplePrefs:
    """Mentor for one more repository (an accepted invitation)."""
    prefs = ensure_prefs(session, member, now)
    scope = set(prefs.mentor_scope or []) if prefs.mentor else set()
    prefs.mentor_scope = sorted(scope | {repo})
    prefs.mentor = True
    prefs.mentor_paused = False
    _resume(prefs)
    prefs.updated_at = now
    session.add(prefs)
    return prefs


def pause_mentor(session: Session, member: Member, now: datetime) -> PeoplePrefs | None:
    """`mentor pause`: no new mentees until `mentor on`; None if the member isn't a mentor."""
    prefs = get_prefs(session, member)
    if prefs is None or not prefs.mentor:
        return None
    prefs.mentor_paused = True
    prefs.updated_at = now
    session.add(prefs)
    return prefs


def set_buddies(session: Session, member: Member, on: bool, now: datetime) -> PeoplePrefs:
    """`buddies on|off` (on also resumes a pause after ignored intros)."""
    prefs = ensure_prefs(session, member, now)
    prefs.buddies = on
    if on:
        _resume(prefs)
    prefs.updated_at = now
    session.add(prefs)
    return prefs


def set_intro_post(session: Session, member: Member, answer: str, now: datetime) -> PeoplePrefs:
    """Remember the member's answer to "post an intro in the intros channel?" (yes | no)."""
    prefs = ensure_prefs(session, member, now)
    prefs.intro_post = answer
    prefs.updated_at = now
    session.add(prefs)
    return prefs


def add_nopair(session: Session, member: Member, other_user_id: str, now: datetime) -> bool:
    """Never pair the member with `other_user_id`; False if it was already on the list."""
    assert member.id is not None
    exists = session.exec(
        select(NoPair).where(NoPair.member_id == member.id, NoPair.other_user_id == other_user_id)
    ).first()
    if exists is not None:
        return False
    session.add(
        NoPair(
            team_id=member.team_id,
            member_id=member.id,
            other_user_id=other_user_id,
            created_at=now,
        )
    )
    return True


def remove_nopair(session: Session, member: Member, other_user_id: str) -> bool:
    """Take `other_user_id` off the member's list; False if they weren't on it."""
    result = session.exec(
        delete(NoPair).where(
            col(NoPair.member_id) == member.id, col(NoPair.other_user_id) == other_user_id
        )
    )
    return bool(result.rowcount)


def nopair_list(session: Session, member: Member) -> list[str]:
    """The Slack user ids on the member's private list."""
    rows = session.exec(
        select(NoPair.other_user_id)
        .where(NoPair.member_id == member.id)
        .order_by(col(NoPair.other_user_id))
    ).all()
    return list(rows)


def blocked_pairs(session: Session, team_id: str) -> set[frozenset[int]]:
    """Member-id pairs of a workspace that must never be introduced (either side's list)."""
    rows = session.exec(
        select(NoPair.member_id, Member.id)
        .join(
            Member,
            (col(Member.slack_user_id) == col(NoPair.other_user_id))
            & (col(Member.team_id) == col(NoPair.team_id)),
        )
        .where(NoPair.team_id == team_id)
    ).all()
    return {frozenset((a, b)) for a, b in rows if b is not None and a != b}


def is_blocked(session: Session, first: Member, second: Member) -> bool:
    """True when either member put the other on their do-not-pair list."""
    rows = session.exec(
        select(NoPair.id).where(
            or_(
                (col(NoPair.member_id) == first.id)
                & (col(NoPair.other_user_id) == second.slack_user_id),
                (col(NoPair.member_id) == second.id)
                & (col(NoPair.other_user_id) == first.slack_user_id),
            )
        )
    ).first()
    return rows is not None


def forget_people(session: Session, member: Member) -> dict[str, int]:
    """Delete the member's opt-ins, do-not-pair list, intros (both sides) and messages.

    Other members' do-not-pair entries naming this member stay: they are those members' own
    private choices.
    """
    assert member.id is not None
    intro_ids = list(
        session.exec(
            select(Intro.id).where(
                or_(col(Intro.member_a_id) == member.id, col(Intro.member_b_id) == member.id)
            )
        ).all()
    )
    counts: dict[str, int] = {}

    def gone(statement: object) -> int:
        return int(session.exec(statement).rowcount or 0)  # type: ignore[call-overload]

    counts["people_messages"] = gone(
        delete(PeopleMessage).where(
            or_(
                col(PeopleMessage.member_id) == member.id,
                col(PeopleMessage.intro_id).in_(intro_ids),
            )
        )
    )
    counts["intro_sides"] = gone(
        delete(IntroSide).where(
            or_(col(IntroSide.member_id) == member.id, col(IntroSide.intro_id).in_(intro_ids))
        )
    )
    counts["intros"] = gone(delete(Intro).where(col(Intro.id).in_(intro_ids)))
    counts["no_pair"] = gone(delete(NoPair).where(col(NoPair.member_id) == member.id))
    counts["people_prefs"] = gone(
        delete(PeoplePrefs).where(col(PeoplePrefs.member_id) == member.id)
    )
    return counts
