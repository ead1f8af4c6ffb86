"""The scheduler's people job: fixed id, UTC cron, replace_existing; `now` passed in."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.config import load_settings
from bot.deliver.senders import ConsoleSender
from bot.people import prefs
from bot.schedule.jobs import people_job
from bot.schedule.scheduler import PEOPLE_JOB, Jobs, build_scheduler
from bot.store.db import session_scope
from bot.store.models import Intro, Member
from tests.people.people_world import NOW, interested, member
from tests.slack.slack_seed import seed_world


def test_the_people_job_runs_daily_in_utc_under_a_fixed_id():
    settings = load_settings(timezone="America/New_York", people={"job_hour": 10})
    noop = lambda: None  # noqa: E731
    scheduler = build_scheduler(settings, Jobs(noop, noop, noop, people=noop))
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job(PEOPLE_JOB)
        after = datetime(2026, 3, 8, 0, 0, tzinfo=ZoneInfo("America/New_York"))  # DST starts
        fire = job.trigger.get_next_fire_time(None, after)
        assert fire.astimezone(UTC) == datetime(2026, 3, 8, 10, 15, tzinfo=UTC)
        scheduler.add_job(noop, "interval", minutes=1, id=PEOPLE_JOB, replace_existing=True)
        assert [j.id for j in scheduler.get_jobs()].count(PEOPLE_JOB) == 1
    finally:
        scheduler.shutdown(wait=False)


def test_without_a_people_job_nothing_is_scheduled_for_it():
    noop = lambda: None  # noqa: E731
    scheduler = build_scheduler(load_settings(), Jobs(noop, noop, noop))
    assert scheduler.get_job(PEOPLE_JOB) is None


def test_people_job_pairs_and_delivers_at_the_time_it_is_given(engine):
    settings = load_settings()
    issues = seed_world(engine, repos=1)
    ids = [member(engine, user) for user in ("UAAA0001", "UBBB0001")]
    for member_id in ids:
        with session_scope(engine) as session:
            prefs.set_buddies(session, session.get(Member, member_id), True, NOW)
        interested(engine, member_id, issues[0])
    out = io.StringIO()
    sender = ConsoleSender(out)
    report = people_job(engine, settings, sender, now=NOW)
    assert report.sent == 1 and "you both looked at" in out.getvalue()
    with session_scope(engine) as session:
        [intro] = session.exec(select(Intro)).all()
    assert intro.created_at == NOW and intro.opened_at == NOW
    assert people_job(engine, settings, sender, now=NOW + timedelta(days=7)).sent == 2
