"""`crawl()`: fill Repository fields and Issue rows (with availability signals) from GitHub.

With a token it uses GraphQL (`graphql_crawl`); without one, REST search (`rest_crawl`). A
failure on one repository or page never aborts the crawl; failed repositories keep what was
stored and are retried next run; a crawl killed midway resumes (completed repositories have
their fingerprint stored and are skipped by the change check).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.core.clock import Clock, utc_clock
from bot.github.auth import crawl_token
from bot.github.client import BudgetExhausted, GitHubClient, GitHubError, RateLimited
from bot.github.graphql_crawl import GraphQLCrawler
from bot.github.outcomes import track_outcomes
from bot.github.persist import CrawlStore, CrawlTargetError, load_targets
from bot.github.report import CrawlReport
from bot.github.rest_crawl import RestCrawler

log = structlog.get_logger(__name__)

__all__ = ["CrawlReport", "CrawlTargetError", "crawl", "make_client"]


def make_client(settings: Settings) -> GitHubClient:
    """A client for `settings.github_api_url`, authenticated when a token (or a GitHub App)
    is configured; raises GitHubError when the App token cannot be obtained."""
    return GitHubClient(
        settings.github_api_url,
        crawl_token(settings),
        budget_share=settings.github.max_budget_share,
        concurrency=settings.github.concurrency,
    )


def _track(
    engine: Engine, client: GitHubClient, settings: Settings, report: CrawlReport, now: datetime
) -> None:
    """Follow the picks after the issues are fresh (issue 19)."""
    outcome = track_outcomes(
        engine,
        client,
        now=now,
        track_days=settings.outcomes.track_days,
        sweep_days=settings.outcomes.sweep_days,
    )
    report.outcome_points = outcome.points
    report.outcomes_changed = outcome.changed
    report.merged_new = outcome.merged_new


def crawl(
    engine: Engine,
    settings: Settings,
    *,
    repo: str | None = None,
    dry_run: bool = False,
    progress: Callable[[CrawlReport], None] | None = None,
    client: GitHubClient | None = None,
    now: datetime,
    clock: Clock = utc_clock,
) -> CrawlReport:
    """Crawl every listed repository (or only `repo`, "owner/name"); never raises for API
    failures (they are in the report), raises `CrawlTargetError` for an unknown `repo`.

    `now` is the crawl's time for every stored row; `clock` only dates the run's end."""
    targets = load_targets(engine, repo)
    own_client = client is None
    store = CrawlStore(engine, dry_run=dry_run)
    try:
        client = client or make_client(settings)
    except GitHubError as exc:  # e.g. the GitHub App token could not be minted
        report = CrawlReport(mode="graphql", dry_run=dry_run, repos_total=len(targets))
        report.stopped = str(exc)
        run_id = store.start_run(report.mode, len(targets), now)
        store.finish_run(run_id, {"finished_at": clock(), "status": "failed", "error": str(exc)})
        log.error("crawl.failed", error=str(exc))
        return report
    report = CrawlReport(
        mode="graphql" if client.authenticated else "rest",
        dry_run=dry_run,
        repos_total=len(targets),
    )
    report.run_id = store.start_run(report.mode, len(targets), now)
    log.info("crawl.start", mode=report.mode, repos=len(targets), dry_run=dry_run)
    finished = False
    try:
        if client.authenticated:
            GraphQLCrawler(client, store, settings, report, now=now, progress=progress).run(targets)
            if settings.outcomes.enabled and not dry_run and repo is None:
                _track(engine, client, settings, report, now)
        else:
            RestCrawler(client, store, settings, report, now=now, progress=progress).run(targets)
        finished = True
    except (RateLimited, BudgetExhausted) as exc:
        report.stopped = str(exc)
        finished = True
        log.warning("crawl.stopped", reason=str(exc))
    except GitHubError as exc:
        report.stopped = f"GitHub error: {exc}"
        finished = True
        log.error("crawl.failed", error=str(exc))
    finally:
        resource = "graphql" if client.authenticated else "search"
        report.requests = client.usage.requests
        report.points = client.usage.points
        report.budget_left = client.budget_left(resource)
        report.budget_limit = client.usage.limit.get(resource)
        if own_client:
            client.close()
        store.finish_run(
            report.run_id,
            {
                "finished_at": clock(),
                "status": report.status if finished else "failed",
                "repos_done": report.repos_done,
                "repos_failed": report.repos_failed,
                "issues_seen": report.issues_seen,
                "requests": report.requests,
                "points": report.points,
                "budget_left": report.budget_left,
                "error": (None if finished else "interrupted")
                or report.stopped
                or ("; ".join(f"{k}: {v}" for k, v in list(report.failures.items())[:20]) or None),
            },
        )
        if progress:
            progress(report)
    log.info(
        "crawl.done",
        status=report.status,
        repos_done=report.repos_done,
        unchanged=report.repos_unchanged,
        failed=report.repos_failed,
        gone=report.repos_gone,
        issues=report.issues_seen,
        requests=report.requests,
        points=report.points,
        budget_left=report.budget_left,
    )
    return report
