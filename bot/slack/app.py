"""The Bolt app: settings checks, OAuth, and the wiring of `bot.slack.listeners`.

`build_app(settings, engine)` builds it. Socket Mode (app-level token) is the default; HTTP
mode verifies Slack's signatures at `/slack/events` and can install into several workspaces via
OAuth (installations stored in our database). Every listener acks at once; database and Slack
work runs after the ack on the one bounded pool of `bot.slack.workers`. The listeners themselves
live one module per concern in `bot.slack.listeners`.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.config.settings import ConfigError, Settings
from bot.core.clock import Clock, utc_clock
from bot.deliver.taken import IssueChecker, default_checker
from bot.slack.handlers import Crawler, Recommender, default_crawler, default_recommender
from bot.slack.install_store import SqlInstallationStore, SqlOAuthStateStore
from bot.slack.listeners import register_all
from bot.slack.listeners.command import COMMAND
from bot.slack.listeners.common import Deps, inject
from bot.slack.listeners.errors import ERROR_REPLY, ReportingLazyRunner, on_error
from bot.slack.picks_queue import PicksQueue
from bot.slack.tenancy import require_workspace
from bot.slack.token_box import TokenBox
from bot.slack.workers import slack_executor

log = logging.getLogger(__name__)  # Bolt's framework logger (a standard logger)

__all__ = [
    "BOT_SCOPES",
    "COMMAND",
    "ERROR_REPLY",
    "build_app",
    "check_settings",
    "stop_app",
    "uses_oauth",
]

# Every scope a Web API method we call needs (kept equal to config/slack-manifest.yaml).
BOT_SCOPES = [
    "commands",
    "chat:write",
    "im:write",
    "im:history",
    "channels:history",
    "groups:history",
    "channels:read",
    "groups:read",
    "users:read",
    "usergroups:read",
    "mpim:write",
]


def uses_oauth(settings: Settings) -> bool:
    """True for multi-workspace installs (HTTP mode with an OAuth client id and secret)."""
    return bool(
        settings.slack_mode == "http" and settings.slack_client_id and settings.slack_client_secret
    )


def check_settings(settings: Settings) -> None:
    """Raise `ConfigError` naming every missing Slack setting for the chosen mode."""
    problems = []
    if settings.slack_mode == "http":
        if settings.slack_signing_secret is None:
            problems.append("SLACK_SIGNING_SECRET: required in HTTP mode")
        if uses_oauth(settings):
            try:
                TokenBox.from_settings(settings)
            except ConfigError as exc:
                problems.extend(exc.problems)
        if not uses_oauth(settings) and settings.slack_bot_token is None:
            problems.append(
                "SLACK_BOT_TOKEN: required in HTTP mode (or SLACK_CLIENT_ID + SLACK_CLIENT_SECRET "
                "for OAuth installs)"
            )
    else:
        if settings.slack_bot_token is None:
            problems.append("SLACK_BOT_TOKEN: required (xoxb-…)")
        if settings.slack_app_token is None:
            problems.append("SLACK_APP_TOKEN: required in Socket Mode (xapp-…)")
    if problems:
        raise ConfigError(problems)


def build_app(
    settings: Settings,
    engine: Engine,
    client: WebClient | None = None,
    *,
    recommender: Recommender | None = None,
    crawler: Crawler | None = None,
    issue_checker: IssueChecker | None = default_checker,
    clock: Clock = utc_clock,
    executor: Executor | None = None,
) -> App:
    """A Bolt `App` for `settings` (Socket Mode or HTTP, optional OAuth), bound to `engine`.

    `client` overrides the Web API client (tests point it at the fake Slack); `issue_checker`
    re-checks an issue on GitHub after "Already taken" and before holding it after "Interested"
    (None: no re-check, the stored state decides); every listener
    reads `clock` once when its request arrives and passes that time down. `executor` runs all
    work after the ack (default: a new pool of `settings.slack_workers`; `stop_app` shuts it).
    """
    pool = executor or slack_executor(settings)
    app = App(**_app_kwargs(settings, engine, client, pool))
    lazy_runner = ReportingLazyRunner(log, pool, lambda: app.listener_runner.listener_error_handler)
    app.listener_runner.lazy_listener_runner = lazy_runner
    app.error(on_error)
    app.use(require_workspace)
    deps = Deps(
        settings=settings,
        engine=engine,
        clock=clock,
        recommender=recommender or default_recommender,
        crawler=crawler or default_crawler,
        issue_checker=issue_checker,
        executor=pool,
        picks=PicksQueue(engine, settings, recommender or default_recommender, pool, clock),
    )
    app.use(inject(deps))
    register_all(app)
    return app


def stop_app(app: App) -> None:
    """Stop the app's pool: queued work is dropped, running work finishes on its own."""
    app.listener_runner.listener_executor.shutdown(wait=False, cancel_futures=True)


def _app_kwargs(
    settings: Settings, engine: Engine, client: WebClient | None, pool: Executor
) -> dict[str, Any]:
    """`App(...)` arguments: the Web API client, request checks, the pool, OAuth."""
    oauth = uses_oauth(settings)
    if client is None:
        token = None
        if settings.slack_bot_token is not None and not oauth:
            token = settings.slack_bot_token.get_secret_value()
        client = WebClient(token=token, base_url=settings.slack_api_url)
    secret = settings.slack_signing_secret
    kwargs: dict[str, Any] = {
        "client": client,
        "signing_secret": secret.get_secret_value() if secret is not None else "",
        "request_verification_enabled": settings.slack_mode == "http",
        # Acks run in the request's own thread (ours are quick: parse, then ack) so they never
        # queue behind slow lazy work; lazy listeners run on the bounded pool.
        "process_before_response": True,
        "listener_executor": pool,
        "logger": log,
    }
    if oauth:
        assert settings.slack_client_secret is not None
        kwargs["oauth_settings"] = OAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            scopes=BOT_SCOPES,
            installation_store=SqlInstallationStore(engine, TokenBox.from_settings(settings)),
            state_store=SqlOAuthStateStore(engine),
            installation_store_bot_only=True,
        )
    return kwargs
