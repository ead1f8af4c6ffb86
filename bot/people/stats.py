"""People figures for `/matchmaker stats`: intros made and met, and whether mentored picks
merge more often than the others (from `bot.people.outcomes`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.vocabulary import FeedbackKind, IntroAnswer, IntroKind, IntroState
from bot.people.outcomes import merged_picks
from bot.store.models import Feedback, Intro, IntroSide, Member, PeoplePrefs


@dataclass(frozen=True)
class PeopleStats:
    """One workspace's people figures."""

    mentors: int
    buddies: int
    intros: dict[str, int]  # kind -> intros opened or queued
    met: int  # intros where at least one side said "yes, we met"
    mentored_picks: int  # Interested picks whose member had a mentor intro for that issue
    mentored_merged: int
    other_picks: int
    other_merged: int

    def lines(self) -> list[str]:
        """The stats lines (plain figures, nothing user-written)."""
        made = sum(self.intros.values())
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted(self.intros.items())) or "none"
        return [
            f"*Mentors:* {self.mentors} · *buddies opted in:* {self.buddies}",
            f"*Intros made:* {made} ({kinds}) · *met:* {self.met}",
            f"*Merged after a mentor intro:* {_rate(self.mentored_merged, self.mentored_picks)}"
            f" · *other interested picks:* {_rate(self.other_merged, self.other_picks)}",
        ]


def _rate(merged: int, total: int) -> str:
    return f"{merged}/{total} ({merged / total:.0%})" if total else "no data yet"


def people_stats(session: Session, team_id: str) -> PeopleStats:
    """Figures for one workspace."""
    mentors = session.exec(
        select(func.count()).where(PeoplePrefs.team_id == team_id, col(PeoplePrefs.mentor))
    ).one()
    buddies = session.exec(
        select(func.count()).where(PeoplePrefs.team_id == team_id, col(PeoplePrefs.buddies))
    ).one()
    made = col(Intro.state).in_([IntroState.ACCEPTED.value, IntroState.OPEN.value, "closed"])
    intros = dict(
        session.exec(
            select(Intro.kind, func.count())
            .where(Intro.team_id == team_id, made)
            .group_by(col(Intro.kind))
        ).all()
    )
    met = session.exec(
        select(func.count(func.distinct(IntroSide.intro_id))).where(
            IntroSide.team_id == team_id, IntroSide.answer == IntroAnswer.MET.value
        )
    ).one()
    mentored = set(
        session.exec(
            select(Intro.member_a_id, Intro.issue_id).where(
                Intro.team_id == team_id, Intro.kind == IntroKind.MENTOR.value, made
            )
        ).all()
    )
    interested = set(
        session.exec(
            select(Feedback.member_id, Feedback.issue_id)
            .join(Member, col(Member.id) == col(Feedback.member_id))
            .where(Member.team_id == team_id, Feedback.kind == FeedbackKind.INTERESTED.value)
        ).all()
    )
    merged = merged_picks(session, team_id)
    with_mentor = interested & mentored
    others = interested - mentored
    return PeopleStats(
        mentors=int(mentors),
        buddies=int(buddies),
        intros={str(k): int(v) for k, v in intros.items()},
        met=int(met),
        mentored_picks=len(with_mentor),
        mentored_merged=len(with_mentor & merged),
        other_picks=len(others),
        other_merged=len(others & merged),
    )
