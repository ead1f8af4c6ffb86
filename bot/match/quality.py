"""The community's own quality numbers, per ISO week: picks sent, Interested clicks, holds, PRs
opened, PRs merged, hit@k and the time from pick to merge.

hit@k (PFIRec's measure) = of the members with a GitHub login who got picks in a week (only
their outcomes can be followed), the share whose top-k picks of that week (their k best-ranked
picks: digests store ranks from 0, on-demand picks from 1) led to a merged PR within 30 and 60
days of the pick. A week younger than the window is still counted
(what is known so far) and marked as not yet mature. Scoped by workspace; `team_id=None` is
every workspace (operators).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from bot.core.vocabulary import FeedbackKind, PickOutcomeState
from bot.deliver.due import iso_week, week_monday
from bot.store.models import Feedback, Hold, Member, MergedPR, Pick, PickOutcome

KS = (1, 3)
WINDOWS = (30, 60)


@dataclass
class WeekQuality:
    """One ISO week's figures."""

    week: str
    picks: int = 0
    interested: int = 0
    holds: int = 0
    prs_opened: int = 0
    merged: int = 0  # members' merged PRs in catalog repositories that week
    merged_picks: int = 0  # of the week's picks: merged so far
    tracked_members: int = 0  # members with a GitHub login who got picks that week
    hit: dict[str, float] = field(default_factory=dict)  # "hit@3/30d" -> share
    mature: dict[str, bool] = field(default_factory=dict)  # "30d" -> window over
    median_days_to_merge: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def count_holds(session: Session, team_id: str | None, start: datetime, end: datetime) -> int:
    """Claim holds started in [start, end) in one workspace (every workspace when None)."""
    query = (
        select(func.count())
        .select_from(Hold)
        .where(col(Hold.held_at) >= start, col(Hold.held_at) < end)
    )
    if team_id is not None:
        query = query.where(Hold.team_id == team_id)
    return int(session.exec(query).one())


def _week_start(week: str) -> datetime:
    return datetime.combine(week_monday(week), time(0), tzinfo=UTC)


def _weeks(now: datetime, count: int) -> list[str]:
    start = now.date() - timedelta(days=now.weekday())
    return [iso_week(start - timedelta(weeks=i)) for i in reversed(range(count))]


def _member_filter(query: Any, column: Any, team_id: str | None) -> Any:
    query = query.join(Member, col(Member.id) == column)
    return query.where(Member.team_id == team_id) if team_id is not None else query


def weekly_quality(
    session: Session, team_id: str | None, now: datetime, weeks: int = 8
) -> list[WeekQuality]:
    """The last `weeks` ISO weeks up to `now`'s, oldest first."""
    keys = _weeks(now, weeks)
    out = {key: WeekQuality(week=key) for key in keys}
    since = _week_start(keys[0])
    picks = session.exec(
        _member_filter(
            select(Pick, Member.github_login, PickOutcome).outerjoin(
                PickOutcome, col(PickOutcome.pick_id) == col(Pick.id)
            ),
            col(Pick.member_id),
            team_id,
        ).where(col(Pick.created_at) >= since)
    ).all()
    cohort: dict[str, dict[int, list[tuple[Pick, PickOutcome | None]]]] = defaultdict(dict)
    for pick, login, outcome in picks:
        week = iso_week(pick.created_at.date())
        if week not in out:
            continue
        out[week].picks += 1
        if outcome is not None and outcome.state == PickOutcomeState.MERGED.value:
            out[week].merged_picks += 1
        if login:
            cohort[week].setdefault(pick.member_id, []).append((pick, outcome))
    clicks = session.exec(
        _member_filter(select(Feedback.created_at), col(Feedback.member_id), team_id).where(
            Feedback.kind == FeedbackKind.INTERESTED.value, col(Feedback.created_at) >= since
        )
    ).all()
    for when in clicks:
        if (week := iso_week(when.date())) in out:
            out[week].interested += 1
    opened = session.exec(
        _member_filter(select(PickOutcome.pr_opened_at), col(PickOutcome.member_id), team_id).where(
            col(PickOutcome.pr_opened_at) >= since
        )
    ).all()
    for when in opened:
        if when and (week := iso_week(when.date())) in out:
            out[week].prs_opened += 1
    merged = session.exec(
        _member_filter(select(MergedPR.merged_at), col(MergedPR.member_id), team_id).where(
            col(MergedPR.merged_at) >= since
        )
    ).all()
    for when in merged:
        if (week := iso_week(when.date())) in out:
            out[week].merged += 1
    for key, row in out.items():
        start = _week_start(key)
        row.holds = count_holds(session, team_id, start, start + timedelta(weeks=1))
        _hits(row, cohort.get(key, {}), now, start)
    return [out[key] for key in keys]


def _hits(
    row: WeekQuality,
    members: dict[int, list[tuple[Pick, PickOutcome | None]]],
    now: datetime,
    start: datetime,
) -> None:
    row.tracked_members = len(members)
    days: list[float] = []
    for days_window in WINDOWS:
        row.mature[f"{days_window}d"] = now >= start + timedelta(weeks=1, days=days_window)
    ranked = [
        sorted(picks, key=lambda pair: (pair[0].rank, pair[0].created_at, pair[0].id or 0))
        for picks in members.values()
    ]
    for k in KS:
        for window in WINDOWS:
            hits = sum(
                any(
                    outcome is not None
                    and outcome.merged_at is not None
                    and outcome.state == PickOutcomeState.MERGED.value
                    and outcome.merged_at - pick.created_at <= timedelta(days=window)
                    for pick, outcome in picks[:k]
                )
                for picks in ranked
            )
            row.hit[f"hit@{k}/{window}d"] = round(hits / len(members), 4) if members else 0.0
    for picks in members.values():
        for pick, outcome in picks:
            if outcome is not None and outcome.merged_at and outcome.state == "merged":
                days.append((outcome.merged_at - pick.created_at).total_seconds() / 86400)
    row.median_days_to_merge = round(statistics.median(days), 1) if days else None


def overall_hit(weeks: list[WeekQuality], key: str = "hit@3/60d") -> float:
    """hit@k over all weeks' cohorts (weighted by each week's tracked members)."""
    total = sum(w.tracked_members for w in weeks)
    if not total:
        return 0.0
    return round(sum(w.hit.get(key, 0.0) * w.tracked_members for w in weeks) / total, 4)


def quality_lines(weeks: list[WeekQuality]) -> list[str]:
    """Plain-text lines (one per week with anything in it) for Slack and the CLI."""
    lines = []
    for w in weeks:
        if not (w.picks or w.merged or w.interested or w.prs_opened):
            continue
        median = f"{w.median_days_to_merge:g}d" if w.median_days_to_merge is not None else "–"
        pending = "" if w.mature.get("60d") else " (still open)"
        lines.append(
            f"{w.week}: {w.picks} picks · {w.interested} interested · {w.holds} holds · "
            f"{w.prs_opened} PRs opened · {w.merged} merged · "
            f"hit@1 {w.hit.get('hit@1/30d', 0):.0%}/{w.hit.get('hit@1/60d', 0):.0%} · "
            f"hit@3 {w.hit.get('hit@3/30d', 0):.0%}/{w.hit.get('hit@3/60d', 0):.0%}"
            f"{pending} · pick→merge {median}"
        )
    return lines
