"""The health server over real HTTP: liveness, readiness checks, Prometheus metrics."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from opshelp import GITHUB_TOKEN
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import load_settings
from bot.store.db import make_engine
from bot.store.models import CrawlRun, Hold, Issue, Member, Pick, Repository, TakenReport
from bot.web import metrics
from bot.web.health import CheckResult, HealthServer, slack_connection_check


@pytest.fixture
def server(engine: Engine) -> Iterator[HealthServer]:
    with HealthServer(load_settings(http_port=0), engine) as health:
        yield health


def get(url: str) -> tuple[int, str, str]:
    """Status, content type and body of a GET (error statuses included)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def test_healthz_answers_on_the_port_it_picked(server: HealthServer) -> None:
    assert server.port > 0
    status, content_type, body = get(server.url + "/healthz")
    assert status == 200 and content_type == "application/json"
    assert json.loads(body) == {"status": "ok"}
    assert get(server.url + "/nope")[0] == 404


def test_fresh_install_is_ready(server: HealthServer) -> None:
    status, _, body = get(server.url + "/readyz")
    report = json.loads(body)
    assert status == 200 and report["status"] == "ready"
    assert report["checks"]["database"]["ok"] is True
    assert "no successful crawl yet" in report["checks"]["last_crawl"]["detail"]


def test_registered_checks_decide_readiness(server: HealthServer) -> None:
    connected = {"up": False}
    server.add_check("slack", slack_connection_check(lambda: connected["up"]))
    status, _, body = get(server.url + "/readyz")
    assert status == 503
    assert json.loads(body)["checks"]["slack"] == {
        "ok": False,
        "detail": "not connected to Slack",
        "seconds": json.loads(body)["checks"]["slack"]["seconds"],
    }
    connected["up"] = True
    assert get(server.url + "/readyz")[0] == 200
    server.add_check("custom", lambda: CheckResult(False, "queue stuck"))
    assert "queue stuck" in get(server.url + "/readyz")[2]
    server.remove_check("custom")
    assert get(server.url + "/readyz")[0] == 200


def test_a_crashing_check_is_not_ready_and_its_message_is_redacted(server: HealthServer) -> None:
    def broken() -> bool:
        raise ConnectionError(f"auth failed for Bearer {GITHUB_TOKEN}")

    server.add_check("github", broken)
    status, _, body = get(server.url + "/readyz")
    assert status == 503
    assert "ConnectionError" in body and GITHUB_TOKEN not in body


def test_stale_crawl_makes_the_bot_not_ready(engine: Engine) -> None:
    finished = datetime.now(UTC) - timedelta(hours=60)
    with Session(engine) as session:
        session.add(CrawlRun(status="ok", started_at=finished, finished_at=finished))
        session.commit()
    settings = load_settings(http_port=0, ready_max_crawl_age_hours=48)
    with HealthServer(settings, engine) as server:
        status, _, body = get(server.url + "/readyz")
        assert status == 503
        assert (
            "last successful crawl 60.0 h ago" in json.loads(body)["checks"]["last_crawl"]["detail"]
        )
    with Session(engine) as session:
        session.add(CrawlRun(status="partial", finished_at=datetime.now(UTC)))
        session.commit()
    with HealthServer(settings, engine) as server:
        assert get(server.url + "/readyz")[0] == 200


def test_unreachable_database_is_not_ready_but_healthz_stays_up(tmp_path) -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    with HealthServer(load_settings(http_port=0), engine) as server:
        assert get(server.url + "/healthz")[0] == 200
        status, _, body = get(server.url + "/readyz")
        assert status == 503 and json.loads(body)["checks"]["database"]["ok"] is False
        assert get(server.url + "/metrics")[0] == 200  # scraping still works
    engine.dispose()


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _add_issues(engine: Engine) -> None:
    with Session(engine) as session:
        repo = Repository(full_name="acme/raft")
        session.add(repo)
        session.flush()
        specs = [
            {"number": 1},
            {"number": 2},
            {"number": 3, "assignees": ["alice"]},
            {"number": 4, "open_pr_count": 1},
            {"number": 5, "claimed": True},
            {"number": 6, "state": "closed"},
            {"number": 7, "is_pull_request": True},
            {"number": 8},  # held for a member of some workspace
        ]
        for spec in specs:
            session.add(
                Issue(
                    node_id=f"I_{spec['number']}",
                    repository_id=repo.id,
                    title="t",
                    url="https://github.com/acme/raft/issues/1",
                    **spec,
                )
            )
        gone = Repository(full_name="acme/deleted", gone_at=datetime(2026, 11, 1, tzinfo=UTC))
        session.add(gone)
        session.flush()
        session.add(
            Issue(node_id="I_gone", repository_id=gone.id, number=1, title="t", url="https://x/1")
        )
        session.add(CrawlRun(status="ok", finished_at=datetime.now(UTC) - timedelta(minutes=5)))
        session.flush()
        # issue 2: reported taken by two members of one workspace (GitHub did not confirm)
        issue_2 = session.exec(select(Issue).where(Issue.number == 2)).one()
        for user in ("U1", "U2"):
            member = Member(team_id="T1", slack_user_id=user)
            session.add(member)
            session.flush()
            session.add(
                TakenReport(
                    team_id="T1",
                    member_id=member.id,
                    issue_id=issue_2.id,
                    reported_at=datetime.now(UTC),
                )
            )
        issue_8 = session.exec(select(Issue).where(Issue.number == 8)).one()
        holder = session.exec(select(Member).where(Member.slack_user_id == "U1")).one()
        now = datetime.now(UTC)
        session.add(
            Hold(
                team_id="T1",
                issue_id=issue_8.id,
                member_id=holder.id,
                held_at=now,
                expires_at=now + timedelta(days=7),
                active_key=f"T1:{issue_8.id}",
            )
        )
        session.add(Pick(member_id=member.id, issue_id=issue_2.id, created_at=datetime.now(UTC)))
        session.commit()


