"""`matchmaker digest`: dry run shows and stores nothing; `send --now` sends once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from bot.cli.app import app
from bot.store.db import make_engine
from bot.store.models import Delivery, Pick, Repository
from tests.deliver.conftest import seed_issues, seed_members

runner = CliRunner()


def _world(url: str, **member_fields) -> Engine:
    engine = make_engine(url)
    seed_issues(engine, count=12)
    with Session(engine) as session:
        # the CLI reads the machine's clock: the repositories must be active at that time
        pushed = datetime.now(UTC) - timedelta(days=1)
        session.execute(update(Repository).values(pushed_at=pushed))
        session.commit()
    seed_members(
        engine,
        [
            {"slack_user_id": "UADA", "display_name": "Ada", "languages": {"python": 1.0},
             "timezone": "Etc/GMT+12", "digest_time": "00:00", **member_fields},
        ],
    )  # fmt: skip
    return engine


def _count(engine: Engine, model) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_digest_without_an_action_says_what_to_do(cli_db):
    result = runner.invoke(app, ["digest"])
    assert result.exit_code == 1
    assert "--dry-run" in result.output and "send --now" in result.output


def test_dry_run_for_a_member_shows_picks_and_stores_nothing(cli_db):
    engine = _world(cli_db, digest_day="sun")
    result = runner.invoke(app, ["digest", "--dry-run", "--member", "uada"])
    assert result.exit_code == 0, result.output
    assert "UADA" in result.output and "Fix <thing>" in result.output
    assert "nothing is sent or stored" in result.output
    assert _count(engine, Delivery) == 0 and _count(engine, Pick) == 0


def test_dry_run_names_unknown_members(cli_db):
    _world(cli_db)
    result = runner.invoke(app, ["digest", "--dry-run", "--member", "UNOBODY"])
    assert result.exit_code == 1 and "unknown member: UNOBODY" in result.output


@hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(min_size=1, max_size=20))
def test_any_member_argument_gives_a_clear_answer_not_a_traceback(tmp_path, value):
    result = runner.invoke(app, ["digest", "--dry-run", "--member", value])
    assert result.exit_code in (0, 1, 2)
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_send_now_prints_without_a_token_and_sends_once(cli_db):
    engine = _world(cli_db, digest_day="sun")
    first = runner.invoke(app, ["digest", "send", "--now"])
    assert first.exit_code == 0, first.output
    assert "No SLACK_BOT_TOKEN" in first.output and "to UADA" in first.output
    assert "1 sent" in first.output
    second = runner.invoke(app, ["digest", "send", "--now"])
    assert second.exit_code == 0 and "0 sent" in second.output
    with Session(engine) as session:
        (row,) = session.scalars(select(Delivery)).all()
        assert row.state == "sent" and row.slack_ts


def test_send_is_refused_while_another_process_sends(cli_db):
    """Issue 16, finding 5: one sender at a time, so the workspace rate is not doubled."""
    from bot.schedule.leader import leader_lock_for

    engine = _world(cli_db, digest_day="sun")
    leader = leader_lock_for(engine)  # a running `serve` holds it while it leads
    assert leader.try_acquire()
    try:
        refused = runner.invoke(app, ["digest", "send", "--now"])
        assert refused.exit_code == 1 and "Traceback" not in refused.output
        assert "is sending digests now" in refused.output
        assert _count(engine, Delivery) == 0
    finally:
        leader.release()
    allowed = runner.invoke(app, ["digest", "send", "--now"])
    assert allowed.exit_code == 0 and "1 sent" in allowed.output


def test_send_with_a_revoked_token_exits_1_and_says_why(cli_db, monkeypatch):
    from bot.fakes.slack import FakeSlack

    engine = _world(cli_db, digest_day="sun")
    with FakeSlack(bot_token="xoxb-real-one") as slack:
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-revoked-one")
        monkeypatch.setenv("MATCHMAKER_SLACK_API_URL", slack.base_url)
        result = runner.invoke(app, ["digest", "send", "--now"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "invalid_auth" in result.output and "stay pending" in result.output
    with Session(engine) as session:
        assert [d.state for d in session.scalars(select(Delivery))] == ["pending"]
