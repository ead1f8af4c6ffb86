"""Replay protection: a key counts once per window; lapsed keys count again and are purged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.slack.replay import PURGE_EVERY, REMEMBER, ReplayGuard
from bot.store.models import SlackRequestSeen

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def stored(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(SlackRequestSeen)).one()[0]


def test_a_key_is_accepted_once_within_the_window(engine: Engine) -> None:
    guard = ReplayGuard(engine)
    assert guard.first_time("sig:a", NOW)
    assert not guard.first_time("sig:a", NOW + timedelta(minutes=3))
    assert not ReplayGuard(engine).first_time("sig:a", NOW + timedelta(minutes=4))  # a replica
    assert guard.seen("sig:a", NOW + timedelta(minutes=4))


def test_a_lapsed_key_is_accepted_again_even_before_the_purge(engine: Engine) -> None:
    guard = ReplayGuard(engine)
    assert guard.first_time("event:E1", NOW)
    later = NOW + REMEMBER + timedelta(seconds=1)
    other = ReplayGuard(engine)
    other._purged_at = later  # this replica purged just now: the lapsed row is still there
    assert other.first_time("event:E1", later)
    assert not other.first_time("event:E1", later + timedelta(seconds=5))


def test_lapsed_keys_are_purged_at_most_once_a_minute(engine: Engine) -> None:
    guard = ReplayGuard(engine)
    second = timedelta(seconds=1)
    assert guard.first_time("sig:a", NOW)  # purges (nothing yet)
    assert guard.first_time("sig:b", NOW + 11 * second)
    purged = NOW + REMEMBER + second
    assert guard.first_time("sig:c", purged)  # a lapsed and goes; b has 10 s left
    assert stored(engine) == 2
    assert guard.first_time("sig:d", purged + PURGE_EVERY / 2)  # b lapsed, no purge yet
    assert stored(engine) == 3
    assert guard.first_time("sig:e", purged + PURGE_EVERY + second)  # b goes
    assert stored(engine) == 3
