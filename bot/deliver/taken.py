""" "Already taken" reports: one per member and issue, kept in the reporter's workspace.

A report hides the issue from its reporter at once. The issue is then re-checked on GitHub
(`IssueChecker`): if GitHub shows an assignee, an open linked PR or a claim, the issue row says
so and the availability module's issue rules hide it from everyone, with GitHub's reason.
Otherwise it is hidden from the rest of the workspace only once enough distinct members there
reported it (`match.taken_reporters_needed`), until GitHub shows new activity on it. A member
can report `match.taken_reports_per_hour` issues per hour; past that nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import structlog
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bot.config import Settings
from bot.core.availability import ISSUE_RULES, Policy, Reason, issue_reason
from bot.store.models import Issue, Member, TakenReport

log = structlog.get_logger(__name__)

# (engine, settings, issue id, now) -> True when the issue row was refreshed from GitHub.
IssueChecker = Callable[[Engine, Settings, int, datetime], bool]

ISSUE_REASON_VALUES = frozenset(rule.reason.value for rule in ISSUE_RULES)


class ReportOutcome(StrEnum):
    """What happened to one "Already taken" click."""

    STORED = "stored"  # new report (or a repeat of the member's own: nothing new)
    LIMITED = "limited"  # over the hourly limit: nothing stored


@dataclass(frozen=True)
class ReportResult:
    """The outcome, and GitHub's reason when the re-check confirmed the issue is taken."""

    outcome: ReportOutcome
    confirmed: Reason | None = None


def limit_message(settings: Settings) -> str:
    """The ephemeral reply to a report over the hourly limit."""
    k = settings.match.taken_reports_per_hour
    return (
        f":hourglass: You can report at most {k} issues as already taken per hour. "
        "Nothing was recorded this time; try again later."
    )


def store_report(
    session: Session, settings: Settings, member: Member, issue_id: int, now: datetime
) -> ReportOutcome:
    """Add `member`'s report on `issue_id` at `now` unless over the hourly limit."""
    assert member.id is not None
    existing = session.scalars(
        select(TakenReport).where(
            col(TakenReport.member_id) == member.id,
            col(TakenReport.issue_id) == issue_id,
        )
    ).first()
    if existing is not None:
        return ReportOutcome.STORED
    recent = session.scalar(
        select(func.count())
        .select_from(TakenReport)
        .where(
            col(TakenReport.member_id) == member.id,
            col(TakenReport.reported_at) > now - timedelta(hours=1),
        )
    )
    if (recent or 0) >= settings.match.taken_reports_per_hour:
        return ReportOutcome.LIMITED
    session.add(
        TakenReport(team_id=member.team_id, member_id=member.id, issue_id=issue_id, reported_at=now)
    )
    session.flush()
    return ReportOutcome.STORED


def confirm_report(
    engine: Engine,
    settings: Settings,
    member_id: int,
    issue_id: int,
    now: datetime,
    checker: IssueChecker | None,
) -> Reason | None:
    """Re-check the issue on GitHub; record and return GitHub's reason when it is taken."""
    checked = False
    if checker is not None:
        try:
            checked = checker(engine, settings, issue_id, now)
        except Exception as exc:  # a failed re-check keeps the report unconfirmed
            log.warning("taken_recheck_failed", issue=issue_id, error=type(exc).__name__)
    with Session(engine) as session, session.begin():
        reason = issue_reason(session, issue_id, Policy.at(settings, now))
        report = session.scalars(
            select(TakenReport).where(
                col(TakenReport.member_id) == member_id,
                col(TakenReport.issue_id) == issue_id,
            )
        ).first()
        if report is not None and checked:
            report.github_reason = reason.value if reason else ""
            report.checked_at = now
            session.add(report)
    log.info("taken_report", issue=issue_id, checked=checked, reason=reason)
    return reason if checked else None


def default_checker(engine: Engine, settings: Settings, issue_id: int, now: datetime) -> bool:
    """Refresh one issue from GitHub with the github stage's single-issue check."""
    from bot.github.issue_check import check_issue

    return check_issue(engine, settings, issue_id, now=now)


def issue_exists(session: Session, issue_id: int) -> bool:
    """The issue is stored (a click can carry an id that was never, or no longer, stored)."""
    return session.get(Issue, issue_id) is not None
