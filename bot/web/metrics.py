"""Prometheus metrics the stages update; `/metrics` on the health server exposes them.

Import the object and update it where the thing happens, e.g.::

    from bot.web import metrics
    with metrics.CRAWL_DURATION.time(): ...
    metrics.GITHUB_BUDGET_LEFT.labels(resource="graphql").set(remaining)
    metrics.DIGEST_MESSAGES.labels(kind="dm", outcome="sent").inc()
    metrics.SLACK_RATE_LIMITED.labels(method="chat.postMessage").inc()
    with metrics.COMMAND_LATENCY.labels(command="picks").time(): ...

They live in prometheus-client's default registry (with its process and GC metrics). Issues by
availability and the last crawl's outcome are read from the database at scrape time by
`StoreCollector`, so they are right even in a replica that did not run the crawl.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col

from bot.config import Settings
from bot.core.availability import (
    ISSUE_RULES,
    Policy,
    Reason,
    held_in_some_workspace,
    hidden_in_some_workspace,
    reason_case,
)
from bot.store.models import CrawlRun, DigestRun, Issue, Repository

CRAWL_DURATION = Histogram(
    "matchmaker_crawl_duration_seconds",
    "Wall time of one catalog + GitHub crawl.",
    buckets=(5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200),
)
GITHUB_BUDGET_LEFT = Gauge(
    "matchmaker_github_budget_remaining",
    "GitHub rate-limit budget left, as last reported by the API (X-RateLimit-Remaining).",
    ["resource"],  # core | graphql | search
)
DIGEST_MESSAGES = Counter(
    "matchmaker_digest_messages",
    "Digest messages by outcome (sent, failed, skipped).",
    ["kind", "outcome"],  # kind: dm | channel
)
SLACK_RATE_LIMITED = Counter(
    "matchmaker_slack_rate_limited",
    "Slack Web API answers with HTTP 429 (rate limited).",
    ["method"],
)
SLACK_TOKEN_ERRORS = Counter(
    "matchmaker_slack_token_errors",
    "Slack answers saying the bot token or workspace is unusable (invalid_auth, token_revoked, …).",
    ["error"],
)
SLACK_TOKEN_OK = Gauge(
    "matchmaker_slack_token_ok",
    "1 after the last Slack post succeeded, 0 after a token-level error stopped sending.",
)
COMMAND_LATENCY = Histogram(
    "matchmaker_command_latency_seconds",
    "Time from receiving a slash command or action to its answer.",
    ["command"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10),
)


def record_digest(outcome: str, kind: str = "dm") -> None:
    """Count one digest message: outcome is "sent", "failed" or "skipped"."""
    DIGEST_MESSAGES.labels(kind=kind, outcome=outcome).inc()


def record_slack_429(method: str) -> None:
    """Count one HTTP 429 from the Slack Web API method `method`."""
    SLACK_RATE_LIMITED.labels(method=method).inc()


def record_slack_token_error(error: str) -> None:
    """A token-level Slack error: count it and flag the token as not working."""
    SLACK_TOKEN_ERRORS.labels(error=error).inc()
    SLACK_TOKEN_OK.set(0)


def record_slack_token_ok() -> None:
    """A post went through: the token works."""
    SLACK_TOKEN_OK.set(1)


# Availability buckets: the availability module's issue reasons (first failing rule wins), then
# issues hidden in at least one workspace by "Already taken" reports, then issues held for a
# member of some workspace (still offered in the others), then the available ones.
REPORTED_IN_A_WORKSPACE = Reason.REPORTED_IN_WORKSPACE.value
HELD_IN_A_WORKSPACE = "held"  # a claim hold for a member of some workspace
AVAILABILITY = (
    *(rule.reason.value for rule in ISSUE_RULES),
    REPORTED_IN_A_WORKSPACE,
    HELD_IN_A_WORKSPACE,
    "available",
)


def availability_counts(session: Session, policy: Policy) -> dict[str, int]:
    """Number of stored issues per availability bucket, in one query."""
    reason = reason_case(policy)
    bucket = func.coalesce(
        reason,
        case(
            (hidden_in_some_workspace(policy), REPORTED_IN_A_WORKSPACE),
            (held_in_some_workspace(policy), HELD_IN_A_WORKSPACE),
            else_="available",
        ),
    )
    rows = session.execute(
        select(bucket, func.count())
        .select_from(Issue)
        .join(Repository, Repository.id == Issue.repository_id)  # type: ignore[arg-type]
        .group_by(bucket)
    ).all()
    counts = dict.fromkeys(AVAILABILITY, 0)
    for name, count in rows:
        counts[str(name)] = int(count)
    return counts


class StoreCollector(Collector):
    """Gauges read from the database on every scrape: issues by availability, last crawl."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        issues = GaugeMetricFamily(
            "matchmaker_issues", "Stored beginner issues by availability.", labels=["availability"]
        )
        last_ok = GaugeMetricFamily(
            "matchmaker_last_crawl_success_timestamp_seconds",
            "When the last successful (ok or partial) crawl finished, Unix time.",
        )
        age = GaugeMetricFamily(
            "matchmaker_last_crawl_age_seconds", "Seconds since the last successful crawl."
        )
        now = datetime.now(UTC)  # one clock reading per scrape
        try:
            with Session(self.engine) as session:
                counts = availability_counts(session, Policy.at(self.settings, now))
                for bucket, count in counts.items():
                    issues.add_metric([bucket], count)
                finished = last_successful_crawl(session)
                quality = quality_metrics(session, now)
        except SQLAlchemyError:  # database down: /readyz says so; scraping must still work
            return
        yield issues
        yield from quality
        if finished is not None:
            last_ok.add_metric([], finished.timestamp())
            age.add_metric([], (now - finished).total_seconds())
            yield last_ok
            yield age