def test_metrics_expose_stage_metrics_and_store_gauges(
    server: HealthServer, engine: Engine
) -> None:
    _add_issues(engine)
    metrics.CRAWL_DURATION.observe(42.0)
    metrics.GITHUB_BUDGET_LEFT.labels(resource="graphql").set(4321)
    metrics.record_digest("sent")
    metrics.record_digest("failed")
    metrics.record_slack_429("chat.postMessage")
    metrics.COMMAND_LATENCY.labels(command="picks").observe(0.3)

    status, content_type, body = get(server.url + "/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    values = _samples(body)
    issues = {
        dict(labels)["availability"]: value
        for (name, labels), value in values.items()
        if name == "matchmaker_issues"
    }
    assert issues == {
        "available": 1,
        "reported_in_workspace": 1,
        "held": 1,
        "assigned": 1,
        "linked_pr": 1,
        "claimed": 1,
        "closed": 1,
        "pull_request": 1,
        "locked": 0,
        "repo_archived": 0,
        "repo_disabled": 0,
        "repo_inactive": 0,
        "repo_gone": 1,
    }
    assert values[("matchmaker_github_budget_remaining", (("resource", "graphql"),))] == 4321
    assert values[("matchmaker_crawl_duration_seconds_count", ())] >= 1
    sent = (("kind", "dm"), ("outcome", "sent"))
    assert values[("matchmaker_digest_messages_total", sent)] >= 1
    limited = (("method", "chat.postMessage"),)
    assert values[("matchmaker_slack_rate_limited_total", limited)] >= 1
    assert values[("matchmaker_command_latency_seconds_count", (("command", "picks"),))] >= 1
    assert 200 < values[("matchmaker_last_crawl_age_seconds", ())] < 400
    # measured quality (issue 19): every workspace's picks of this week, hit@k, pick -> merge
    this_week = (("measure", "picks"), ("week", "current"))
    assert values[("matchmaker_quality_week", this_week)] == 1
    assert values[("matchmaker_hit_at_k", (("k", "3"), ("window", "60d")))] == 0
    assert ("matchmaker_pick_to_merge_days", ()) in values


def test_stop_releases_the_port(engine: Engine) -> None:
    server = HealthServer(load_settings(http_port=0), engine)
    port = server.start()
    server.stop()
    server.stop()  # idempotent
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # raises OSError if the port were still taken
        assert sock.getsockname()[1] == port


def test_a_digest_run_stopped_by_a_bad_token_makes_the_bot_not_ready(engine: Engine) -> None:
    from bot.store.models import DigestRun

    started = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with Session(engine) as session:
        session.add(
            DigestRun(week="2026-W48", status="ok", started_at=started, finished_at=started)
        )
        session.commit()
    with HealthServer(load_settings(http_port=0), engine) as server:
        assert get(server.url + "/readyz")[0] == 200
    with Session(engine) as session:
        session.add(
            DigestRun(
                week="2026-W48",
                status="token_error",
                error="slack token: token_revoked",
                started_at=started,
                finished_at=started,
            )
        )
        session.commit()
    with HealthServer(load_settings(http_port=0), engine) as server:
        status, _, body = get(server.url + "/readyz")
        detail = json.loads(body)["checks"]["slack_token"]["detail"]
        assert status == 503 and "token_revoked" in detail and "SLACK_BOT_TOKEN" in detail
