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
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.store.models import CrawlRun, Issue

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


# Availability buckets, first match wins (the same order the matcher's hard filters use).
AVAILABILITY = ("closed", "assigned", "linked_pr", "claimed", "reported_taken", "available")


def availability_counts(session: Session) -> dict[str, int]:
    """Number of stored issues per availability bucket (pull requests excluded).

    Computed in Python over a narrow projection: portable across SQLite and PostgreSQL JSON.
    """
    rows = session.execute(
        select(
            Issue.state,
            Issue.assignees,
            Issue.open_pr_count,
            Issue.claimed,
            Issue.reported_taken_at,
        ).where(Issue.is_pull_request == False)  # noqa: E712
    ).all()
    counts = dict.fromkeys(AVAILABILITY, 0)
    for state, assignees, open_prs, claimed, taken_at in rows:
        if state != "open":
            bucket = "closed"
        elif assignees:
            bucket = "assigned"
        elif open_prs:
            bucket = "linked_pr"
        elif claimed:
            bucket = "claimed"
        elif taken_at is not None:
            bucket = "reported_taken"
        else:
            bucket = "available"
        counts[bucket] += 1
    return counts


class StoreCollector(Collector):
    """Gauges read from the database on every scrape: issues by availability, last crawl."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

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
        try:
            with Session(self.engine) as session:
                for bucket, count in availability_counts(session).items():
                    issues.add_metric([bucket], count)
                finished = last_successful_crawl(session)
        except Exception:  # database down: /readyz says so; scraping must still work
            return
        yield issues
        if finished is not None:
            last_ok.add_metric([], finished.timestamp())
            age.add_metric([], (datetime.now(UTC) - finished).total_seconds())
            yield last_ok
            yield age


def last_successful_crawl(session: Session) -> datetime | None:
    """Finish time of the newest crawl run with status ok or partial, if any."""
    return session.execute(
        select(func.max(CrawlRun.finished_at)).where(CrawlRun.status.in_(("ok", "partial")))
    ).scalar_one()
