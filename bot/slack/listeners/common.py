"""What every listener shares: its dependencies (`Deps`, put into Bolt's `context` by the
`inject` middleware), the workspace and user of a request, a plain ack and the Home refresh."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import structlog
from slack_bolt import Ack, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine

from bot.config.settings import Settings
from bot.core.clock import Clock
from bot.deliver.taken import IssueChecker
from bot.slack.handlers import Crawler, Recommender
from bot.slack.home import home_view
from bot.slack.picks_queue import PicksQueue

log = structlog.get_logger(__name__)

DEPS = "matchmaker_deps"  # the key of `Deps` in Bolt's context


@dataclass(frozen=True)
class Deps:
    """The services a listener may use; one instance per app, shared by every request."""

    settings: Settings
    engine: Engine
    clock: Clock  # each listener reads it once when its request arrives
    recommender: Recommender
    crawler: Crawler
    issue_checker: IssueChecker | None  # re-checks after Already taken / Interested (None: no)
    executor: Executor  # the one pool for work after the ack (bot.slack.workers)
    picks: PicksQueue

    def __deepcopy__(self, memo: dict[int, Any]) -> Deps:
        # Bolt deep-copies the context for lazy listeners; services are shared, never copied.
        return self


def inject(deps: Deps) -> Callable[..., BoltResponse | None]:
    """A Bolt middleware that puts `deps` into every request's context."""

    def middleware(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        context[DEPS] = deps
        return next()

    return middleware


def deps_of(context: BoltContext) -> Deps:
    """The listener's dependencies (set by `inject`)."""
    deps = context[DEPS]
    assert isinstance(deps, Deps)
    return deps


def team_of(context: BoltContext, body: dict[str, Any]) -> str:
    """The request's workspace id."""
    return str(
        context.team_id
        or body.get("team_id")
        or (body.get("team") or {}).get("id")
        or (body.get("user") or {}).get("team_id")
        or ""
    )


def user_of(context: BoltContext, body: dict[str, Any]) -> str:
    """The Slack user id of whoever sent the request."""
    return str(context.user_id or body.get("user_id") or (body.get("user") or {}).get("id") or "")


def just_ack(ack: Ack) -> None:
    """Acknowledge at once (the work runs in a lazy listener)."""
    ack()


def publish_home(deps: Deps, client: WebClient, team_id: str, user_id: str) -> None:
    """Re-render and publish the user's App Home tab (a Slack refusal is logged)."""
    try:
        view = home_view(deps.engine, deps.settings, team_id, user_id, now=deps.clock())
        client.views_publish(user_id=user_id, view=view)
    except SlackApiError as exc:
        log.warning("views.publish failed", error=exc.response.get("error"))
