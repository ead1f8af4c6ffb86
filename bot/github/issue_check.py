"""Re-check one stored issue on GitHub right away (after an "Already taken" click).

With a token: one GraphQL query for that single issue (`repository { issue(number:) }`, 1 point)
with the crawl's issue fields. Without one: the REST issue, its comments and its timeline
(3 core requests). The refreshed row is stored like a crawl would store it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.github import queries
from bot.github.auth import crawl_token
from bot.github.client import GitHubClient, GitHubError, NotFound
from bot.github.persist import CrawlStore, Target
from bot.github.signals import issue_values, rest_issue_values
from bot.store.db import session_scope
from bot.store.models import Issue, Repository

log = structlog.get_logger(__name__)


def issue_query(full_name: str, number: int) -> str:
    """GraphQL for one issue with the crawl's fields."""
    owner, name = full_name.split("/", 1)
    return (
        "query Issue {\n"
        f"  repository(owner: {queries.literal(owner)}, name: {queries.literal(name)}) {{\n"
        f"    issue(number: {int(number)}) {{ ...IssueFields }}\n"
        f"  }}\n  {queries.RATE}\n}}\n{queries.ISSUE_FRAGMENT}"
    )


def fetch_values(
    client: GitHubClient, full_name: str, number: int, now: datetime, stale: timedelta
) -> dict[str, Any] | None:
    """The issue's columns as GitHub shows them now (None when GitHub has no such issue)."""
    if client.authenticated:
        result = client.graphql(issue_query(full_name, number), estimate=1)
        node = (result.data.get("repository") or {}).get("issue")
        return issue_values(node, now=now, stale_claim_after=stale) if node else None
    base = f"/repos/{full_name}/issues/{int(number)}"
    try:
        item = client.get(base).json()
    except NotFound:
        return None
    comments = []
    if item.get("comments"):
        comments = client.get(f"{base}/comments", {"per_page": 100}).json()
    timeline = client.get(f"{base}/timeline", {"per_page": 100}).json()
    return rest_issue_values(
        item, comments=comments, timeline=timeline, now=now, stale_claim_after=stale
    )


def check_issue(
    engine: Engine,
    settings: Settings,
    issue_id: int,
    *,
    now: datetime,
    client: GitHubClient | None = None,
) -> bool:
    """Refresh stored issue `issue_id` from GitHub as of `now`; True when it was refreshed.

    A member waits for this: the default client tries twice and waits at most 10 s.
    """
    with session_scope(engine) as session:
        issue = session.get(Issue, issue_id)
        repo = session.get(Repository, issue.repository_id) if issue else None
        if issue is None or repo is None:
            return False
        target = Target(
            id=repo.id or 0,
            full_name=repo.full_name,
            beginner_labels=None,
            fingerprint=None,
            full_crawled_at=None,
            crawl_error=None,
        )
        number = issue.number
    own = client is None
    try:
        client = client or GitHubClient(
            settings.github_api_url,
            crawl_token(settings),
            max_attempts=2,
            max_wait=10.0,
            timeout=10.0,
            concurrency=1,
        )
    except GitHubError as exc:
        log.warning("issue_check_failed", issue=issue_id, error=str(exc))
        return False
    stale = timedelta(days=settings.github.stale_assignment_days)
    try:
        values = fetch_values(client, target.full_name, number, now, stale)
    except GitHubError as exc:
        log.warning("issue_check_failed", issue=issue_id, error=str(exc))
        return False
    finally:
        if own:
            client.close()
    store = CrawlStore(engine, dry_run=False)
    if values is None:
        store.update_issue(target, number, {"state": "gone", "crawled_at": now})
    else:
        store.save_issues(target, [values], now)
    return True
