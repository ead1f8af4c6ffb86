"""`CrawlReport`: what one crawl did, for the CLI summary, logs and the CrawlRun row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class CrawlReport:
    """Counts and API cost of one crawl run."""

    mode: str  # graphql | rest
    dry_run: bool = False
    run_id: int | None = None
    repos_total: int = 0
    repos_done: int = 0
    repos_unchanged: int = 0  # skipped by the change check
    repos_failed: int = 0
    repos_gone: int = 0  # GitHub says they no longer exist (marked, not failures)
    issues_seen: int = 0
    issues_available: int = 0  # crawled issues that pass the availability module's issue rules
    issues_rechecked: int = 0  # left the label query and were looked up
    issues_closed: int = 0  # of those: closed, unlabelled or gone
    requests: int = 0
    points: int = 0
    budget_left: int | None = None
    budget_limit: int | None = None
    estimated_seconds: float | None = None  # REST search mode: expected duration
    stopped: str | None = None  # why the crawl stopped early (rate limit, budget)
    failures: dict[str, str] = field(default_factory=dict)
    outcome_points: int = 0  # of `points`: spent following picks and merged PRs (issue 19)
    outcomes_changed: int = 0  # pick outcomes that moved forward
    merged_new: int = 0  # members' merged PRs first seen
    resume_at: datetime | None = None  # stopped by the budget: when it resets (next run)
    pass_id: int | None = None  # the crawl pass this run worked on (None: one repo, dry run)
    pass_done: int = 0  # repositories the pass has handled so far, over all its runs
    pass_total: int = 0

    @property
    def status(self) -> str:
        if self.stopped or self.repos_failed:
            return "partial" if self.repos_done else "failed"
        return "ok"
