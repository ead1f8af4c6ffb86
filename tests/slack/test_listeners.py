"""Listeners called alone with a fake context, and the one error handler: whatever a listener
raises is logged and the member gets one clear line, never a traceback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
import structlog
from slack_bolt import BoltContext
from sqlalchemy.engine import Engine

from bot.config import load_settings
from bot.config.settings import Settings
from bot.fakes.slack import FakeSlack
from bot.fakes.slack import signing as s
from bot.fakes.slack.client import SlackLike, start_app
from bot.slack import commands as c
from bot.slack import handlers
from bot.slack.handlers import default_crawler, default_recommender
from bot.slack.listeners import LISTENERS, command, forget, people_buttons
from bot.slack.listeners.common import DEPS, Deps
from bot.slack.listeners.errors import ERROR_REPLY
from bot.slack.people import BUTTON_ACTION_IDS
from bot.slack.picks_queue import PicksQueue
from bot.slack.profile import find_member
from bot.store.db import session_scope

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Recorder:
    """Stands in for Bolt's `ack` / `respond`: remembers every call's keyword arguments."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


class FakeClient:
    """The two Web API methods these listeners call."""

    def __init__(self) -> None:
        self.published: list[str] = []

    def users_info(self, *, user: str) -> dict[str, Any]:
        return {"user": {"id": user, "tz": "Europe/Berlin"}}

    def views_publish(self, *, user_id: str, view: dict[str, Any]) -> None:
        self.published.append(user_id)


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(max_workers=2)
    yield executor
    executor.shutdown(wait=True)


def fake_context(engine: Engine, pool: ThreadPoolExecutor) -> BoltContext:
    settings = load_settings()
    deps = Deps(
        settings=settings,
        engine=engine,
        clock=lambda: NOW,
        recommender=default_recommender,
        crawler=default_crawler,
        issue_checker=None,
        executor=pool,
        picks=PicksQueue(engine, settings, default_recommender, pool, lambda: NOW),
    )
    return BoltContext({DEPS: deps, "team_id": "T0001", "user_id": "U0001"})


def test_help_is_answered_in_the_ack_and_the_lazy_listener_does_nothing():
    ack, respond = Recorder(), Recorder()
    context = BoltContext({"team_id": "T0001", "user_id": "U0001"})  # no deps needed
    command.ack_command(ack, {"text": "help"}, context)
    assert "good first issues" in str(ack.calls[0]["blocks"])
    command.run_command({}, FakeClient(), respond, context)  # type: ignore[arg-type]
    assert respond.calls == []  # answered once, in the ack


def test_a_command_runs_alone_with_a_fake_context(engine, pool):
    ack, respond, client = Recorder(), Recorder(), FakeClient()
    context = fake_context(engine, pool)
    command.ack_command(ack, {"text": "level some"}, context)
    assert ack.calls == [{}]  # needs the database: answered after the ack
    assert context[command.PARSED] == c.SetLevel("some")
    command.run_command({}, client, respond, context)  # type: ignore[arg-type]
    assert respond.calls[0]["text"] == "Saved. Your level: some."
    assert client.published == ["U0001"]  # the Home tab shows the new level
    with session_scope(engine) as session:
        member = find_member(session, "T0001", "U0001")
        assert member is not None
        assert (member.level, member.timezone) == ("some", "Europe/Berlin")


def test_forget_cancel_alone_keeps_the_data():
    respond = Recorder()
    forget.forget_cancelled(respond)  # type: ignore[arg-type]
    assert respond.calls == [{"text": "OK, nothing was deleted.", "replace_original": True}]


def test_a_people_click_without_a_numeric_value_is_ignored(engine, pool):
    respond = Recorder()
    body = {"actions": [{"action_id": BUTTON_ACTION_IDS[0], "value": "x" * 5}]}
    people_buttons.people_clicked(body, FakeClient(), respond, fake_context(engine, pool))  # type: ignore[arg-type]
    assert respond.calls == []
    assert people_buttons.clicked_value({"actions": [{"action_id": "a", "value": "9" * 19}]}) == (
        "a",
        None,
    )


def test_every_listener_module_registers_itself():
    assert all(callable(getattr(module, "register", None)) for module in LISTENERS)


