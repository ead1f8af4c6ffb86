"""What the GraphQL and the REST crawler share: their inputs and the beginner-label vocabulary."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.config import Settings
from bot.config.settings import GitHubSettings
from bot.core.availability import Policy
from bot.github.client import GitHubClient
from bot.github.labels import BeginnerLabels
from bot.github.persist import CrawlStore
from bot.github.report import CrawlReport


class BaseCrawler:
    """Holds the client, the store, the report and the crawl's clock; subclasses add `run`."""

    def __init__(
        self,
        client: GitHubClient,
        store: CrawlStore,
        settings: Settings,
        report: CrawlReport,
        *,
        now: datetime,
        progress: Callable[[CrawlReport], None] | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.settings = settings
        self.report = report
        self.now = now
        self.progress = progress or (lambda _report: None)
        gh = settings.github
        self.vocabulary = BeginnerLabels(gh.beginner_labels, gh.extra_labels)
        self.stale = timedelta(days=gh.stale_assignment_days)
        self.policy = Policy.at(settings, now)  # availability rules at the crawl's clock
        self.configure(gh)

    def configure(self, gh: GitHubSettings) -> None:
        """Read the subclass's own settings (called at the end of `__init__`)."""
