"""Leader election: only one process runs the scheduled jobs, and only while its lease lasts.

PostgreSQL: a session-level advisory lock held on a dedicated connection, made a *lease*:
- the server ends the lock session after `lease_seconds` without a query
  (`idle_session_timeout`, PostgreSQL 14+), and the leader renews it by running a heartbeat
  query every `retry_seconds`. A frozen leader (SIGSTOP, a VM pause, a GC stall) sends no
  heartbeat, so the server drops its session and the lock within `lease_seconds`;
- server-side TCP keepalives (`tcp_keepalives_idle/interval/count` = 10/5/3 s) end the session
  of a vanished host within ~25 s even where `idle_session_timeout` is missing; the client
  keepalives do the same for the leader's side of the connection;
- the leader trusts its lease only for 3/4 of `lease_seconds` after the last good heartbeat
  (`lease_valid`), so a process waking from a freeze stops before its next message, before
  its election thread even noticed.
A killed process's session ends at once. Followers retry every `retry_seconds`.
SQLite: an exclusive `fcntl` lock on a file next to the database: a second process is told who
holds it and does not start a scheduler (one host, so no lease is needed).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Protocol

import structlog
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

log = structlog.get_logger(__name__)

LOCK_NAMESPACE = 0x4D4D  # "MM": first key of the two-int advisory lock
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "connect_timeout": 10,
}
# The server's side of the lock session: probe an idle connection after 10 s, every 5 s, give up
# after 3 unanswered probes (PostgreSQL's defaults follow the OS: 7200 s, 75 s x 9).
SERVER_KEEPALIVES = {
    "tcp_keepalives_idle": 10,
    "tcp_keepalives_interval": 5,
    "tcp_keepalives_count": 3,
}
LEASE_TRUST = 0.75  # share of the lease a leader relies on after its last good heartbeat


class LeaderLock(Protocol):
    """A lock only one process can hold at a time."""

    description: str

    def try_acquire(self) -> bool:
        """Take the lock if it is free; never blocks."""
        ...

    def is_held(self) -> bool:
        """Still ours? (False once the connection holding it is gone.)"""
        ...

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        ...

    def lease_valid(self) -> bool:
        """Held, and renewed recently enough to act on it without asking the database."""
        ...


class PostgresLeaderLock:
    """`pg_try_advisory_lock` on its own connection; scoped to the current schema."""

    def __init__(
        self,
        url: str,
        name: str = "scheduler",
        *,
        lease_seconds: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        parsed = make_url(url)
        self.description = f"PostgreSQL advisory lock {name!r} on {parsed.host}/{parsed.database}"
        self._engine = create_engine(url, poolclass=NullPool, connect_args=KEEPALIVES)
        self._connection: Connection | None = None
        self._held = False
        self.lease_seconds = lease_seconds
        self.server_lease = False  # True once the server enforces idle_session_timeout
        self._clock = clock
        self._renewed = float("-inf")

    def _connect(self) -> Connection:
        """The lock session, with the server-side keepalives and idle timeout set on it."""
        connection = self._engine.connect()
        connection.execution_options(isolation_level="AUTOCOMMIT")
        for setting, value in SERVER_KEEPALIVES.items():
            connection.execute(text(f"SET {setting} = {int(value)}"))
        try:
            timeout_ms = max(1000, int(self.lease_seconds * 1000))
            connection.execute(text(f"SET idle_session_timeout = {timeout_ms}"))
            self.server_lease = True
        except DBAPIError:  # PostgreSQL < 14: keepalives and the local lease still apply
            self.server_lease = False
            log.warning("leader_lease_without_idle_session_timeout", hint="PostgreSQL < 14")
        return connection

    def lease_valid(self) -> bool:
        """True while the last good heartbeat is recent (a woken-up leader says False)."""
        return self._held and self._clock() - self._renewed < self.lease_seconds * LEASE_TRUST

    def _key_sql(self) -> str:
        return "(:ns, hashtext(current_schema() || ':' || :name))"

    def try_acquire(self) -> bool:
        """Ask PostgreSQL for the lock; a connection error counts as "not acquired"."""
        try:
            if self._connection is None:
                self._connection = self._connect()
            began = self._clock()
            got = self._connection.execute(
                text(f"SELECT pg_try_advisory_lock{self._key_sql()}"),
                {"ns": LOCK_NAMESPACE, "name": self.name},
            ).scalar()
        except Exception as exc:  # any failure to reach the lock means "not leader" (logged)
            log.warning("leader_lock_unavailable", error=type(exc).__name__)
            self._drop()
            return False
        self._held = bool(got)
        if self._held:
            self._renewed = began
        return self._held

    def is_held(self) -> bool:
        """The heartbeat: a live session keeps a session-level lock, and this query (which
        resets the server's idle timer) renews the lease. False once the session is gone."""
        if not self._held or self._connection is None:
            return False
        began = self._clock()
        try:
            self._connection.execute(text("SELECT 1"))
        except Exception as exc:  # any failure of the session means the lease is lost (logged)
            log.warning("leader_heartbeat_failed", error=type(exc).__name__)
            self._drop()
            return False
        self._renewed = began
        return True

    def release(self) -> None:
        """Unlock and close the dedicated connection."""
        if self._connection is not None and self._held:
            with contextlib.suppress(Exception):
                self._connection.execute(
                    text(f"SELECT pg_advisory_unlock{self._key_sql()}"),
                    {"ns": LOCK_NAMESPACE, "name": self.name},
                )
        self._drop()
        self._engine.dispose()

    def _drop(self) -> None:
        self._held = False
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.invalidate()
                self._connection.close()
        self._connection = None


class FileLeaderLock:
    """An exclusive `flock` on a file; the file records who holds it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"lock file {path}"
        self._file: IO[str] | None = None

    def try_acquire(self) -> bool:
        """Take the lock without blocking; False when another process has it."""
        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (kept open while held)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        self._file = handle
        return True

    def holder(self) -> str:
        """Who holds the lock, as written in the file ("" when unknown)."""
        try:
            return self.path.read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def is_held(self) -> bool:
        """An flock lasts as long as the file stays open."""
        return self._file is not None

    def lease_valid(self) -> bool:
        """One host: the lock is valid exactly while held."""
        return self.is_held()

    def release(self) -> None:
        """Unlock and close the file."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def sqlite_lock_path(engine: Engine, suffix: str) -> Path:
    """A lock file beside the SQLite database file."""
    database = engine.url.database or "matchmaker.db"
    return Path(f"{database}.{suffix}.lock")


def leader_lock_for(engine: Engine, *, lease_seconds: float = 20.0) -> LeaderLock:
    """The right lock for the engine's database."""
    if engine.dialect.name == "postgresql":
        url = engine.url.render_as_string(hide_password=False)
        return PostgresLeaderLock(url, lease_seconds=lease_seconds)
    return FileLeaderLock(sqlite_lock_path(engine, "scheduler"))


@contextlib.contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Serialise migrations between replicas starting together (blocking lock)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            key = {"ns": LOCK_NAMESPACE, "name": "migrate"}
            connection.execute(
                text("SELECT pg_advisory_lock(:ns, hashtext(current_schema() || ':' || :name))"),
                key,
            )
            try:
                yield
            finally:
                connection.execute(
                    text(
                        "SELECT pg_advisory_unlock(:ns, hashtext(current_schema() || ':' || :name))"
                    ),
                    key,
                )
        return
    path = sqlite_lock_path(engine, "migrate")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class LeaderElector:
    """Runs `on_elected` when this process takes the lock and `on_deposed` when it loses it.

    A background thread tries every `retry_seconds` while following and checks the lock at
    the same pace while leading, so a takeover happens within about `retry_seconds` of the
    old leader's session ending.
    """

    def __init__(
        self,
        lock: LeaderLock,
        *,
        on_elected: Callable[[], None],
        on_deposed: Callable[[], None],
        retry_seconds: float = 5.0,
    ) -> None:
        self.lock = lock
        self.on_elected = on_elected
        self.on_deposed = on_deposed
        self.retry_seconds = retry_seconds
        self._stop = threading.Event()
        self._leader = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def is_leader(self) -> bool:
        """True while this process runs the scheduled jobs."""
        return self._leader.is_set()

    def is_set(self) -> bool:
        """The stop signal of the leader's jobs: True unless leading on a valid lease."""
        return not (self._leader.is_set() and self.lock.lease_valid())

    def wait_until_leader(self, timeout: float) -> bool:
        """Block until elected (tests, `serve --wait`); True if elected."""
        return self._leader.wait(timeout)

    def step(self) -> bool:
        """One election round (the thread's body; callable directly in tests)."""
        if not self.is_leader:
            if self.lock.try_acquire():
                self._leader.set()  # before the jobs start: they check it before each message
                try:
                    self.on_elected()
                except Exception:  # a job that fails to start gives the lock back (logged)
                    log.exception("leader_start_failed")
                    self._leader.clear()
                    self.lock.release()
                    return False
                log.info("leader_elected", lock=self.lock.description)
        elif not self.lock.is_held():
            self._leader.clear()
            log.warning("leader_lost", lock=self.lock.description)
            self.on_deposed()
        return self.is_leader

    def start(self) -> None:
        """Run elections in a daemon thread."""
        self._thread = threading.Thread(target=self._run, name="leader-election", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:  # never let the election thread die
                log.exception("leader_election_error")
            self._stop.wait(self.retry_seconds)

    def stop(self) -> None:
        """Stop electing; a leader runs `on_deposed` (finishing its jobs) and unlocks."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.retry_seconds + 30)
        if self._leader.is_set():
            self._leader.clear()
            self.on_deposed()
        self.lock.release()