@pytest.fixture
def slack_app(
    http_settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> Iterator[SlackLike]:
    server, slack_like = start_app(http_settings, engine, fake_slack)
    yield slack_like
    slack_like.close()
    server.stop()


def failing(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("boom: xoxb-000000-secret")


def _errors(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """This test's listener failures (a listener of an earlier test may still be finishing)."""
    return [
        entry
        for entry in logs
        if entry["event"] == "slack listener failed" and "boom" in str(entry.get("exc_info"))
    ]


def test_an_exception_after_the_ack_reaches_the_error_handler(slack_app, monkeypatch):
    monkeypatch.setitem(handlers._HANDLERS, c.SetLevel, failing)
    with structlog.testing.capture_logs() as logs:
        reply = slack_app.reply("level some")
        deadline = time.monotonic() + 5
        while not _errors(logs) and time.monotonic() < deadline:
            time.sleep(0.01)
    assert reply["text"] == ERROR_REPLY
    assert "Traceback" not in str(reply) and "boom" not in str(reply)
    [entry] = _errors(logs)
    assert (entry["request"], entry["error"], entry["team_id"]) == (
        "/matchmaker",
        "RuntimeError",
        slack_app.team_id,
    )
    assert "response_url" not in str(entry) and "hooks." not in str(entry)


def test_an_exception_in_the_ack_is_answered_in_the_ack(slack_app, monkeypatch):
    monkeypatch.setattr(command, "quick_reply", failing)
    with structlog.testing.capture_logs() as logs:
        response = slack_app.command("help")
    assert response.status_code == 200
    assert response.json() == {"text": ERROR_REPLY, "response_type": "ephemeral"}
    assert [e["error"] for e in _errors(logs)] == ["RuntimeError"]


def test_an_exception_in_a_button_listener_answers_the_clicker(slack_app, monkeypatch):
    monkeypatch.setattr(forget, "forget", failing)
    before = len(slack_app.fake.calls_for("response_url"))
    payload = s.block_action_payload(
        "forget_confirm",
        "forget",
        team_id=slack_app.team_id,
        response_url=slack_app.fake.response_url("click"),
    )
    assert slack_app.click(payload).status_code == 200
    calls = slack_app.fake.wait_for("response_url", before + 1)
    assert calls[before].args["text"] == ERROR_REPLY
    assert calls[before].args.get("replace_original") in (False, "false", None)


def test_interested_and_the_nudge_buttons_alone_hold_keep_and_release(engine, pool):
    from datetime import timedelta

    from sqlmodel import select

    from bot.slack.listeners import hold_buttons, pick_buttons
    from bot.store.models import Hold
    from tests.slack.slack_seed import add_member, seed_world

    (issue_id,) = seed_world(engine, repos=1, issues_per_repo=1)
    add_member(engine, languages={"python": 1.0}, timezone="Asia/Tokyo")
    context = fake_context(engine, pool)
    respond = Recorder()
    click = {
        "actions": [{"action_id": "pick_interested", "value": str(issue_id), "block_id": "b"}],
        "container": {"type": "message_ephemeral"},
    }
    pick_buttons.pick_clicked(click, FakeClient(), respond, context)  # type: ignore[arg-type]
    assert "Held for you until <!date^" in str(respond.calls[-1]["blocks"])
    assert "JST" in str(respond.calls[-1]["blocks"])  # the fallback in the member's timezone
    with session_scope(engine) as session:
        (hold,) = session.exec(select(Hold)).all()
        hold_id, expires = hold.id, hold.expires_at
    assert expires == NOW + timedelta(days=7)
    client = FakeClient()
    keep = {"actions": [{"action_id": "hold_keep", "value": str(hold_id)}]}
    hold_buttons.hold_clicked(keep, client, respond, context)  # type: ignore[arg-type]
    assert "Kept" in respond.calls[-1]["text"] and client.published == ["U0001"]
    release = {"actions": [{"action_id": "hold_release", "value": str(hold_id)}]}
    hold_buttons.hold_clicked(release, client, respond, context)  # type: ignore[arg-type]
    assert "Released" in respond.calls[-1]["text"]
    with session_scope(engine) as session:
        (hold,) = session.exec(select(Hold)).all()
        assert (hold.keeps, hold.release_reason) == (1, "released")
    calls = len(respond.calls)
    bad = {"actions": [{"action_id": "hold_keep", "value": "nope"}]}
    hold_buttons.hold_clicked(bad, client, respond, context)  # type: ignore[arg-type]
    assert len(respond.calls) == calls  # not a hold id: ignored
