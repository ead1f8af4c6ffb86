"""`matchmaker serve`: scheduler (leader only) + Slack app + health server in one process.

Start-up: migrations under a lock (replicas starting together migrate once), then leader
election, the Slack app (Socket Mode with SLACK_APP_TOKEN, HTTP mode when slack_mode = "http",
none without a bot token) and `/healthz`, `/readyz`, `/metrics`. SIGTERM / Ctrl+C: the digest
in progress finishes the message in flight, jobs stop, locks are released, exit code 0.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType

import typer

from bot.cli.context import console, database_errors, describe_database, engine, fail, settings
from bot.config import ConfigError, Settings
from bot.deliver.senders import ConsoleSender, Sender, SlackSender
from bot.schedule.jobs import default_jobs
from bot.schedule.leader import FileLeaderLock, leader_lock_for, migration_lock
from bot.schedule.scheduler import SchedulerService
from bot.store import migrate


def _say(message: str) -> None:
    console.print(message, markup=False, highlight=False, soft_wrap=True)


def _sender(current: Settings) -> Sender:
    if current.slack_bot_token is None:
        _say("Digests: printed to this console (no SLACK_BOT_TOKEN set).")
        return ConsoleSender()
    _say(f"Digests: sent to Slack ({current.digest.workspace_rate_per_s:g} msg/s at most).")
    return SlackSender.from_settings(current)


def _start_slack(current: Settings, db: object) -> Callable[[], None]:
    """Start the Slack app for the configured mode; returns how to stop it."""
    if current.slack_bot_token is None and current.slack_mode != "http":
        _say("Slack app: off (no SLACK_BOT_TOKEN set); slash commands and buttons are disabled.")
        return lambda: None
    try:
        from bot.slack.app import build_app, check_settings
    except ImportError:
        _say("Slack app: not available in this build.")
        return lambda: None
    if current.slack_mode == "socket" and current.slack_app_token is None:
        _say(
            'Slack app: off (set SLACK_APP_TOKEN for Socket Mode, or slack_mode = "http"); '
            "digests are still sent."
        )
        return lambda: None
    try:
        check_settings(current)
    except ConfigError as exc:
        raise fail("; ".join(exc.problems), code=2) from None
    app = build_app(current, db)  # type: ignore[arg-type]
    if current.slack_mode == "http":
        from bot.slack.http import SlackHTTPServer

        server = SlackHTTPServer(app, current.http_host, current.slack_http_port)
        _say(f"Slack app: HTTP mode, events at {server.start()}")
        return server.stop
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    assert current.slack_app_token is not None
    handler = SocketModeHandler(app, current.slack_app_token.get_secret_value())
    handler.connect()
    _say("Slack app: connected in Socket Mode.")
    return handler.close


def _start_health(current: Settings, db: object) -> Callable[[], None]:
    try:
        from bot.web.health import HealthServer
    except ImportError:
        _say("Health server: not available in this build.")
        return lambda: None
    health = HealthServer(current, db)  # type: ignore[arg-type]
    try:
        health.start()
    except OSError as exc:
        raise fail(
            f"cannot listen on {current.http_host}:{current.http_port} for /healthz: "
            f"{exc.strerror or exc} (set MATCHMAKER_HTTP_PORT)"
        ) from None
    _say(f"Health: {health.url}/healthz, /readyz, /metrics")
    return health.stop


def serve() -> None:
    """Run the bot: scheduled crawls and digests, the Slack app and the health server."""
    current = settings()
    try:
        from bot.logs import configure_logging

        configure_logging(current)
    except ImportError:
        pass
    db = engine()
    with database_errors(), migration_lock(db):
        migrate.upgrade(db)
    _say(f"Database ready: {describe_database(current)}.")

    lock = leader_lock_for(db)
    if isinstance(lock, FileLeaderLock) and not lock.try_acquire():
        holder = lock.holder() or "another process"
        raise fail(
            f"another matchmaker ({holder}) is already serving {describe_database(current)}; "
            "stop it first (SQLite allows one process; use PostgreSQL via DATABASE_URL to run "
            "several replicas)"
        )

    stop = threading.Event()
    finished = threading.Event()
    service = SchedulerService(
        current, db, default_jobs(db, current, _sender(current), stop), lock=lock, stop_event=stop
    )
    stops: list[Callable[[], None]] = []
    try:
        stops.append(_start_health(current, db))
        stops.append(_start_slack(current, db))
        service.start()
        if isinstance(lock, FileLeaderLock):
            _say("Scheduler: running (single process on SQLite).")
        else:
            _say("Scheduler: runs while this replica holds the PostgreSQL leader lock.")

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            finished.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        _say("Matchmaker is running. Stop with Ctrl+C or SIGTERM.")
        while not finished.wait(1.0):
            pass
        _say("Stopping: finishing the message in flight…")
    finally:
        service.stop()
        for stop_part in reversed(stops):
            stop_part()
        lock.release()
    _say("Stopped cleanly.")
    raise typer.Exit(0)
