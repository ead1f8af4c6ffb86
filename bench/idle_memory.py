"""Resident memory of `matchmaker serve`: after start-up and after one crawl + digest.

Starts the real `matchmaker serve` process on SQLite against the fake GitHub (synthetic demo
world, GraphQL with a token) and the fake Slack (Socket Mode + Web API), both running in this
bench process so they do not count. The crawl is scheduled for the next minute and the four demo
members' digests for the minute after; the bench waits until Slack has received every digest,
reads VmRSS/VmHWM from /proc, then stops the bot with SIGTERM. Target (issue 18): ≤ 120 MB RSS
after the digests.

Usage: uv run python bench/idle_memory.py [--timeout 300]
The last line is a JSON object with rss_start_mb and rss_after_mb (and the peak, ratios).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from bot.demo.members import SAMPLE_MEMBERS
from bot.fakes.github.server import FakeGitHub
from bot.fakes.github.world import demo_world
from bot.fakes.slack.server import FakeSlack
from bot.match.taxonomy import normalize_stack
from bot.store import migrate
from bot.store.db import make_engine
from bot.store.models import CrawlRun, Member

TARGET_MB = 120.0
GITHUB_TOKEN = "ghp_benchIdleMemoryToken0123456789abcd"
BOT_TOKEN = "xoxb-bench-idle-memory"
APP_TOKEN = "xapp-bench-idle-memory"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def rss_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of `pid` in MB, from /proc/PID/status."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return round(fields["VmRSS"], 1), round(fields["VmHWM"], 1)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition, timeout: float, what: str, process: subprocess.Popen) -> float:  # type: ignore[no-untyped-def]
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if process.poll() is not None:
            raise SystemExit(f"serve exited with {process.returncode} while waiting for {what}")
        try:
            if condition():
                return time.monotonic() - began
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")


def seed_members(db_url: str, digest_at: datetime) -> int:
    """Migrate and add the demo members, due at `digest_at` (UTC)."""
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    with Session(engine) as session:
        for sample in SAMPLE_MEMBERS:
            stack = normalize_stack(sample.stack)
            session.add(
                Member(
                    team_id="T0001",
                    slack_user_id=sample.slack_user_id,
                    display_name=sample.name,
                    stack_text=sample.stack,
                    languages=stack.languages,
                    topics=stack.topics,
                    level=sample.level,
                    digest_day=WEEKDAYS[digest_at.weekday()],
                    digest_time=digest_at.strftime("%H:%M"),
                    timezone="UTC",
                )
            )
        session.commit()
    engine.dispose()
    return len(SAMPLE_MEMBERS)


def crawl_finished(db_url: str) -> bool:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            done = session.execute(
                select(func.count()).where(CrawlRun.finished_at.is_not(None))  # type: ignore[union-attr]
            ).scalar_one()
    finally:
        engine.dispose()
    return done > 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=300, help="seconds for crawl + digest")
    parser.add_argument(
        "--startup-allowance", type=float, default=20, help="seconds before the crawl minute"
    )
    args = parser.parse_args()

    github = FakeGitHub(demo_world(), token=GITHUB_TOKEN)
    slack = FakeSlack(bot_token=BOT_TOKEN, app_token=APP_TOKEN)
    github_url = github.start()
    slack_url = slack.start()
    workdir = Path(tempfile.mkdtemp(prefix="mm-idle-"))
    db_url = f"sqlite:///{workdir / 'data' / 'matchmaker.db'}"

    now = datetime.now(UTC)
    # start-up takes 10-60 s (more on a loaded machine): the crawl must come after the scheduler
    lead = timedelta(seconds=args.startup_allowance)
    crawl_at = (now + lead).replace(second=0, microsecond=0) + timedelta(minutes=1)
    digest_at = crawl_at + timedelta(minutes=1)
    members = seed_members(db_url, digest_at)
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MATCHMAKER_", "SLACK_", "GITHUB_")) and key != "DATABASE_URL"
    }
    env.update(
        {
            "GITHUB_TOKEN": GITHUB_TOKEN,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "MATCHMAKER_GITHUB_API_URL": github_url,
            "MATCHMAKER_SLACK_API_URL": slack_url,
            "MATCHMAKER_DATA_DIR": str(workdir / "data"),
            "MATCHMAKER_HTTP_PORT": str(port),
            "MATCHMAKER_TIMEZONE": "UTC",
            "MATCHMAKER_LOG_FORMAT": "json",
            "MATCHMAKER_SCHEDULE__CRAWL_HOUR": str(crawl_at.hour),
            "MATCHMAKER_SCHEDULE__CRAWL_MINUTE": str(crawl_at.minute),
            "MATCHMAKER_SCHEDULE__CRAWL_DAY_OF_WEEK": "*",
            "MATCHMAKER_SCHEDULE__DIGEST_TICK_MINUTES": "1",
            "MATCHMAKER_DIGEST__WORKSPACE_RATE_PER_S": "20",
            "MALLOC_ARENA_MAX": "2",  # as in docker/Dockerfile
        }
    )
    command = [str(Path(sys.executable).with_name("matchmaker")), "serve"]
    log_path = workdir / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=Path(__file__).resolve().parents[1], env=env, stdout=log, stderr=log
        )
    try:
        health = f"http://127.0.0.1:{port}/healthz"
        startup_s = wait_until(
            lambda: urllib.request.urlopen(health, timeout=2).status == 200,
            60,
            "/healthz",
            process,
        )
        time.sleep(3)  # let start-up work (Socket Mode connect, first digest tick) settle
        rss_start, _ = rss_mb(process.pid)
        print(f"serve up in {startup_s:.1f} s; RSS {rss_start} MB after start-up")
        print(f"crawl scheduled {crawl_at:%H:%M} UTC, digests due {digest_at:%H:%M} UTC")

        wait_until(lambda: crawl_finished(db_url), args.timeout, "the crawl", process)
        crawled_rss, _ = rss_mb(process.pid)
        print(f"crawl finished; RSS {crawled_rss} MB")
        wait_until(
            lambda: len(slack.calls_for("chat.postMessage", ok_only=True)) >= members,
            args.timeout,
            "the digests",
            process,
        )
        time.sleep(2)
        rss_after, rss_peak = rss_mb(process.pid)
        sent = len(slack.calls_for("chat.postMessage", ok_only=True))
        print(f"{sent} digests sent; RSS {rss_after} MB (peak {rss_peak} MB)")
        process.send_signal(signal.SIGTERM)
        began = time.monotonic()
        code = process.wait(timeout=30)
        stop_s = time.monotonic() - began
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        github.stop()
        slack.stop()
    print(f"stopped with exit code {code} in {stop_s:.1f} s; log: {log_path}")
    print(
        json.dumps(
            {
                "rss_start_mb": rss_start,
                "rss_after_crawl_mb": crawled_rss,
                "rss_after_mb": rss_after,
                "rss_peak_mb": rss_peak,
                "target_mb": TARGET_MB,
                "after_to_target_ratio": round(rss_after / TARGET_MB, 3),
                "peak_to_target_ratio": round(rss_peak / TARGET_MB, 3),
                "growth_ratio": round(rss_after / rss_start, 3),
                "digests_sent": sent,
                "members": members,
                "startup_s": round(startup_s, 2),
                "sigterm_exit_code": code,
                "sigterm_stop_s": round(stop_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
