"""Picks of a ledger row: load them for rendering, re-check stale ones, substitute the taken."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bot.config import Settings
from bot.core.availability import Policy, Viewer, issue_reasons
from bot.core.vocabulary import PickState
from bot.deliver.ledger import add_picks
from bot.match.recommendation import Recommendation, stored_recommendation
from bot.store.models import Issue, Member, Pick, Repository

log = structlog.get_logger(__name__)

WITHDRAWN = PickState.WITHDRAWN  # a pick replaced before sending (the issue became unavailable)

# (engine, settings, issues, now) -> None: refresh these issues' rows from GitHub as of `now`.
Rechecker = Callable[[Engine, Settings, list[Issue], datetime], None]
# (session, settings, member_ids, n, now) -> {member_id: [Recommendation-like]}
Recommender = Callable[..., dict[int, list[Any]]]


def load_picks(session: Session, delivery_id: int, now: datetime) -> list[Recommendation]:
    """The picks of a DM ledger row, best first, without withdrawn ones."""
    return load_many_picks(session, [delivery_id], now).get(delivery_id, [])


@dataclass
class Prepared:
    """A DM row's picks, and whether any of them is older than the re-check age."""

    picks: list[Recommendation]
    stale: bool


def load_many_picks(
    session: Session, delivery_ids: Sequence[int], now: datetime
) -> dict[int, list[Recommendation]]:
    """Picks of many DM rows in one query per 500 rows: {delivery id: picks best first}."""
    return {k: v.picks for k, v in prepare_many(session, delivery_ids, now, None).items()}


def prepare_many(
    session: Session, delivery_ids: Sequence[int], now: datetime, max_age: timedelta | None
) -> dict[int, Prepared]:
    """Picks and staleness of many DM rows (batched, so sending does no per-row reads)."""
    result: dict[int, Prepared] = {}
    ids = list(delivery_ids)
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(Pick, Issue, Repository)
            .join(Issue, col(Issue.id) == col(Pick.issue_id))
            .join(Repository, col(Repository.id) == col(Issue.repository_id))
            .where(
                col(Pick.delivery_id).in_(ids[start : start + 500]),
                col(Pick.state) != WITHDRAWN,
            )
            .order_by(col(Pick.delivery_id), col(Pick.rank))
        )
        for pick, issue, repo in rows:
            entry = result.setdefault(pick.delivery_id, Prepared([], False))
            entry.picks.append(
                stored_recommendation(
                    issue,
                    repo,
                    now=now,
                    member_id=pick.member_id,
                    score=pick.score,
                    reasons=pick.reasons,
                )
            )
            if max_age is not None and issue.crawled_at < now - max_age:
                entry.stale = True
            if repo.gone_at is not None:  # deleted since the ledger row was written: replace
                entry.stale = True
    return result


def load_content(
    session: Session, content: Sequence[dict[str, Any]], now: datetime
) -> list[Recommendation]:
    """The picks stored on a channel ledger row (issue ids, scores, reasons)."""
    ids = [int(item["issue_id"]) for item in content]
    found = {
        i.id: (i, r)
        for i, r in session.execute(
            select(Issue, Repository)
            .join(Repository, col(Repository.id) == col(Issue.repository_id))
            .where(col(Issue.id).in_(ids))
        )
    }
    picks = []
    for item in content:
        pair = found.get(int(item["issue_id"]))
        if pair and not item.get("withdrawn"):
            picks.append(
                stored_recommendation(
                    pair[0],
                    pair[1],
                    now=now,
                    score=item.get("score", 0.0),
                    reasons=item.get("reasons"),
                )
            )
    return picks


def default_rechecker(
    engine: Engine, settings: Settings, issues: list[Issue], now: datetime
) -> None:
    """Refresh issues from GitHub with the crawl stage's single-repository crawl.

    Each repository is crawled once (that refreshes all its issues, so later members' picks
    from it are fresh). Without a GITHUB_TOKEN the unauthenticated budget (10 searches/min)
    is kept for the crawl and the stored data is used as is; likewise when the crawl stage is
    absent or fails.
    """
    if settings.github_token is None:
        log.info("recheck_skipped", reason="no GITHUB_TOKEN", issues=len(issues))
        return
    try:
        from bot.github.crawl import crawl
    except ImportError:
        log.info("recheck_unavailable", reason="bot.github.crawl not present", issues=len(issues))
        return
    with Session(engine) as session:
        repo_ids = {issue.repository_id for issue in issues}
        names = session.scalars(
            select(col(Repository.full_name)).where(col(Repository.id).in_(repo_ids))
        ).all()
    for name in names:
        try:
            crawl(engine, settings, repo=name, now=now)
        except Exception as exc:  # a failed re-check never blocks a digest
            log.warning("recheck_failed", repo=name, error=type(exc).__name__)


def recheck_and_substitute(
    engine: Engine,
    settings: Settings,
    delivery_id: int,
    member_id: int,
    *,
    now: datetime,
    rechecker: Rechecker,
    recommender: Recommender,
) -> int:
    """Re-check picks whose data is older than `github.recheck_after_hours`; replace the ones
    that became unavailable with the member's next best picks. Returns how many were replaced.
    """
    max_age = timedelta(hours=settings.github.recheck_after_hours)
    with Session(engine) as session:
        stale = list(
            session.scalars(
                select(Issue)
                .join(Pick, col(Pick.issue_id) == col(Issue.id))
                .where(
                    col(Pick.delivery_id) == delivery_id,
                    col(Pick.state) != WITHDRAWN,
                    col(Issue.crawled_at) < now - max_age,
                )
            )
        )
    if stale:  # without stale picks, still check availability (e.g. a repository now gone)
        rechecker(engine, settings, stale, now)
    with Session(engine) as session, session.begin():
        current = list(
            session.execute(
                select(Pick, Issue)
                .join(Issue, col(Issue.id) == col(Pick.issue_id))
                .where(col(Pick.delivery_id) == delivery_id, col(Pick.state) != WITHDRAWN)
            )
        )
        member = session.get(Member, member_id)
        viewer = Viewer(member_id, member.team_id if member else "")
        reasons = issue_reasons(
            session, [issue.id for _, issue in current], Policy.at(settings, now), viewer
        )
        gone = [pick for pick, issue in current if reasons.get(issue.id) is not None]
        if not gone:
            return 0
        keep = {issue.id for _, issue in current}
        wanted = settings.digest.picks
        fresh = recommender(session, settings, [member_id], n=wanted + len(gone) + 3, now=now)
        replacements = [rec for rec in fresh.get(member_id, []) if rec.issue_id not in keep][
            : len(gone)
        ]
        session.execute(
            update(Pick).where(col(Pick.id).in_([p.id for p in gone])).values(state=WITHDRAWN)
        )
        add_picks(
            session,
            member_id,
            delivery_id,
            replacements,
            now=now,
            first_rank=max(p.rank for p, _ in current) + 1,
        )
    log.info(
        "picks_substituted", delivery=delivery_id, withdrawn=len(gone), replaced=len(replacements)
    )
    return len(gone)