QUALITY_WEEKS = 8
QUALITY_MEASURES = ("picks", "interested", "holds", "prs_opened", "merged")


def quality_metrics(session: Session, now: datetime) -> list[Metric]:
    """Measured quality of every workspace (issue 19): this and last ISO week's counts, hit@k
    over the last `QUALITY_WEEKS` weeks, and the median pick -> merge time."""
    from bot.match.quality import overall_hit, weekly_quality

    weeks = weekly_quality(session, None, now, QUALITY_WEEKS)
    counts = GaugeMetricFamily(
        "matchmaker_quality_week",
        "Picks sent, Interested clicks, holds, PRs opened and merged PRs, per ISO week "
        "(current = this week so far, previous = last week), all workspaces.",
        labels=["measure", "week"],
    )
    for label, row in (("current", weeks[-1]), ("previous", weeks[-2] if len(weeks) > 1 else None)):
        for measure in QUALITY_MEASURES:
            counts.add_metric([measure, label], getattr(row, measure) if row else 0)
    hit = GaugeMetricFamily(
        "matchmaker_hit_at_k",
        f"Share of members (with a GitHub login) whose top-k picks led to a merged PR within "
        f"the window, over the last {QUALITY_WEEKS} ISO weeks.",
        labels=["k", "window"],
    )
    for k in ("1", "3"):
        for window in ("30d", "60d"):
            hit.add_metric([k, window], overall_hit(weeks, f"hit@{k}/{window}"))
    medians = [w.median_days_to_merge for w in weeks if w.median_days_to_merge is not None]
    median = GaugeMetricFamily(
        "matchmaker_pick_to_merge_days",
        f"Median days from pick to merge of the last {QUALITY_WEEKS} weeks' merged picks "
        "(median of the weekly medians; 0 when none merged).",
    )
    median.add_metric([], sorted(medians)[len(medians) // 2] if medians else 0.0)
    return [counts, hit, median]


def last_successful_crawl(session: Session) -> datetime | None:
    """Finish time of the newest crawl run with status ok or partial, if any."""
    return session.execute(
        select(func.max(CrawlRun.finished_at)).where(col(CrawlRun.status).in_(("ok", "partial")))
    ).scalar_one()


def last_digest_run(session: Session) -> DigestRun | None:
    """The newest finished digest run, if any."""
    return session.scalars(
        select(DigestRun)
        .where(DigestRun.finished_at.is_not(None))  # type: ignore[union-attr]
        .order_by(DigestRun.id.desc())  # type: ignore[union-attr]
        .limit(1)
    ).first()
