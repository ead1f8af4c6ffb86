"""Issue 16, findings 4 and 5: leadership is a lease a frozen leader loses, and a process that
loses it stops its running job before another replica starts one."""

from __future__ import annotations

import signal
import textwrap
import threading
import time

import pytest
from sqlalchemy import text

from bot.config import load_settings
from bot.schedule.leader import LeaderElector, PostgresLeaderLock
from bot.schedule.scheduler import Jobs, SchedulerService
from tests.schedule.test_leader_postgres import Replica, pg_url  # noqa: F401 (fixture)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_lock_session_has_server_side_keepalives_and_idle_timeout(pg_url):  # noqa: F811
    lock = PostgresLeaderLock(pg_url, lease_seconds=12)
    try:
        assert lock.try_acquire()
        connection = lock._connection
        assert connection is not None
        shown = {
            name: connection.execute(text(f"SHOW {name}")).scalar()
            for name in (
                "tcp_keepalives_idle",
                "tcp_keepalives_interval",
                "tcp_keepalives_count",
                "idle_session_timeout",
            )
        }
        assert shown["idle_session_timeout"] == "12s" and lock.server_lease
        # over TCP the server reports its probes; over a Unix socket PostgreSQL shows 0
        assert shown["tcp_keepalives_idle"] in ("10", "0")
    finally:
        lock.release()


def test_a_leader_that_stops_renewing_loses_the_lock_to_a_follower(pg_url):  # noqa: F811
    frozen = PostgresLeaderLock(pg_url, lease_seconds=1.5)
    follower = PostgresLeaderLock(pg_url, lease_seconds=1.5)
    try:
        assert frozen.try_acquire() and not follower.try_acquire()
        began = time.monotonic()
        while not follower.try_acquire():  # the frozen leader sends no heartbeat
            assert time.monotonic() - began < 15, "the server never ended the idle lock session"
            time.sleep(0.2)
        assert time.monotonic() - began < 5
        assert not frozen.is_held() and not frozen.lease_valid()  # it finds out when it wakes
    finally:
        frozen.release()
        follower.release()


def test_the_local_lease_expires_without_asking_the_database(pg_url):  # noqa: F811
    clock = FakeClock()
    lock = PostgresLeaderLock(pg_url, lease_seconds=20, clock=clock)
    elector = LeaderElector(lock, on_elected=lambda: None, on_deposed=lambda: None)
    try:
        assert elector.step() and lock.lease_valid() and not elector.is_set()
        clock.now += 14.9
        assert lock.lease_valid()
        clock.now += 0.2  # 15.1 s > 3/4 of the lease since the last heartbeat (a freeze)
        assert not lock.lease_valid() and elector.is_set()  # jobs read this as "stop"
        assert lock.is_held() and lock.lease_valid()  # a heartbeat renews it
    finally:
        lock.release()


FROZEN_REPLICA = textwrap.dedent(
    """
    import sys, time
    from bot.schedule.leader import LeaderElector, PostgresLeaderLock
    elector = LeaderElector(
        PostgresLeaderLock(sys.argv[1], lease_seconds=2.0),
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


def test_sigstopped_leader_is_replaced_within_the_lease_and_steps_down_on_wake(
    pg_url,  # noqa: F811
    monkeypatch,
):
    import tests.schedule.test_leader_postgres as replicas

    monkeypatch.setattr(replicas, "REPLICA", FROZEN_REPLICA)
    first = Replica(pg_url)
    second = None
    try:
        assert first.wait_for("LEADER", 30)
        second = Replica(pg_url)
        assert second.wait_for("STARTED", 30)
        assert not second.wait_for("LEADER", 1.0)
        first.process.send_signal(signal.SIGSTOP)
        frozen = time.monotonic()
        assert second.wait_for("LEADER", 20)
        assert time.monotonic() - frozen < 6  # lease 2 s + retry 0.2 s + slack for the CI box
        first.process.send_signal(signal.SIGCONT)
        assert first.wait_for("DEPOSED", 10)
    finally:
        for replica in (first, second):
            if replica is not None:
                if replica.process.poll() is None:
                    replica.process.send_signal(signal.SIGCONT)
                replica.stop()


class ToggleLock:
    """A leader lock the test takes away."""

    description = "test lock"

    def __init__(self) -> None:
        self.held = False

    def try_acquire(self) -> bool:
        self.held = True
        return True

    def is_held(self) -> bool:
        return self.held

    def lease_valid(self) -> bool:
        return self.held

    def release(self) -> None:
        self.held = False


def test_losing_leadership_stops_the_running_job_before_the_scheduler_is_gone():
    settings = load_settings(schedule={"leader_retry_seconds": 0.05})
    started, stopped_by_signal = threading.Event(), threading.Event()
    sent_after_loss: list[int] = []
    lock = ToggleLock()

    def jobs(stop: threading.Event) -> Jobs:
        def tick() -> None:
            started.set()
            for _ in range(400):  # a long digest: one "message" every 10 ms
                if stop.is_set():
                    stopped_by_signal.set()
                    return
                if not lock.held:
                    sent_after_loss.append(1)
                time.sleep(0.01)

        return Jobs(crawl=lambda: None, digest_tick=tick, cleanup=lambda: None)

    service = SchedulerService(settings, None, jobs, lock=lock)  # type: ignore[arg-type]
    try:
        service.start()
        assert started.wait(10)
        lock.held = False  # the lease is gone (the database ended the session)
        assert stopped_by_signal.wait(5)
        deadline = time.monotonic() + 5
        while service.is_leader and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not service.is_leader and service.scheduler is None
        assert len(sent_after_loss) <= 1  # at most the message in flight
    finally:
        service.stop()


def test_lease_shorter_than_two_heartbeats_is_refused():
    from bot.config import ConfigError

    with pytest.raises((ConfigError, ValueError)) as caught:
        load_settings(schedule={"leader_retry_seconds": 10, "leader_lease_seconds": 15})
    assert "leader_lease_seconds" in str(caught.value)
