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
