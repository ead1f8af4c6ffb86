"""Issue 16, finding 2: a slot missed across the end of the member's local week is caught up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import Session

from bot.deliver.due import WEEKDAYS, due_slot, iso_week
from bot.store.models import Delivery
from tests.deliver.conftest import members_at, seed_issues, seed_members
from tests.deliver.test_digest import run

CATCH_UP = timedelta(hours=72)
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kathmandu"]


def local(zone: str, *args: int) -> datetime:
    """An aware UTC instant from a wall time in `zone`."""
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.mark.parametrize("zone", ZONES)
def test_sunday_slot_missed_by_46_hours_is_sent_on_tuesday(engine, settings, slack, sender, zone):
    seed_issues(engine)
    seed_members(engine, members_at(3, digest_day="sun", digest_time="20:00", timezone=zone))
    # Sunday 2026-11-29 20:00 local is week W48; the bot was down until Tuesday 18:42 local.
    now = local(zone, 2026, 12, 1, 18, 42)
    report = run(engine, settings, sender, now=now)
    assert report.sent == 3 and report.weeks == ["2026-W48"]
    with Session(engine) as session:
        assert set(session.scalars(select(Delivery.week))) == {"2026-W48"}
    # ... and this week's own Sunday slot still gets this week's digest, once
    sunday = local(zone, 2026, 12, 6, 20, 5)
    assert run(engine, settings, sender, now=sunday).sent == 3
    assert run(engine, settings, sender, now=sunday + timedelta(minutes=5)).sent == 0


@pytest.mark.parametrize("zone", ZONES)
def test_sunday_2359_is_sent_by_the_first_tick_after_midnight(
    engine, settings, slack, sender, zone
):
    seed_issues(engine)
    seed_members(engine, members_at(2, digest_day="sun", digest_time="23:59", timezone=zone))
    before = local(zone, 2026, 11, 29, 23, 55)  # the 5-minute tick before the slot
    assert run(engine, settings, sender, now=before).sent == 0
    after = local(zone, 2026, 11, 30, 0, 0)  # the next tick is already in W49
    report = run(engine, settings, sender, now=after)
    assert report.sent == 2 and report.weeks == ["2026-W48"]


def test_saturday_slot_missed_over_the_weekend_is_sent_monday(engine, settings, slack, sender):
    seed_issues(engine)
    seed_members(engine, members_at(2, digest_day="sat", digest_time="09:00", timezone="UTC"))
    assert run(engine, settings, sender, now=datetime(2026, 11, 30, 8, 0, tzinfo=UTC)).sent == 2


def test_older_than_the_catch_up_window_is_not_sent(engine, settings, slack, sender):
    seed_issues(engine)
    seed_members(engine, members_at(1, digest_day="sat", digest_time="09:00", timezone="UTC"))
    # Saturday 09:00 + 72 h = Tuesday 09:00: a minute later that week is given up
    assert run(engine, settings, sender, now=datetime(2026, 12, 1, 9, 1, tzinfo=UTC)).sent == 0


def test_last_weeks_slot_is_not_sent_twice(engine, settings, slack, sender):
    seed_issues(engine)
    seed_members(engine, members_at(1, digest_day="sun", digest_time="20:00", timezone="UTC"))
    assert run(engine, settings, sender, now=datetime(2026, 11, 29, 20, 0, tzinfo=UTC)).sent == 1
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert run(engine, settings, sender, now=monday).sent == 0


def test_backoff_cadence_still_applies_to_a_caught_up_week(engine, settings, slack, sender):
    seed_issues(engine)
    seed_members(
        engine,
        members_at(
            1,
            digest_day="sun",
            digest_time="20:00",
            timezone="UTC",
            updated_at=datetime(2026, 11, 1, tzinfo=UTC),
        ),
    )
    with Session(engine) as session:  # three ignored weekly digests: every 2 weeks now
        for week, day in (("2026-W45", 8), ("2026-W46", 15), ("2026-W47", 22)):
            sent_at = datetime(2026, 11, day, 20, 0, tzinfo=UTC)
            session.add(
                Delivery(
                    member_id=1,
                    week=week,
                    kind="dm",
                    state="sent",
                    sent_at=sent_at,
                    created_at=sent_at,
                    dedupe_key=f"dm:1:{week}",
                )
            )
        session.commit()
    # W48's Sunday slot missed; catching it up on Monday would break the 2-week cadence
    assert run(engine, settings, sender, now=datetime(2026, 11, 30, 9, 0, tzinfo=UTC)).sent == 0


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
    st.sampled_from(WEEKDAYS),
    st.integers(0, 23),
    st.integers(0, 59),
    st.sampled_from(ZONES),
)
def test_due_slot_is_the_newest_passed_slot_within_the_window(now, day, hour, minute, zone):
    hhmm = f"{hour:02d}:{minute:02d}"
    slot = due_slot(now, day, hhmm, zone, CATCH_UP)
    if slot is None:  # then no slot of this or last week is within the window
        for offset in (0, 7):
            earlier = due_slot(now - timedelta(days=offset), day, hhmm, zone, timedelta(days=9))
            assert earlier is None or not earlier.at <= now < earlier.at + CATCH_UP
        return
    assert slot.at <= now < slot.at + CATCH_UP
    this_week = iso_week(now.astimezone(ZoneInfo(zone)).date())
    last_week = iso_week(now.astimezone(ZoneInfo(zone)).date() - timedelta(days=7))
    assert slot.week in (this_week, last_week)
    assert slot.at.astimezone(ZoneInfo(zone)).strftime("%a").lower() == day
