"""Buddy rounds, Donut-style: members interested in the same repository (or topic) in the same
week are introduced to each other.

A round runs per workspace at most every `people.buddy_every_weeks` weeks. It pairs only members
who said `buddies on` and are not paused, never two members of different workspaces, never a
pair that met within `people.buddy_repeat_days`, never a pair on either's do-not-pair list, and
everyone at most once per round.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.config.settings import Settings
from bot.core.vocabulary import FeedbackKind, IntroKind, IntroState
from bot.people.mentors import introduced_pairs, open_intro, pair_key
from bot.people.prefs import blocked_pairs
from bot.store.models import (
    BuddyRound,
    Feedback,
    Intro,
    Issue,
    Member,
    PeoplePrefs,
    Repository,
)
from bot.store.upsert import insert_for


@dataclass(frozen=True)
class Pair:
    """Two members to introduce and what they share (a repository id or a topic)."""

    first: int
    second: int
    repository_id: int | None
    topic: str | None


def pair_up(
    groups: Sequence[tuple[int | None, str | None, Sequence[int]]],
    blocked: set[frozenset[int]],
) -> list[Pair]:
    """Pair members greedily within each group (smallest groups first: they have the fewest
    options), each member at most once, never a `blocked` pair."""
    taken: set[int] = set()
    pairs: list[Pair] = []
    for repo_id, topic, members in sorted(groups, key=lambda g: (len(g[2]), g[0] or 0, g[1] or "")):
        free = [m for m in sorted(set(members)) if m not in taken]
        while len(free) >= 2:
            first = free.pop(0)
            partner = next((m for m in free if frozenset((first, m)) not in blocked), None)
            if partner is None:
                continue
            free.remove(partner)
            taken |= {first, partner}
            pairs.append(Pair(first, partner, repo_id, topic))
    return pairs


def round_key(team_id: str, now: datetime) -> str:
    """One round per workspace and ISO week."""
    year, week, _ = now.isocalendar()
    return f"{team_id}:{year}-W{week:02d}"


def round_due(session: Session, settings: Settings, team_id: str, now: datetime) -> bool:
    """True when the workspace's last round is at least the cadence ago (a day's slack)."""
    last = session.exec(
        select(BuddyRound.ran_at)
        .where(BuddyRound.team_id == team_id)
        .order_by(col(BuddyRound.ran_at).desc())
    ).first()
    gap = timedelta(weeks=settings.people.buddy_every_weeks) - timedelta(days=1)
    return last is None or now - last >= gap


def _interests(
    session: Session, settings: Settings, team_id: str, now: datetime
) -> dict[int, set[int]]:
    """{repository id: member ids} of opted-in members' Interested clicks this week."""
    since = now - timedelta(days=settings.people.buddy_interest_days)
    rows = session.exec(
        select(Issue.repository_id, Feedback.member_id)
        .join(Issue, col(Issue.id) == col(Feedback.issue_id))
        .join(Member, col(Member.id) == col(Feedback.member_id))
        .join(PeoplePrefs, col(PeoplePrefs.member_id) == col(Member.id))
        .where(
            Member.team_id == team_id,
            PeoplePrefs.team_id == team_id,
            col(PeoplePrefs.buddies).is_(True),
            col(PeoplePrefs.paused).is_(False),
            Feedback.kind == FeedbackKind.INTERESTED.value,
            col(Feedback.created_at) >= since,
        )
    ).all()
    by_repo: dict[int, set[int]] = defaultdict(set)
    for repo_id, member_id in rows:
        by_repo[repo_id].add(member_id)
    return by_repo


def _topic_groups(session: Session, by_repo: Mapping[int, Iterable[int]]) -> dict[str, set[int]]:
    by_topic: dict[str, set[int]] = defaultdict(set)
    for repo in session.exec(select(Repository).where(col(Repository.id).in_(list(by_repo)))):
        assert repo.id is not None
        for topic in repo.topics or []:
            by_topic[str(topic).lower()] |= set(by_repo[repo.id])
    return by_topic


def _claim_round(session: Session, team_id: str, key: str, now: datetime) -> int | None:
    table = BuddyRound.__table__  # type: ignore[attr-defined]
    insert = insert_for(session, BuddyRound)
    statement = (
        insert.values(team_id=team_id, round_key=key, ran_at=now, pairs=0)
        .on_conflict_do_nothing(index_elements=["round_key"])
        .returning(table.c.id)
    )
    return session.execute(statement).scalar()


def run_round(session: Session, settings: Settings, team_id: str, now: datetime) -> int | None:
    """Pair the workspace's buddies if a round is due; the number of intros, None if not due
    (or another process ran this week's round)."""
    if not round_due(session, settings, team_id, now):
        return None
    key = round_key(team_id, now)
    round_id = _claim_round(session, team_id, key, now)
    if round_id is None:
        return None
    by_repo = _interests(session, settings, team_id, now)
    blocked = set(blocked_pairs(session, team_id))
    for recent in introduced_pairs(session, settings, team_id, now):
        low, _, high = recent.partition(":")
        blocked.add(frozenset((int(low), int(high))))
    groups: list[tuple[int | None, str | None, Sequence[int]]] = [
        (repo_id, None, sorted(members)) for repo_id, members in by_repo.items()
    ]
    # Topics second: whoever found no partner in a repository may find one in a topic.
    repo_pairs = pair_up(groups, blocked)
    paired = {m for p in repo_pairs for m in (p.first, p.second)}
    topic_groups: list[tuple[int | None, str | None, Sequence[int]]] = [
        (None, topic, sorted(m - paired)) for topic, m in _topic_groups(session, by_repo).items()
    ]
    pairs = repo_pairs + pair_up(topic_groups, blocked)
    for pair in pairs:
        intro = Intro(
            team_id=team_id,
            kind=IntroKind.BUDDY.value,
            pair_key=pair_key(pair.first, pair.second),
            member_a_id=pair.first,
            member_b_id=pair.second,
            repository_id=pair.repository_id,
            topic=pair.topic,
            state=IntroState.ACCEPTED.value,
            dedupe_key=f"buddy:{key}:{pair_key(pair.first, pair.second)}",
            created_at=now,
        )
        session.add(intro)
        session.flush()
        open_intro(session, intro, now)
    round_row = session.get(BuddyRound, round_id)
    if round_row is not None:
        round_row.pairs = len(pairs)
        session.add(round_row)
    return len(pairs)
