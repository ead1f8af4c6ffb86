"""Mentor intros: find an available mentor for a repository, offer the intro, open it on yes.

A mentor is available for a repository when they opted in (`mentor on`), are not paused, the
repository is in their scope (named, a matching topic, or — with no scope — one they merged PRs
in), nobody involved put the other on a do-not-pair list, and they have fewer than
`people.max_mentees` active mentees (open offers count, so the cap holds even if all accept).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import Session, col, select

from bot.config.settings import Settings
from bot.core.vocabulary import IntroKind, IntroState
from bot.deliver.intros import GROUP_INTRO, enqueue, enqueue_dm
from bot.people import messages
from bot.people.outcomes import merged_pr_counts
from bot.people.prefs import add_mentor_repo, get_prefs, is_blocked
from bot.store.models import (
    Intro,
    IntroSide,
    Issue,
    ListEntry,
    Member,
    PeopleMessage,
    PeoplePrefs,
    Repository,
)


def pair_key(first_id: int, second_id: int) -> str:
    """ "low:high" of two member ids."""
    low, high = sorted((first_id, second_id))
    return f"{low}:{high}"


def repo_topics(session: Session, repo: Repository) -> set[str]:
    """The repository's GitHub topics and the topics its list sections gave it."""
    topics = {str(t).lower() for t in repo.topics or []}
    for entry_topics in session.exec(
        select(ListEntry.topics).where(ListEntry.repository_id == repo.id)
    ).all():
        topics |= {str(t).lower() for t in entry_topics or []}
    return topics


def in_scope(prefs: PeoplePrefs, repo: Repository, topics: set[str], merged: int) -> bool:
    """True when the mentor's scope covers the repository."""
    scope = {s.lower() for s in prefs.mentor_scope or []}
    if not scope:
        return merged > 0
    return repo.full_name.lower() in scope or bool(scope & topics)


def active_clause(settings: Settings, now: datetime) -> ColumnElement[bool]:
    """Mentor intros that take one of the mentor's places now."""
    people = settings.people
    return or_(
        (col(Intro.state) == IntroState.OFFERED.value)
        & (col(Intro.created_at) >= now - timedelta(days=people.offer_expires_days)),
        col(Intro.state).in_([IntroState.ACCEPTED.value, IntroState.OPEN.value])
        & (col(Intro.created_at) >= now - timedelta(days=people.mentee_active_days)),
    )


def active_mentees(
    session: Session, settings: Settings, mentor_id: int, now: datetime, *, skip: int | None = None
) -> int:
    """How many mentees hold one of the mentor's places (`skip`: leave that intro out)."""
    query = select(func.count(func.distinct(Intro.member_a_id))).where(
        Intro.kind == IntroKind.MENTOR.value,
        Intro.member_b_id == mentor_id,
        active_clause(settings, now),
    )
    if skip is not None:
        query = query.where(col(Intro.id) != skip)
    return int(session.exec(query).one())


def introduced_pairs(session: Session, settings: Settings, team_id: str, now: datetime) -> set[str]:
    """Pair keys of the workspace introduced (any kind, not declined) in the repeat period."""
    since = now - timedelta(days=settings.people.buddy_repeat_days)
    rows = session.exec(
        select(Intro.pair_key).where(
            Intro.team_id == team_id,
            col(Intro.created_at) >= since,
            col(Intro.state) != IntroState.DECLINED.value,
        )
    ).all()
    return set(rows)


def find_mentor(
    session: Session, settings: Settings, mentee: Member, repo: Repository, now: datetime
) -> tuple[Member, int] | None:
    """The available mentor for `repo` in the mentee's workspace with the fewest mentees
    (then the most merged PRs there), and their merged PR count; None if there is none."""
    assert repo.id is not None and mentee.id is not None
    candidates = session.exec(
        select(PeoplePrefs, Member)
        .join(Member, col(Member.id) == col(PeoplePrefs.member_id))
        .where(
            PeoplePrefs.team_id == mentee.team_id,
            Member.team_id == mentee.team_id,
            col(PeoplePrefs.mentor).is_(True),
            col(PeoplePrefs.mentor_paused).is_(False),
            col(PeoplePrefs.paused).is_(False),
            col(PeoplePrefs.member_id) != mentee.id,
        )
        .order_by(col(PeoplePrefs.id))
        .with_for_update(of=PeoplePrefs)
    ).all()
    if not candidates:
        return None
    merged = merged_pr_counts(session, mentee.team_id)
    topics = repo_topics(session, repo)
    known = introduced_pairs(session, settings, mentee.team_id, now)
    best: tuple[int, int, int, Member] | None = None
    for prefs, mentor in candidates:
        assert mentor.id is not None
        count = merged.get((mentor.id, repo.id), 0)
        if pair_key(mentee.id, mentor.id) in known:
            continue  # they were introduced already (as buddies or for another repository)
        if not in_scope(prefs, repo, topics, count) or is_blocked(session, mentee, mentor):
            continue
        load = active_mentees(session, settings, mentor.id, now)
        if load >= settings.people.max_mentees:
            continue
        rank = (load, -count, mentor.id, mentor)
        if best is None or rank[:3] < best[:3]:
            best = rank
    if best is None:
        return None
    return best[3], -best[1]


