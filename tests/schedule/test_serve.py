"""`matchmaker serve` as a real process: starts, refuses a second copy on SQLite, stops on
SIGTERM with exit code 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Process:
    """A `matchmaker serve` subprocess whose output lines are collected as they come."""

    def __init__(self, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.popen = subprocess.Popen(
            [sys.executable, "-c", "from bot.cli.app import main; main()", "serve"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return True
            if self.popen.poll() is not None:
                time.sleep(0.2)
                return any(text in line for line in self.lines)
            time.sleep(0.05)
        return False

    def output(self) -> str:
        return "\n".join(self.lines)


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MATCHMAKER_", "SLACK_"))}
    env.pop("DATABASE_URL", None)
    env.pop("GITHUB_TOKEN", None)
    env.update(
        MATCHMAKER_DATA_DIR=str(tmp_path / "data"),
        MATCHMAKER_HTTP_PORT="0",
        MATCHMAKER_LOG_FORMAT="console",
        PYTHONPATH=str(ROOT),
    )
    return env


def test_serve_runs_refuses_a_second_copy_and_stops_cleanly_on_sigterm(tmp_path):
    env = _env(tmp_path)
    first = Process(env)
    second = None
    try:
        assert first.wait_for("Matchmaker is running"), first.output()
        out = first.output()
        assert "Slack app: off (no SLACK_BOT_TOKEN set)" in out
        assert "printed to this console" in out and "/healthz" in out
        second = Process(env)
        assert second.popen.wait(30) == 1
        assert "already serving" in second.output() and "PostgreSQL" in second.output()
        first.popen.send_signal(signal.SIGTERM)
        assert first.popen.wait(30) == 0
        assert first.wait_for("Stopped cleanly"), first.output()
    finally:
        for process in (first, second):
            if process is not None and process.popen.poll() is None:
                process.popen.kill()
                process.popen.wait(10)


def test_serve_with_slack_tokens_connects_socket_mode_and_sends_due_digests(tmp_path):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update
    from sqlmodel import Session

    from bot.fakes.slack import APP_TOKEN, BOT_TOKEN, FakeSlack
    from bot.store import migrate
    from bot.store.db import make_engine
    from bot.store.models import Repository
    from tests.deliver.conftest import seed_issues, seed_members

    env = _env(tmp_path)
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'matchmaker.db'}")
    migrate.upgrade(engine)
    now = datetime.now(UTC)
    seed_issues(engine, crawled_at=now)
    with Session(engine) as session:
        session.execute(update(Repository).values(pushed_at=now - timedelta(days=1)))
        session.commit()
    today = now.strftime("%a").lower()
    seed_members(
        engine,
        [{"slack_user_id": "USERVE", "languages": {"python": 1.0}, "digest_day": today,
          "digest_time": "00:00", "timezone": "UTC"}],
    )  # fmt: skip
    engine.dispose()
    slack = FakeSlack()
    slack.start()
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=APP_TOKEN,
        MATCHMAKER_SLACK_API_URL=slack.base_url,
        MATCHMAKER_DIGEST__WORKSPACE_RATE_PER_S="50",
    )
    process = Process(env)
    try:
        assert process.wait_for("Matchmaker is running"), process.output()
        assert "connected in Socket Mode" in process.output()
        assert slack.wait_for_socket(20)
        (post,) = slack.wait_for("chat.postMessage", 1, timeout=30)
        assert post.args["channel"] == "DSERVE"
        process.popen.send_signal(signal.SIGTERM)
        assert process.popen.wait(30) == 0, process.output()
        assert len(slack.calls_for("chat.postMessage")) == 1
    finally:
        if process.popen.poll() is None:
            process.popen.kill()
            process.popen.wait(10)
        slack.stop()
