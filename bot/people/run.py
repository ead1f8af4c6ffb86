"""The daily people pass of one workspace: lapse old offers, invite mentors, run a buddy round
when due, ask follow-ups, count ignored intros, queue merge celebrations. Everything it queues
goes out through the people ledger (`bot.deliver.intros.deliver_pending`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.config.settings import Settings
from bot.deliver.celebrate import queue_celebrations
from bot.people.buddies import run_round
from bot.people.followups import count_ignored, send_followups
from bot.people.mentors import expire_offers, invite_mentors
from bot.store.db import session_scope
from bot.store.models import Member


@dataclass
class PassReport:
    """What one people pass queued, per workspace summed."""

    teams: int = 0
    buddy_intros: int = 0
    followups: int = 0
    paused: list[int] = field(default_factory=list)
    invitations: int = 0
    lapsed_offers: int = 0
    celebrations: int = 0  # merges of opted-in members queued for a DM (issue 19)


def run_pass(
    engine: Engine, settings: Settings, now: datetime, *, invite: bool = True
) -> PassReport:
    """One pass over every workspace (each in its own transaction)."""
    report = PassReport()
    with session_scope(engine) as session:
        teams = sorted(set(session.exec(select(Member.team_id).distinct()).all()))
    for team_id in teams:
        report.teams += 1
        with session_scope(engine) as session:
            report.lapsed_offers += expire_offers(session, settings, team_id, now)
            if invite:
                report.invitations += invite_mentors(session, settings, team_id, now)
            report.buddy_intros += run_round(session, settings, team_id, now) or 0
            report.followups += send_followups(session, settings, team_id, now)
            report.paused += count_ignored(session, settings, team_id, now)
            report.celebrations += queue_celebrations(session, settings, team_id, now)
    return report
