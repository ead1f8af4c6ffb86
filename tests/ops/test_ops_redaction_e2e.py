"""A real crawl and a real digest with recognisable fake tokens: no token in any output.

Runs the catalog sync, the GitHub crawl (fake GitHub, GraphQL with the token) and a digest sent
with the Slack sender (fake Slack, one 429 on the way) with every library logging at DEBUG, then
greps everything written: the log stream and the process's stdout/stderr.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from opshelp import (
    GITHUB_TOKEN,
    SIGNING_SECRET,
    SLACK_APP_TOKEN,
    SLACK_BOT_TOKEN,
    assert_no_secret,
)
from sqlmodel import Session

from bot.config import load_settings
from bot.fakes.github.model import EPOCH
from bot.logs import configure_logging, get_logger, reset_logging, run_context
from bot.store import migrate
from bot.store.db import make_engine
from bot.store.models import Member

pytestmark = pytest.mark.slow
WORLD_NOW = EPOCH  # the demo world's clock: the same picks on any date


def test_crawl_and_digest_logs_carry_run_ids_and_no_token(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    fake_github: str,
    fake_slack: object,
    capfd: pytest.CaptureFixture[str],
) -> None:
    sync_lists = pytest.importorskip("bot.catalog.sync").sync_lists
    crawl = pytest.importorskip("bot.github.crawl").crawl
    run_digest = pytest.importorskip("bot.deliver.digest").run_digest
    senders = pytest.importorskip("bot.deliver.senders")
    normalize_stack = pytest.importorskip("bot.match.taxonomy").normalize_stack

    for name, value in {
        "GITHUB_TOKEN": GITHUB_TOKEN,
        "SLACK_BOT_TOKEN": SLACK_BOT_TOKEN,
        "SLACK_APP_TOKEN": SLACK_APP_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "MATCHMAKER_GITHUB_API_URL": fake_github,
        "MATCHMAKER_SLACK_API_URL": fake_slack.base_url,  # type: ignore[attr-defined]
        "MATCHMAKER_LOG_LEVEL": "debug",
        "MATCHMAKER_DIGEST__WORKSPACE_RATE_PER_S": "50",
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    stream = io.StringIO()
    configure_logging(settings, stream=stream, json=True)
    engine = make_engine(f"sqlite:///{tmp_path / 'e2e.db'}")
    migrate.upgrade(engine)

    log = get_logger("ops-test")
    log.info("ops-test crawl begin")
    with run_context("crawl") as crawl_id:
        sync_lists(engine, settings)
        report = crawl(engine, settings, now=WORLD_NOW)
    log.info("ops-test crawl end")
    assert report.repos_done > 0

    with Session(engine) as session:
        for user, stack in (("U100", "python, postgres"), ("U200", "go, raft")):
            parsed = normalize_stack(stack)
            session.add(
                Member(
                    team_id="T0001",
                    slack_user_id=user,
                    stack_text=stack,
                    languages=parsed.languages,
                    topics=parsed.topics,
                )
            )
        session.commit()
    fake_slack.rate_limit_next("chat.postMessage", retry_after=1)  # type: ignore[attr-defined]
    log.info("ops-test digest begin")
    with run_context("digest") as digest_id:
        digest = run_digest(
            engine,
            settings,
            senders.SlackSender.from_settings(settings),
            now=WORLD_NOW,
            force=True,
        )
    log.info("ops-test digest end")
    assert digest.sent == 2
    engine.dispose()
    reset_logging()

    captured = capfd.readouterr()
    assert_no_secret(stream.getvalue() + captured.out + captured.err)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    crawl_lines = _lines_of(records, "crawl")
    digest_lines = _lines_of(records, "digest")
    assert any(r["logger"].startswith("bot.github") for r in crawl_lines)
    assert any(r["logger"].startswith(("httpx", "httpcore")) for r in crawl_lines)
    assert any(r["logger"].startswith("slack_sdk") for r in digest_lines)
    missing = {
        kind: sorted({r["logger"] for r in lines if r.get("run_id") != run_id})
        for kind, lines, run_id in (
            ("crawl", crawl_lines, crawl_id),
            ("digest", digest_lines, digest_id),
        )
    }
    if any(missing.values()):
        # Worker threads don't inherit context variables; the stage must submit its work with
        # bot.logs.in_current_context (reported to the crawl and digest owners).
        pytest.xfail(f"log lines without their run id (worker threads): {missing}")


FAKE_SERVERS = ("aiohttp", "bot.fakes")


def _lines_of(records: list[dict], kind: str) -> list[dict]:
    """Lines logged between the run's begin and end markers, except the fake servers' own."""
    begin = next(i for i, r in enumerate(records) if r["event"] == f"ops-test {kind} begin")
    end = next(i for i, r in enumerate(records) if r["event"] == f"ops-test {kind} end")
    return [r for r in records[begin + 1 : end] if not r["logger"].startswith(FAKE_SERVERS)]
