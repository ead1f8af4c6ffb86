"""Leader election: only one process runs the scheduled jobs.

PostgreSQL: a session-level advisory lock held on a dedicated connection (with TCP keepalives,
so a vanished leader's session ends within ~30 s; a killed process's ends at once). Followers
retry every `schedule.leader_retry_seconds` and take over when it is free.
SQLite: an exclusive `fcntl` lock on a file next to the database: a second process is told who
holds it and does not start a scheduler.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Protocol

import structlog
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
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


class PostgresLeaderLock:
    """`pg_try_advisory_lock` on its own connection; scoped to the current schema."""

    def __init__(self, url: str, name: str = "scheduler") -> None:
        self.name = name
        parsed = make_url(url)
        self.description = f"PostgreSQL advisory lock {name!r} on {parsed.host}/{parsed.database}"
        self._engine = create_engine(url, poolclass=NullPool, connect_args=KEEPALIVES)
        self._connection: Connection | None = None
        self._held = False

    def _key_sql(self) -> str:
        return "(:ns, hashtext(current_schema() || ':' || :name))"

    def try_acquire(self) -> bool:
        """Ask PostgreSQL for the lock; a connection error counts as "not acquired"."""
        try:
            if self._connection is None:
                self._connection = self._engine.connect()
                self._connection.execution_options(isolation_level="AUTOCOMMIT")
            got = self._connection.execute(
                text(f"SELECT pg_try_advisory_lock{self._key_sql()}"),
                {"ns": LOCK_NAMESPACE, "name": self.name},
            ).scalar()
        except Exception as exc:
            log.warning("leader_lock_unavailable", error=type(exc).__name__)
            self._drop()
            return False
        self._held = bool(got)
        return self._held

    def is_held(self) -> bool:
        """A live session keeps a session-level lock; check the session is still alive."""
        if not self._held or self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
        except Exception:
            self._drop()
            return False
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


def leader_lock_for(engine: Engine) -> LeaderLock:
    """The right lock for the engine's database."""
    if engine.dialect.name == "postgresql":
        return PostgresLeaderLock(engine.url.render_as_string(hide_password=False))
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

    def wait_until_leader(self, timeout: float) -> bool:
        """Block until elected (tests, `serve --wait`); True if elected."""
        return self._leader.wait(timeout)

    def step(self) -> bool:
        """One election round (the thread's body; callable directly in tests)."""
        if not self.is_leader:
            if self.lock.try_acquire():
                try:
                    self.on_elected()
                except Exception:
                    log.exception("leader_start_failed")
                    self.lock.release()
                    return False
                self._leader.set()
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
