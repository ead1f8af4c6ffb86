"""Due-time arithmetic and the catch-up window, cleanup of old rows, re-check without a token."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import Session

from bot.config import load_settings
from bot.deliver.digest import run_digest
from bot.deliver.due import WEEKDAYS, iso_week, weekly_slot
from bot.deliver.picks import default_rechecker
from bot.schedule.jobs import cleanup_job
from bot.store.models import Delivery, Issue
from tests.deliver.conftest import (
    MONDAY_9_UTC,
    members_at,
    seed_issues,
    seed_members,
    simple_recommend,
)

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kathmandu"]


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
    st.sampled_from(WEEKDAYS),
    st.integers(0, 23),
    st.integers(0, 59),
    st.sampled_from(ZONES),
)
def test_slot_is_in_the_members_local_week_on_their_day(now, day, hour, minute, zone):
    tz = ZoneInfo(zone)
    slot = weekly_slot(now, day, f"{hour:02d}:{minute:02d}", zone)
    local = slot.at.astimezone(tz)
    assert local.strftime("%a").lower() == day
    assert slot.week == iso_week(now.astimezone(tz).date())
    wanted = datetime.combine(local.date(), time(hour, minute))
    exists = wanted.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wanted
    if exists:  # the member's wall time, exactly
        assert (local.hour, local.minute) == (hour, minute)
    else:  # inside a spring-forward gap: right after it
        assert slot.at == wanted.replace(tzinfo=tz).astimezone(UTC)


def test_missed_slot_is_caught_up_within_the_window_only(engine, slack, sender):
    settings = load_settings(digest={"workspace_rate_per_s": 1000, "catch_up_hours": 72})
    seed_issues(engine)
    seed_members(engine, members_at(1))
    # bot down all Monday to Friday: too late for this week
    friday = MONDAY_9_UTC + timedelta(days=4)
    assert run_digest(engine, settings, sender, now=friday, recommender=simple_recommend).sent == 0
    # down until Wednesday morning: still sent
    wednesday = MONDAY_9_UTC + timedelta(days=2)
    report = run_digest(engine, settings, sender, now=wednesday, recommender=simple_recommend)
    assert report.sent == 1


def test_cleanup_expires_rows_never_sent_in_their_window(engine):
    (member,) = seed_members(engine, members_at(1))
    with Session(engine) as session:
        session.add(
            Delivery(
                member_id=member,
                week="2026-W40",
                state="pending",
                dedupe_key="dm:1:2026-W40",
                created_at=MONDAY_9_UTC - timedelta(weeks=8),
            )
        )
        session.add(
            Delivery(
                member_id=member,
                week="2026-W48",
                state="pending",
                dedupe_key="dm:1:2026-W48",
                created_at=MONDAY_9_UTC,
            )
        )
        session.commit()  # fmt: skip
    assert cleanup_job(engine, now=MONDAY_9_UTC + timedelta(hours=1)) == 1
    with Session(engine) as session:
        states = dict(session.execute(select(Delivery.week, Delivery.state)).all())
    assert states == {"2026-W40": "expired", "2026-W48": "pending"}


def test_recheck_without_a_github_token_keeps_stored_data(engine):
    seed_issues(engine, count=2)
    with Session(engine) as session:
        issues = list(session.scalars(select(Issue)))
    default_rechecker(engine, load_settings(), issues, MONDAY_9_UTC)  # must not try the network
