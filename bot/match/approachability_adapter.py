"""Approachability scores for the ranker: the shipped model when available, else neutral 0.5.

Scores are cached on `Issue.approachability` with `Issue.approachability_at`; an issue is scored
again after a newer crawl of it. When the model cannot be loaded the ranker treats every unscored
issue as neutral (0.5) and stores nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
import structlog
from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from bot.match.issues import IssueTable
from bot.store.models import Issue, Reporter

log = structlog.get_logger(__name__)
NEUTRAL = 0.5


def _scorer() -> Callable[..., dict[int, float]] | None:
    try:
        from bot.match.approachability import score_issues
    except ImportError:  # the model module is optional at run time
        return None
    return score_issues


def _older(scored_at: datetime | None, crawled_at: datetime | None) -> bool:
    """True when the issue was crawled after its score was computed."""
    return scored_at is not None and crawled_at is not None and scored_at < crawled_at


def scored_mask(table: IssueTable) -> np.ndarray:
    """bool [I]: issues whose stored score is newer than their last crawl."""
    return np.fromiter(
        (
            i.approachability is not None
            and i.approachability_at is not None
            and not _older(i.approachability_at, i.crawled_at)
            for i in table.issues
        ),
        dtype=bool,
        count=table.size,
    )


def refresh(
    session: Session,
    table: IssueTable,
    mask: np.ndarray,
    now: datetime,
    scored: np.ndarray | None = None,
) -> int:
    """Score the issues selected by `mask` whose cached score is missing or older than their crawl.

    Updates `table.approachability`, `scored` (the `scored_mask` of the table, kept up to date
    in place; computed when None) and the Issue rows (in the session's transaction); returns how
    many issues were scored. The stored scores are a cache of the model's output, not an input
    change: writing them leaves the ranker's generation as it is (bot/core/generation.py).
    """
    scored = scored_mask(table) if scored is None else scored
    stale = np.nonzero(mask & ~scored)[0].tolist()
    if not stale:
        return 0
    score_issues = _scorer()
    if score_issues is None:
        return 0
    issues = [table.issues[i] for i in stale]
    repos = {repo.id: repo for repo in table.repos}
    logins = sorted({i.author_login.lower() for i in issues if i.author_login})
    reporters = {
        row.login: row
        for row in session.exec(select(Reporter).where(col(Reporter.login).in_(logins)))
    }
    try:
        scores = score_issues(issues, repos, reporters=reporters)
    except Exception as exc:  # a broken model file must not stop digests
        log.warning("match.approachability_failed", error=str(exc)[:200])
        return 0
    params = []
    for column, issue in zip(stale, issues, strict=True):
        scored[column] = True
        value = scores.get(issue.id or 0)
        if value is None or not np.isfinite(value):
            continue
        table.approachability[column] = value
        params.append({"b_id": issue.id, "b_value": float(value), "b_at": now})
    if params:
        issue_t = Issue.__table__  # type: ignore[attr-defined]
        session.execute(
            update(issue_t)
            .where(issue_t.c.id == bindparam("b_id"))
            .values(approachability=bindparam("b_value"), approachability_at=bindparam("b_at"))
            .execution_options(rank_generation=False),
            params,
        )
    return len(stale)
