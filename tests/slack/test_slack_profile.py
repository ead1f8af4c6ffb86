"""Next-digest times and schedule descriptions."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.slack.profile import describe_schedule, next_digest
from bot.store.models import Member


def _member(**fields) -> Member:
    return Member(slack_user_id="U1", **fields)


def test_next_digest_is_the_coming_weekday_in_the_members_timezone():
    member = _member(digest_day="mon", digest_time="09:00", timezone="Europe/Berlin")
    # Monday 2026-11-23 07:59 UTC = 08:59 in Berlin: today's digest is still ahead
    soon = next_digest(member, datetime(2026, 11, 23, 7, 59, tzinfo=UTC))
    assert soon is not None and soon.isoformat() == "2026-11-23T09:00:00+01:00"
    # one minute after 09:00 Berlin: next week
    later = next_digest(member, datetime(2026, 11, 23, 8, 1, tzinfo=UTC))
    assert later is not None and later.isoformat() == "2026-11-30T09:00:00+01:00"


def test_next_digest_across_daylight_saving_change():
    member = _member(digest_day="mon", digest_time="09:00", timezone="Europe/Berlin")
    after_dst = next_digest(member, datetime(2027, 3, 25, 12, 0, tzinfo=UTC))
    assert after_dst is not None and after_dst.isoformat() == "2027-03-29T09:00:00+02:00"


def test_digest_off_has_no_next_time():
    member = _member(digest_enabled=False)
    assert next_digest(member, datetime(2026, 11, 23, tzinfo=UTC)) is None
    assert describe_schedule(member) == "off"
    assert describe_schedule(_member(digest_day="fri", digest_time="17:30", timezone="UTC")) == (
        "Fridays at 17:30 (UTC)"
    )


def test_next_digest_respects_the_back_off_cadence_like_the_digest_job():
    member = _member(
        digest_day="mon", digest_time="09:00", timezone="Europe/Berlin", digest_every_weeks=2
    )
    tuesday = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    # last digest sent in 2026-W48 (Monday 23 Nov): every 2 weeks skips 30 Nov
    upcoming = next_digest(member, tuesday, last_sent_week="2026-W48")
    assert upcoming is not None and upcoming.isoformat() == "2026-12-07T09:00:00+01:00"
    member.digest_every_weeks = 4
    upcoming = next_digest(member, tuesday, last_sent_week="2026-W48")
    assert upcoming is not None and upcoming.isoformat() == "2026-12-21T09:00:00+01:00"
    # never sent: the coming Monday
    upcoming = next_digest(member, tuesday)
    assert upcoming is not None and upcoming.isoformat() == "2026-11-30T09:00:00+01:00"
