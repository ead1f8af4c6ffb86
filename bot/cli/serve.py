"""`matchmaker serve`: scheduler (leader only) + Slack app + health server in one process.

Start-up: migrations under a lock (replicas starting together migrate once; they run in a
short-lived child so alembic never stays resident), then leader election, `/healthz`, `/readyz`,
`/metrics`, and the Slack app via `bot.slack.runner` (Socket Mode with SLACK_APP_TOKEN, HTTP mode
when slack_mode = "http", none without a bot token), which adds a `slack` readiness check.
SIGTERM / Ctrl+C: the digest in progress finishes the message in flight, jobs stop, locks are
released, exit code 0.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from types import FrameType
from typing import Any

import typer
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bot.cli.context import console, database_errors, describe_database, engine, fail, settings
from bot.config import ConfigError, Settings
from bot.deliver.senders import ConsoleSender, Sender, SlackSender
from bot.logs import configure_logging
from bot.schedule.jobs import default_jobs
from bot.schedule.leader import FileLeaderLock, leader_lock_for, migration_lock
from bot.schedule.scheduler import SchedulerService
from bot.schedule.triggers import ScheduleError
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


def _accepting(address: tuple[Any, ...]) -> Callable[[], bool]:
    """True while something accepts TCP connections at `address` (the Slack events server)."""
    host, port = str(address[0]), int(address[1])
    host = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host

    def check() -> bool:
        with socket.create_connection((host, port), timeout=1.0):
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
        events_server = _accepting(runner.http.address)
        health.add_check("slack", slack_connection_check(events_server))
        _say(f"Slack app: HTTP mode, events at {runner.url}")
    return runner.stop


def _check_slack_settings(current: Settings) -> None:
    """Exit 2 naming every missing Slack setting of the chosen mode (when Slack is wanted)."""
    if not _slack_wanted(current):
        return
    from bot.slack.app import check_settings

    try:
        check_settings(current)
    except ConfigError as exc:
        raise fail("; ".join(exc.problems), code=2) from None


def _migrate_in_child(db: Engine) -> None:
    """Apply migrations in a forked child, so alembic (~12 MB of modules) never stays resident.

    Called before any thread starts. A database error becomes the usual one-line message.
    """
    fork = multiprocessing.get_context("fork")
    receive, send = fork.Pipe(duplex=False)
    child = fork.Process(target=_migrate, args=(db, send), name="migrate")
    child.start()
    send.close()
    try:
        outcome = receive.recv()
    except EOFError:  # the child died without a word (killed, or crashed hard)
        child.join()
        outcome = ("failed", f"the migration process exited with code {child.exitcode}")
    child.join()
    kind, reason = outcome
    if kind == "database":
        for secret in settings().secret_values():
            reason = reason.replace(secret, "***")
        raise fail(f"cannot use the database ({describe_database(settings())}): {reason}")
    if kind == "failed":
        raise fail(f"database migration failed: {reason}")


def _migrate(db: Engine, send: Connection) -> None:
    """The child's side of `_migrate_in_child`: upgrade to head, report the outcome."""
    db.dispose(close=False)  # the parent's pooled connections are not ours to use
    try:
        from bot.store import migrate

        migrate.upgrade(db)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "connection failed"
        send.send(("database", reason))
    except Exception as exc:  # any failure goes to the parent, which logs and shows it
        first_line = (str(exc).strip().splitlines() or [""])[0][:300]
        send.send(("failed", f"{type(exc).__name__}: {first_line}"))
    else:
        send.send(("ok", ""))
    finally:
        send.close()


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
    _check_slack_settings(current)  # a missing secret is said at once, before any migration
    db = engine()
    with database_errors(), migration_lock(db):
        _migrate_in_child(db)
    _say(f"Database ready: {describe_database(current)}.")

    lock = leader_lock_for(db, lease_seconds=current.schedule.leader_lease_seconds)
    if isinstance(lock, FileLeaderLock) and not lock.try_acquire():
        holder = lock.holder() or "another process"
        raise fail(
            f"another matchmaker ({holder}) is already serving {describe_database(current)}; "
            "stop it first (SQLite allows one process; use PostgreSQL via DATABASE_URL to run "
            "several replicas)"
        )

    stop = threading.Event()
    finished = threading.Event()
    sender = _sender(current)
    try:
        # the jobs stop on shutdown *and* as soon as this replica stops leading
        service = SchedulerService(
            current,
            db,
            lambda job_stop: default_jobs(db, current, sender, job_stop),
            lock=lock,
            stop_event=stop,
        )
    except ScheduleError as exc:
        lock.release()
        raise fail(f"schedule: {exc}") from None
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
