"""Leader election on PostgreSQL: one leader, takeover after the leader dies, one digest each."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.deliver.digest import run_digest
from bot.fakes.slack import FakeSlack
from bot.schedule.leader import PostgresLeaderLock
from bot.schedule.scheduler import Jobs, SchedulerService
from bot.store.db import make_engine
from tests.deliver.conftest import (
    make_sender,
    members_at,
    seed_issues,
    seed_members,
    simple_recommend,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg_url(db_url: str) -> str:
    if not db_url.startswith("postgresql"):
        pytest.skip("advisory-lock leader election is PostgreSQL-only (SQLite uses a lock file)")
    return db_url


def test_only_one_lock_holder_and_it_frees_on_release(pg_url):
    first, second = PostgresLeaderLock(pg_url), PostgresLeaderLock(pg_url)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert first.is_held() and not second.is_held()
        first.release()
        assert second.try_acquire()
    finally:
        first.release()
        second.release()


REPLICA = textwrap.dedent(
    """
    import sys, time
    from bot.schedule.leader import LeaderElector, PostgresLeaderLock
    elector = LeaderElector(
        PostgresLeaderLock(sys.argv[1]),
        on_elected=lambda: print("LEADER", flush=True),
        on_deposed=lambda: print("DEPOSED", flush=True),
        retry_seconds=0.2,
    )
    elector.start()
    print("STARTED", flush=True)
    while True:
        time.sleep(1)
    """
)


class Replica:
    """A leader-election subprocess; one thread collects its output lines."""

    def __init__(self, url: str) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-c", REPLICA, url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.strip())

    def wait_for(self, wanted: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if wanted in self.lines:
                return True
            time.sleep(0.02)
        return wanted in self.lines

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def test_killed_leader_is_replaced_within_seconds(pg_url):
    first = Replica(pg_url)
    second = None
    try:
        assert first.wait_for("LEADER", 30)
        second = Replica(pg_url)
        assert second.wait_for("STARTED", 30)
        # the follower stays a follower while the leader lives
        assert not second.wait_for("LEADER", 1.0)
        first.process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        first.process.wait(10)
        assert second.wait_for("LEADER", 10)
        assert time.monotonic() - killed < 5  # retry interval 0.2 s: takeover is quick
    finally:
        for replica in (first, second):
            if replica is not None:
                replica.stop()


def test_two_replicas_started_together_send_one_digest_per_member(pg_url):
    settings = load_settings(
        digest={"workspace_rate_per_s": 1000.0},
        schedule={"leader_retry_seconds": 0.1},
    )
    slack = FakeSlack()
    slack.start()
    engines = [make_engine(pg_url), make_engine(pg_url)]
    seed_issues(engines[0])
    seed_members(engines[0], members_at(20, digest_day="mon", digest_time="00:00"))
    ran: list[int] = []
    services: list[SchedulerService] = []

    def jobs_for(index: int) -> Jobs:
        engine, sender = engines[index], make_sender(slack)

        def tick() -> None:
            ran.append(index)
            from datetime import UTC, datetime

            monday = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
            run_digest(engine, settings, sender, now=monday, recommender=simple_recommend)

        return Jobs(crawl=lambda: None, digest_tick=tick, cleanup=lambda: None)

    try:
        services = [SchedulerService(settings, engines[i], jobs_for(i)) for i in range(2)]
        barrier = threading.Barrier(2)

        def start(service: SchedulerService) -> None:
            barrier.wait()
            service.start()

        threads = [threading.Thread(target=start, args=(s,)) for s in services]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        deadline = time.monotonic() + 20
        while len(slack.posts()) < 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        assert sum(s.is_leader for s in services) == 1
        assert len(set(ran)) == 1  # only the leader ran the digest
        assert slack.posts_by_channel() == {f"D{i:05d}": 1 for i in range(1, 21)}
    finally:
        for service in services:
            service.stop()
        for engine in engines:
            engine.dispose()
        slack.stop()