def offer_mentor(
    session: Session, settings: Settings, mentee: Member, issue_id: int, now: datetime
) -> Intro | None:
    """Offer the mentee an intro to a mentor of the issue's repository (at most one offer per
    mentee and repository, ever); None when there is no one to offer."""
    issue = session.get(Issue, issue_id)
    repo = session.get(Repository, issue.repository_id) if issue else None
    if issue is None or repo is None or mentee.id is None:
        return None
    prefs = get_prefs(session, mentee)
    if prefs is not None and prefs.paused:
        return None
    key = f"mentor:{mentee.id}:{repo.id}"
    if session.exec(select(Intro.id).where(Intro.dedupe_key == key)).first() is not None:
        return None
    found = find_mentor(session, settings, mentee, repo, now)
    if found is None:
        return None
    mentor, merged = found
    assert mentor.id is not None
    intro = Intro(
        team_id=mentee.team_id,
        kind=IntroKind.MENTOR.value,
        pair_key=pair_key(mentee.id, mentor.id),
        member_a_id=mentee.id,
        member_b_id=mentor.id,
        repository_id=repo.id,
        issue_id=issue.id,
        state=IntroState.OFFERED.value,
        dedupe_key=key,
        created_at=now,
    )
    session.add(intro)
    session.flush()
    assert intro.id is not None
    enqueue_dm(
        session,
        mentee,
        key=f"offer:{intro.id}",
        kind="mentor_offer",
        message=messages.mentor_offer(intro.id, mentor, merged, repo, issue),
        now=now,
        intro_id=intro.id,
    )
    return intro


def open_intro(session: Session, intro: Intro, now: datetime) -> None:
    """Accept an intro: its two sides, and the group DM queued (posted by the ledger)."""
    first = session.get(Member, intro.member_a_id)
    second = session.get(Member, intro.member_b_id)
    assert first is not None and second is not None and intro.id is not None
    intro.state = IntroState.ACCEPTED.value
    session.add(intro)
    for member in (first, second):
        assert member.id is not None
        session.add(IntroSide(team_id=intro.team_id, intro_id=intro.id, member_id=member.id))
    repo = session.get(Repository, intro.repository_id) if intro.repository_id else None
    issue = session.get(Issue, intro.issue_id) if intro.issue_id else None
    text, blocks = messages.group_intro(
        IntroKind(intro.kind), first, second, repo, issue, intro.topic
    )
    enqueue(
        session,
        team_id=intro.team_id,
        key=f"intro:{intro.id}",
        kind=GROUP_INTRO,
        text=text,
        blocks=blocks,
        now=now,
        intro_id=intro.id,
        users=[first.slack_user_id, second.slack_user_id],
    )


def answer_offer(
    session: Session, settings: Settings, member: Member, intro_id: int, yes: bool, now: datetime
) -> str:
    """The mentee's answer to an offer: "opened", "declined", "full" (the mentor has no place
    left any more) or "gone" (not their offer, or already answered)."""
    intro = session.get(Intro, intro_id)
    if (
        intro is None
        or intro.team_id != member.team_id
        or intro.member_a_id != member.id
        or intro.state != IntroState.OFFERED.value
    ):
        return "gone"
    if not yes:
        intro.state = IntroState.DECLINED.value
        intro.closed_at = now
        session.add(intro)
        return "declined"
    mentor = session.get(Member, intro.member_b_id)
    mentor_prefs = get_prefs(session, mentor) if mentor else None
    if (
        mentor is None
        or mentor_prefs is None
        or not mentor_prefs.mentor
        or mentor_prefs.mentor_paused
        or active_mentees(session, settings, intro.member_b_id, now, skip=intro.id)
        >= settings.people.max_mentees
    ):
        intro.state = IntroState.DECLINED.value
        intro.closed_at = now
        session.add(intro)
        return "full"
    open_intro(session, intro, now)
    return "opened"


def expire_offers(session: Session, settings: Settings, team_id: str, now: datetime) -> int:
    """Unanswered mentor offers older than `people.offer_expires_days` lapse (declined)."""
    cutoff = now - timedelta(days=settings.people.offer_expires_days)
    stale = session.exec(
        select(Intro).where(
            Intro.team_id == team_id,
            Intro.state == IntroState.OFFERED.value,
            col(Intro.created_at) < cutoff,
        )
    ).all()
    for intro in stale:
        intro.state = IntroState.DECLINED.value
        intro.closed_at = now
        session.add(intro)
    return len(stale)


def invite_mentors(session: Session, settings: Settings, team_id: str, now: datetime) -> int:
    """Invite, once per member and repository, members with merged PRs there to mentor."""
    invited = 0
    merged = merged_pr_counts(session, team_id)
    for (member_id, repo_id), count in sorted(merged.items()):
        if count < settings.people.invite_min_merged:
            continue
        member = session.get(Member, member_id)
        repo = session.get(Repository, repo_id)
        if member is None or repo is None or member.team_id != team_id:
            continue
        prefs = get_prefs(session, member)
        scope = (prefs.mentor_scope or []) if prefs is not None else []
        if prefs is not None and prefs.mentor and (not scope or repo.full_name in scope):
            continue  # already mentors there
        key = f"invite:{member_id}:{repo_id}"
        if session.exec(select(PeopleMessage.id).where(PeopleMessage.dedupe_key == key)).first():
            continue
        invited += enqueue_dm(
            session,
            member,
            key=key,
            kind="mentor_invite",
            message=messages.mentor_invite(repo, count),
            now=now,
        )
    return invited


def accept_invite(session: Session, member: Member, repo_id: int, now: datetime) -> str | None:
    """The member said yes to mentoring `repo_id`: its full name, None if it doesn't exist."""
    repo = session.get(Repository, repo_id)
    if repo is None:
        return None
    add_mentor_repo(session, member, repo.full_name, now)
    return repo.full_name
