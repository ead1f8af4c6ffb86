"""`Recommendation`: one pick for one member, as cards and digests show it (light: no NumPy)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.store.models import Issue, Repository


@dataclass
class Recommendation:
    """One pick for one member: what to show on a card and why it was chosen."""

    member_id: int | None
    issue_id: int
    repo_full_name: str
    issue_number: int
    title: str
    url: str
    labels: list[str]
    score: float
    reasons: list[str]  # human-readable "why", strongest first
    signals: dict[str, Any] = field(default_factory=dict)
    rank: int = 0  # 1 = best pick of this member in this run


def stored_recommendation(
    issue: Issue,
    repo: Repository,
    *,
    now: datetime,
    member_id: int | None = None,
    score: float = 0.0,
    reasons: Iterable[str] | None = None,
) -> Recommendation:
    """A pick rebuilt from stored rows (a ledger row being sent, a card being re-rendered)."""
    signals: dict[str, Any] = {"comments": issue.comments_count}
    if issue.created_at is not None:
        signals["age_days"] = max(0, (now - issue.created_at).days)
    if repo.maintainer_response_hours is not None:
        signals["maintainer_response_hours"] = repo.maintainer_response_hours
    if repo.primary_language:
        signals["language"] = repo.primary_language
    if repo.rules:
        signals["expects"] = dict(repo.rules)
    return Recommendation(
        member_id=member_id,
        issue_id=issue.id or 0,
        repo_full_name=repo.full_name,
        issue_number=issue.number,
        title=issue.title,
        url=issue.url,
        labels=list(issue.labels or []),
        score=float(score),
        reasons=list(reasons or []),
        signals=signals,
    )
