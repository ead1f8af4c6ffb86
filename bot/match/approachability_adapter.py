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
from sqlmodel import Session, col, select

from bot.match.issues import IssueTable
from bot.store.models import Reporter

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


def refresh(session: Session, table: IssueTable, mask: np.ndarray, now: datetime) -> int:
    """Score the issues selected by `mask` whose cached score is missing or older than their crawl.

    Updates `table.approachability` and the Issue rows (added to the session); returns how many
    issues were scored.
    """
    stale = [
        int(i)
        for i in np.nonzero(mask)[0]
        if table.issues[i].approachability is None
        or table.issues[i].approachability_at is None
        or _older(table.issues[i].approachability_at, table.issues[i].crawled_at)
    ]
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
    for column, issue in zip(stale, issues, strict=True):
        value = scores.get(issue.id or 0)
        if value is None or not np.isfinite(value):
            continue
        issue.approachability = float(value)
        issue.approachability_at = now
        table.approachability[column] = value
        session.add(issue)
    return len(stale)
