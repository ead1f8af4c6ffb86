"""Feedback buttons on pick cards: record the click, update Pick.state and the message in place.

"Already taken" also stores a report of that member (`bot.deliver.taken`): it hides the issue from
them at once, and from others only as `bot.core.availability` says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.core.vocabulary import FEEDBACK_BUTTONS, FeedbackKind
from bot.deliver.holds import ReleaseReason, release_holds
from bot.deliver.taken import ReportOutcome, store_report
from bot.match.recommendation import Recommendation, stored_recommendation
from bot.slack.blocks import (
    STATE_BY_ACTION,
    CardNote,
    fallback_text,
    pick_blocks,
)
from bot.slack.profile import find_member, get_or_create_member
from bot.store.db import session_scope
from bot.store.models import Feedback, Issue, Pick, Repository

FEEDBACK_KIND = {b.action_id: b.kind.value for b in FEEDBACK_BUTTONS}
# Clicks that end the clicker's own hold on the issue, and the hold's release reason.
RELEASING = {
    FeedbackKind.NOT_FOR_ME.value: ReleaseReason.NOT_FOR_ME,
    FeedbackKind.ALREADY_TAKEN.value: ReleaseReason.TAKEN,
}


def parse_issue_id(value: Any) -> int | None:
    """The issue id carried by a button (`str(issue_id)`), None when it isn't one."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 19 else None


@dataclass(frozen=True)
class Click:
    """A recorded click: the pick's new state; `limited` when an "Already taken" over the
    hourly limit was refused (nothing stored); the member who clicked."""

    state: str
    member_id: int
    limited: bool = False


def record_feedback(
    engine: Engine,
    settings: Settings,
    team_id: str,
    user_id: str,
    issue_id: int,
    action_id: str,
    *,
    now: datetime,
) -> Click | None:
    """Store a click and return the pick's new state (None if the issue doesn't exist).

    Clicking the same button twice stores one Feedback row; the last click sets the state.
    """
    kind = FEEDBACK_KIND[action_id]
    state = STATE_BY_ACTION[action_id]
    with session_scope(engine) as session:
        issue = session.get(Issue, issue_id)
        if issue is None:
            return None
        member = get_or_create_member(session, team_id, user_id)
        assert member.id is not None
        if (
            kind == FeedbackKind.ALREADY_TAKEN
            and store_report(session, settings, member, issue_id, now) is ReportOutcome.LIMITED
        ):
            return Click(state="", member_id=member.id, limited=True)
        if kind in RELEASING:  # the member's hold on it (if any) ends with this click
            release_holds(session, member.id, now, RELEASING[kind], issue_id=issue_id)
        pick = session.exec(
            select(Pick).where(Pick.member_id == member.id, Pick.issue_id == issue_id)
        ).first()
        if pick is None:  # e.g. a card in the community channel post
            assert member.id is not None
            pick = Pick(
                member_id=member.id,
                issue_id=issue_id,
                source="channel",
                state=state,
                created_at=now,
            )
        pick.state = state
        session.add(pick)
        session.flush()
        seen = session.exec(
            select(Feedback).where(
                Feedback.member_id == member.id,
                Feedback.issue_id == issue_id,
                Feedback.kind == kind,
            )
        ).first()
        if seen is None:
            assert member.id is not None
            session.add(
                Feedback(
                    member_id=member.id,
                    issue_id=issue_id,
                    pick_id=pick.id,
                    kind=kind,
                    created_at=now,
                )
            )
    return Click(state=state, member_id=member.id)


def stored_picks(
    session: Session, member_id: int | None, issue_ids: list[int], *, now: datetime
) -> tuple[list[Recommendation], dict[int, str]]:
    """Cards and states for `issue_ids` (in that order) from the database."""
    if not issue_ids:
        return [], {}
    rows = session.exec(
        select(Issue, Repository)
        .join(Repository, col(Repository.id) == col(Issue.repository_id))
        .where(col(Issue.id).in_(issue_ids))
    ).all()
    picks = {}
    if member_id is not None:
        for stored in session.exec(
            select(Pick).where(col(Pick.member_id) == member_id, col(Pick.issue_id).in_(issue_ids))
        ).all():
            picks[stored.issue_id] = stored
    by_id = {}
    for issue, repo in rows:
        assert issue.id is not None
        pick = picks.get(issue.id)
        by_id[issue.id] = stored_recommendation(
            issue, repo, now=now, member_id=member_id, reasons=pick.reasons if pick else None
        )
    ordered = [by_id[i] for i in issue_ids if i in by_id]
    states = {i: p.state for i, p in picks.items() if p.state != "shown"}
    return ordered, states


def rerender(
    engine: Engine,
    team_id: str,
    user_id: str,
    issue_ids: list[int],
    *,
    now: datetime,
    header: str = "Your picks",
    extra_notes: Mapping[int, CardNote] | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) of a picks message rebuilt from the database: held picks say
    until when; `extra_notes` (a hold attempt's outcome) override per issue."""
    from bot.slack.holds import card_notes

    with session_scope(engine) as session:
        member = find_member(session, team_id, user_id)
        cards, states = stored_picks(session, member.id if member else None, issue_ids, now=now)
        notes = card_notes(session, member, issue_ids, now)
    notes.update(extra_notes or {})
    blocks = pick_blocks(cards, header=header, states=states, notes=notes)
    return fallback_text(cards), blocks
