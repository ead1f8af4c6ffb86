"""The one bounded thread pool for Slack work after the ack.

Bolt runs its lazy listeners on it, and listeners hand it slower follow-up work (an admin's
crawl, a GitHub inference, a batch of picks), so the process never starts threads of its own
for Slack requests. `slack_executor(settings)` builds it; the runner shuts it down on stop.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor

import structlog

from bot.config.settings import Settings

log = structlog.get_logger(__name__)


def slack_executor(settings: Settings) -> ThreadPoolExecutor:
    """A pool of `settings.slack_workers` threads named `slack-N`."""
    return ThreadPoolExecutor(max_workers=settings.slack_workers, thread_name_prefix="slack")


def run_later(executor: Executor, work: Callable[[], None], what: str) -> Future[None]:
    """Run `work` on `executor`; an exception is logged as `what` failing (never lost)."""

    def logged() -> None:
        try:
            work()
        except Exception:  # a pool thread: log it, or it vanishes inside the Future
            log.exception("slack background work failed", work=what)

    return executor.submit(logged)
