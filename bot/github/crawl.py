"""`crawl()`: fill Repository fields and Issue rows (with availability signals) from GitHub.

With a token it uses GraphQL (`graphql_crawl`); without one, REST search (`rest_crawl`). A
failure on one repository or page never aborts the crawl; failed repositories keep what was
stored and are retried by the next pass. A crawl pass (`crawl_pass`) covers the catalog over as
many runs as the budget needs: a run stopped by its budget, or killed midway, is resumed by the
next run with the repositories the pass has not handled yet.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.core.clock import Clock, utc_clock
from bot.github.auth import crawl_token
from bot.github.client import BudgetExhausted, GitHubClient, GitHubError, RateLimited
from bot.github.crawl_pass import close_run, open_pass
from bot.github.graphql_crawl import GraphQLCrawler
from bot.github.outcomes import track_outcomes
from bot.github.persist import CrawlStore, CrawlTargetError, Target, load_targets
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
        reserve=settings.github.budget_reserve,
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
    """Crawl the listed repositories the current crawl pass has not handled yet (or only
    `repo`, "owner/name", outside any pass); never raises for API failures (they are in the
    report), raises `CrawlTargetError` for an unknown `repo`.

    `now` is the crawl's time for every stored row; `clock` only dates the run's end. A run
    that stops before the budget runs out says when it can resume (`report.resume_at`)."""
    targets = load_targets(engine, repo)
    in_pass = repo is None and not dry_run
    pass_id, todo = open_pass(engine, now, targets) if in_pass else (None, targets)
    store = CrawlStore(engine, dry_run=dry_run, pass_id=pass_id)
    own_client = client is None
    try:
        client = client or make_client(settings)
    except GitHubError as exc:  # e.g. the GitHub App token could not be minted
        client = None
        report = CrawlReport(mode="graphql", dry_run=dry_run, repos_total=len(targets))
        report.stopped = str(exc)
    else:
        mode = "graphql" if client.authenticated else "rest"
        report = CrawlReport(mode=mode, dry_run=dry_run, repos_total=len(targets))
    report.run_id = store.start_run(report.mode, len(targets), now)
    log.info("crawl.start", mode=report.mode, repos=len(todo), dry_run=dry_run, pass_id=pass_id)
    finished = client is None
    try:
        if client is not None:
            track = settings.outcomes.enabled and in_pass and client.authenticated
            then = (lambda c=client: _track(engine, c, settings, report, now)) if track else None
            _run(client, store, settings, report, todo, now=now, progress=progress, then=then)
            finished = True
    finally:
        if client is not None:
            _account(client, report)
            if own_client:
                client.close()
        store.finish_run(report.run_id, _run_values(report, finished, clock()))
        if pass_id is not None:
            _close_pass(engine, pass_id, targets, report, now)
        if progress:
            progress(report)
    log.info("crawl.done", **_summary(report))
    return report


def _run(
    client: GitHubClient,
    store: CrawlStore,
    settings: Settings,
    report: CrawlReport,
    targets: list[Target],
    *,
    now: datetime,
    progress: Callable[[CrawlReport], None] | None,
    then: Callable[[], None] | None = None,
) -> None:
    """Run the GraphQL (token) or REST crawler, then `then` (outcome tracking) if the crawl
    was not stopped; a stop or an API failure goes in the report."""
    crawler = GraphQLCrawler if client.authenticated else RestCrawler
    try:
        if client.authenticated and client.allowance("graphql") is None:
            client.rate_limit()  # free: plan the first wave against what is really left
        crawler(client, store, settings, report, now=now, progress=progress).run(targets)
        if then is not None and not report.stopped:
            then()
    except (RateLimited, BudgetExhausted) as exc:
        report.stopped = str(exc)
        reset = exc.reset if isinstance(exc, RateLimited) else None
        reset = reset or client.resets_at("graphql" if client.authenticated else "search")
        report.resume_at = datetime.fromtimestamp(reset, UTC) if reset else None
        log.warning("crawl.stopped", reason=str(exc), resume_at=str(report.resume_at))
    except GitHubError as exc:
        report.stopped = f"GitHub error: {exc}"
        log.error("crawl.failed", error=str(exc))


def _account(client: GitHubClient, report: CrawlReport) -> None:
    resource = "graphql" if client.authenticated else "search"
    report.requests = client.usage.requests
    report.points = client.usage.points
    report.budget_left = client.budget_left(resource)
    report.budget_limit = client.usage.limit.get(resource)


def _run_values(report: CrawlReport, finished: bool, finished_at: datetime) -> dict[str, Any]:
    """The CrawlRun row's columns at the end of a run."""
    failures = "; ".join(f"{k}: {v}" for k, v in list(report.failures.items())[:20])
    return {
        "finished_at": finished_at,
        "status": report.status if finished else "failed",
        "repos_done": report.repos_done,
        "repos_failed": report.repos_failed,
        "issues_seen": report.issues_seen,
        "requests": report.requests,
        "points": report.points,
        "budget_left": report.budget_left,
        "error": (None if finished else "interrupted") or report.stopped or failures or None,
    }


def _close_pass(
    engine: Engine, pass_id: int, targets: list[Target], report: CrawlReport, now: datetime
) -> None:
    progress = close_run(
        engine,
        pass_id,
        targets,
        now=now,
        points=report.points,
        stopped=report.stopped,
        resume_at=report.resume_at,
    )
    report.pass_id, report.pass_done, report.pass_total = pass_id, progress.done, progress.total
    if progress.finished:
        report.resume_at = None


def _summary(report: CrawlReport) -> dict[str, Any]:
    return {
        "status": report.status,
        "repos_done": report.repos_done,
        "unchanged": report.repos_unchanged,
        "failed": report.repos_failed,
        "gone": report.repos_gone,
        "issues": report.issues_seen,
        "requests": report.requests,
        "points": report.points,
        "budget_left": report.budget_left,
        "pass_done": report.pass_done,
        "pass_total": report.pass_total,
        "resume_at": str(report.resume_at) if report.resume_at else None,
    }
