"""`matchmaker serve` as a real process: starts, refuses a second copy on SQLite, stops on
SIGTERM with exit code 0."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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

    def wait_for(self, text: str, timeout: float = 60) -> bool:
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


def readiness(process: Process) -> dict[str, Any]:
    """The `/readyz` checks of the serve process (its health URL is in its start-up lines)."""
    match = re.search(r"Health: (http://\S+)/healthz", process.output())
    assert match, process.output()
    try:
        with urllib.request.urlopen(match.group(1) + "/readyz", timeout=10) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:  # 503: not ready, same JSON body
        body = exc.read()
    return json.loads(body)["checks"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MATCHMAKER_", "SLACK_"))}
    env.pop("DATABASE_URL", None)
    env.pop("GITHUB_TOKEN", None)
    env.update(
        MATCHMAKER_DATA_DIR=str(tmp_path / "data"),
        MATCHMAKER_HTTP_PORT="0",
        MATCHMAKER_LOG_FORMAT="console",
        # keep what is already on the path first (e.g. the time-travel sitecustomize)
        PYTHONPATH=os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(ROOT)) if p),
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
        checks = readiness(first)
        assert "database" in checks and "slack" not in checks
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
        slack_check = readiness(process)["slack"]
        assert slack_check["ok"] and slack_check["detail"] == "connected"
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


def test_serve_in_http_mode_reports_slack_readiness_and_rejects_missing_secret(tmp_path):
    from bot.fakes.slack import BOT_TOKEN, FakeSlack

    slack = FakeSlack()
    slack.start()
    env = _env(tmp_path)
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        MATCHMAKER_SLACK_MODE="http",
        MATCHMAKER_SLACK_HTTP_PORT="0",
        MATCHMAKER_SLACK_API_URL=slack.base_url,
    )
    missing = Process(env)
    process = None
    try:
        assert missing.popen.wait(30) == 2, missing.output()
        assert "SLACK_SIGNING_SECRET" in missing.output()
        assert "Traceback" not in missing.output()
        process = Process({**env, "SLACK_SIGNING_SECRET": "serve-test-signing-secret"})
        assert process.wait_for("Matchmaker is running"), process.output()
        assert "HTTP mode, events at http://" in process.output()
        slack_check = readiness(process)["slack"]
        assert slack_check["ok"] and slack_check["detail"] == "connected"
        process.popen.send_signal(signal.SIGTERM)
        assert process.popen.wait(30) == 0, process.output()
    finally:
        for started in (missing, process):
            if started is not None and started.popen.poll() is None:
                started.popen.kill()
                started.popen.wait(10)
        slack.stop()


def test_serve_on_a_broken_database_file_fails_in_one_line(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "matchmaker.db").write_bytes(b"this is not an SQLite database" * 100)
    process = Process(_env(tmp_path))
    try:
        assert process.popen.wait(30) == 1, process.output()
        assert "database migration failed" in process.output()
        assert "sqlalche.me" not in process.output()  # one line, not the whole story
        assert "Traceback" not in process.output()
    finally:
        if process.popen.poll() is None:
            process.popen.kill()
            process.popen.wait(10)


class _CrawlRecorder:
    """Stand-ins for the catalog sync and the GitHub crawl that record their log context."""

    def __init__(self, status: str = "ok") -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.status = status

    def sync_lists(self, engine: Any, settings: Any, **_: Any) -> list[Any]:
        import structlog

        self.calls.append(("sync", structlog.contextvars.get_contextvars()))
        return []

    def crawl(self, engine: Any, settings: Any, **_: Any) -> Any:
        import structlog

        from bot.github.report import CrawlReport

        self.calls.append(("crawl", structlog.contextvars.get_contextvars()))
        failed = self.status == "failed"
        return CrawlReport(mode="graphql", repos_done=0 if failed else 5, repos_failed=int(failed))


def _crawl_setup(engine: Any, monkeypatch: Any, status: str = "ok") -> _CrawlRecorder:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update
    from sqlmodel import Session

    from bot.store.models import Repository
    from tests.deliver.conftest import seed_issues

    now = datetime.now(UTC)
    seed_issues(engine, 10, crawled_at=now - timedelta(minutes=5))
    with Session(engine) as session:
        session.execute(update(Repository).values(pushed_at=now - timedelta(days=1)))
        session.commit()
    recorder = _CrawlRecorder(status)
    monkeypatch.setattr("bot.catalog.sync.sync_lists", recorder.sync_lists)
    monkeypatch.setattr("bot.github.crawl.crawl", recorder.crawl)
    return recorder


def test_crawl_job_syncs_then_crawls_in_one_run_and_scores_so_picks_do_not(engine, monkeypatch):
    from sqlmodel import Session, select

    from bot.config import load_settings
    from bot.match import approachability
    from bot.match.profile import profile_from_text
    from bot.match.recommend import rank_profiles
    from bot.schedule.jobs import crawl_job
    from bot.store.models import Issue

    recorder = _crawl_setup(engine, monkeypatch)
    settings = load_settings()
    report = crawl_job(engine, settings)

    assert report.status == "ok"
    assert [name for name, _ in recorder.calls] == ["sync", "crawl"]
    (_, sync_context), (_, crawl_context) = recorder.calls
    assert sync_context["run_kind"] == crawl_context["run_kind"] == "crawl"
    assert sync_context["run_id"] == crawl_context["run_id"]
    with Session(engine) as session:
        issues = session.exec(select(Issue)).all()
    assert issues and all(issue.approachability is not None for issue in issues)
    assert all(issue.approachability_at >= issue.crawled_at for issue in issues)

    scored: list[int] = []

    def counting_score_issues(issues: Any, repos: Any, model: Any = None) -> dict[int, float]:
        issues = list(issues)
        scored.append(len(issues))
        return real(issues, repos, model)

    real = approachability.score_issues
    monkeypatch.setattr(approachability, "score_issues", counting_score_issues)
    with Session(engine) as session:
        now = datetime.now(UTC)  # the crawl job read the same clock
        result = rank_profiles(session, settings, [profile_from_text("python")], now=now)
    assert result.picks[0], "the seeded issues are eligible"
    assert scored == [], "picks right after a crawl re-scored issues"


def test_a_failed_crawl_is_not_followed_by_scoring(engine, monkeypatch):
    from sqlmodel import Session, select

    from bot.config import load_settings
    from bot.schedule.jobs import crawl_job
    from bot.store.models import Issue

    _crawl_setup(engine, monkeypatch, status="failed")
    assert crawl_job(engine, load_settings()).status == "failed"
    with Session(engine) as session:
        assert all(issue.approachability is None for issue in session.exec(select(Issue)).all())
