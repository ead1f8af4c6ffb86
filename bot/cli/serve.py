"""`matchmaker serve`: scheduler (leader only) + Slack app + health server in one process.

Start-up: migrations under a lock (replicas starting together migrate once), then leader
election, the Slack app (Socket Mode with SLACK_APP_TOKEN, HTTP mode when slack_mode = "http",
none without a bot token) and `/healthz`, `/readyz`, `/metrics`. SIGTERM / Ctrl+C: the digest
in progress finishes the message in flight, jobs stop, locks are released, exit code 0.
"""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Callable
from types import FrameType
from urllib.parse import urlsplit

import typer
from sqlalchemy.engine import Engine

from bot.cli.context import console, database_errors, describe_database, engine, fail, settings
from bot.config import ConfigError, Settings
from bot.deliver.senders import ConsoleSender, Sender, SlackSender
from bot.logs import configure_logging
from bot.schedule.jobs import default_jobs
from bot.schedule.leader import FileLeaderLock, leader_lock_for, migration_lock
from bot.schedule.scheduler import SchedulerService
from bot.store import migrate
from bot.web.health import HealthServer, slack_connection_check


def _say(message: str) -> None:
    console.print(message, markup=False, highlight=False, soft_wrap=True)


def _sender(current: Settings) -> Sender:
    if current.slack_bot_token is None:
        _say("Digests: printed to this console (no SLACK_BOT_TOKEN set).")
        return ConsoleSender()
    _say(f"Digests: sent to Slack ({current.digest.workspace_rate_per_s:g} msg/s at most).")
    return SlackSender.from_settings(current)


def _slack_wanted(current: Settings) -> bool:
    """Whether to start the Slack app; says why not when it stays off (digests still work)."""
    if current.slack_bot_token is None and current.slack_mode != "http":
        _say("Slack app: off (no SLACK_BOT_TOKEN set); slash commands and buttons are disabled.")
        return False
    if current.slack_mode == "socket" and current.slack_app_token is None:
        _say(
            'Slack app: off (set SLACK_APP_TOKEN for Socket Mode, or slack_mode = "http"); '
            "digests are still sent."
        )
        return False
    return True


def _listening(url: str) -> Callable[[], bool]:
    """True while something accepts TCP connections at `url`'s host and port."""
    parts = urlsplit(url)

    def check() -> bool:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), 1.0):
            return True

    return check


def _start_slack(current: Settings, db: Engine, health: HealthServer) -> Callable[[], None]:
    """Start the Slack app (`bot.slack.runner`) and add its `slack` readiness check."""
    if not _slack_wanted(current):
        return lambda: None
    from bot.slack.runner import start_slack

    try:
        runner = start_slack(current, db)
    except ConfigError as exc:
        raise fail("; ".join(exc.problems), code=2) from None
    if runner.socket is not None:
        health.add_check("slack", slack_connection_check(runner.socket.client.is_connected))
        _say("Slack app: connected in Socket Mode.")
    elif runner.http is not None:
        health.add_check("slack", slack_connection_check(_listening(runner.http.url)))
        _say(f"Slack app: HTTP mode, events at {runner.url}")
    return runner.stop


def _start_health(current: Settings, db: Engine) -> HealthServer:
    health = HealthServer(current, db)
    try:
        health.start()
    except OSError as exc:
        raise fail(
            f"cannot listen on {current.http_host}:{current.http_port} for /healthz: "
            f"{exc.strerror or exc} (set MATCHMAKER_HTTP_PORT)"
        ) from None
    _say(f"Health: {health.url}/healthz, /readyz, /metrics")
    return health


def serve() -> None:
    """Run the bot: scheduled crawls and digests, the Slack app and the health server."""
    current = settings()
    configure_logging(current)
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
        health = _start_health(current, db)
        stops.append(health.stop)
        stops.append(_start_slack(current, db, health))
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
