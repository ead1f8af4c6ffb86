"""Merge celebrations (SQLite and PostgreSQL): opt-in DMs with a next step, the channel post
(first merge has its own wording), exactly once across a crash between "merge seen" and
"celebration posted" and across two replicas; opted-out members and members without a GitHub
login get nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.deliver import intros as ledger
from bot.deliver.celebrate import set_celebrate, streak_months
from bot.fakes.github import FakeGitHub
from bot.people.run import run_pass
from bot.store.db import session_scope
from bot.store.models import Member, PeopleMessage
from tests.outcomes.outcome_world import (
    build_world,
    catalog,
    crawl_at,
    day,
    issue_ids,
    members,
    pick,
    script,
    settings,
)
from tests.people.people_world import Outbox

CHANNEL = "CCELEBRATE"


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(build_world()) as server:
        yield server


@pytest.fixture
def world(engine: Engine, fake: FakeGitHub):
    catalog(engine)
    crawl_at(engine, fake, None, day(0))
    people = members(engine)
    issues = issue_ids(engine)
    for n in range(1, 6):
        pick(engine, people["ada"], issues[n], day(0))
    pick(engine, people["cy"], issues[1], day(0))
    for name in ("ada", "cy"):  # bo never opts in
        opt(engine, people[name], True)
    return people, script(fake.world)


def blocks_text(engine: Engine) -> str:
    """Every queued message's blocks as stored (what Slack receives)."""
    with Session(engine) as session:
        return json.dumps([m.blocks for m in session.exec(select(PeopleMessage)).all()])


def opt(engine: Engine, member_id: int, on: bool) -> None:
    with session_scope(engine) as session:
        set_celebrate(session, session.get(Member, member_id), on, day(0))


def celebrate(engine: Engine, fake: FakeGitHub, when, channel: str = CHANNEL):
    config = settings(fake)
    config.celebrate = config.celebrate.model_copy(update={"channel": channel})
    return run_pass(engine, config, when, invite=False)


def test_opted_in_member_gets_one_dm_per_merge_and_the_channel_a_post(
    engine: Engine, fake: FakeGitHub, world, outbox: Outbox
) -> None:
    _people, timeline = world
    crawl_at(engine, fake, timeline, day(7))  # ada's "see #3" PR merged on day 6
    assert celebrate(engine, fake, day(7)).celebrations == 1
    outbox.deliver(engine, day(7))
    [first] = outbox.texts_to("UADA")
    assert "Your first merged PR!" in first and "Not one of your picks" in first
    stored = blocks_text(engine)
    assert "<!channel>" not in stored and "&lt;!channel&gt;" in stored  # titles escaped
    [post] = outbox.texts_to(CHANNEL)
    assert "<@UADA>" in post and "*first* merged PR" in post
    crawl_at(engine, fake, timeline, day(10))  # #1 merged on day 9 (the pick)
    assert celebrate(engine, fake, day(10)).celebrations == 1
    assert celebrate(engine, fake, day(10)).celebrations == 0  # queued once
    outbox.deliver(engine, day(10))
    second = outbox.texts_to("UADA")[1]
    assert "Merged!" in second and "acme/db#" in second and "Not one of your picks" not in second
    assert "Next step" in second and "Task" in second
    stored = blocks_text(engine)
    assert "<b>" not in stored and "&lt;b&gt;html&lt;/b&gt; &amp; stuff" in stored
    assert "another PR merged" in outbox.texts_to(CHANNEL)[1]
    assert outbox.texts_to("UBO") == [] and outbox.texts_to("UCY") == []  # opted out / no login
    keys = outbox.keys
    assert len(keys) == len(set(keys)) == 4


def test_no_channel_means_dms_only_and_opting_out_stops_them(
    engine: Engine, fake: FakeGitHub, world, outbox: Outbox
) -> None:
    people, timeline = world
    opt(engine, people["ada"], False)
    crawl_at(engine, fake, timeline, day(7))
    assert celebrate(engine, fake, day(7), channel="").celebrations == 0
    opt(engine, people["ada"], True)
    assert celebrate(engine, fake, day(7), channel="").celebrations == 1
    outbox.deliver(engine, day(7))
    assert len(outbox.texts_to("UADA")) == 1 and outbox.texts_to(CHANNEL) == []


def test_crash_between_merge_seen_and_celebration_posted_posts_exactly_once(
    engine: Engine, fake: FakeGitHub, world, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    _people, timeline = world
    crawl_at(engine, fake, timeline, day(7))  # merge seen and stored; nothing queued yet
    celebrate(engine, fake, day(7))
    real_finish = ledger._finish

    def crash(*_args, **_kwargs):
        raise RuntimeError("killed after chat.postMessage, before the ledger was marked")

    monkeypatch.setattr(ledger, "_finish", crash)
    with pytest.raises(RuntimeError):
        outbox.deliver(engine, day(7))
    monkeypatch.setattr(ledger, "_finish", real_finish)
    celebrate(engine, fake, day(7) + timedelta(minutes=5))  # the next pass queues nothing new
    outbox.deliver(engine, day(7) + timedelta(minutes=1))  # still claimed: waits
    report = outbox.deliver(engine, day(7) + timedelta(minutes=30))  # lease over: looked up
    assert report.found == 1
    assert len(outbox.texts_to("UADA")) == 1 and len(outbox.texts_to(CHANNEL)) == 1
    with Session(engine) as session:
        states = session.exec(select(PeopleMessage.state)).all()
    assert sorted(states) == ["sent", "sent"]


def test_two_replicas_celebrate_each_merge_once(
    engine: Engine, fake: FakeGitHub, world, outbox: Outbox
) -> None:
    _people, timeline = world
    crawl_at(engine, fake, timeline, day(10))
    errors: list[BaseException] = []

    def replica() -> None:
        try:
            celebrate(engine, fake, day(10))
            outbox.deliver(engine, day(10))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(outbox.texts_to("UADA")) == 2  # two merges, one DM each
    assert len(outbox.keys) == len(set(outbox.keys)) == 4


def test_streak_counts_calendar_months_in_a_row() -> None:
    merges = [day(-70), day(-40), day(-5), day(-3)]
    assert streak_months(merges, day(-3)) >= 2
    assert streak_months([day(-100), day(-3)], day(-3)) == 1
    assert streak_months([], day(0)) == 0
