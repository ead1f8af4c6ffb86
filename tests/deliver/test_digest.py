"""Digest runs against a real database and the fake Slack: exactly once, across crashes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.deliver.digest import run_digest
from bot.fakes.slack import FakeSlack
from bot.store.db import make_engine
from bot.store.models import Delivery, Feedback, Issue, Member, Pick
from tests.deliver.conftest import (
    MONDAY_9_UTC,
    ledger_counts,
    make_sender,
    members_at,
    seed_issues,
    seed_members,
    simple_recommend,
)


class Crash(Exception):
    """Stands for the process dying at a given point."""


def crash_at(step: str, occurrence: int = 1):
    seen = {"n": 0}

    def hook(name: str) -> None:
        if name == step:
            seen["n"] += 1
            if seen["n"] == occurrence:
                raise Crash(step)

    return hook


def run(engine, settings, sender, now=MONDAY_9_UTC, **kwargs):
    kwargs.setdefault("recommender", simple_recommend)
    return run_digest(engine, settings, sender, now=now, **kwargs)


def test_each_due_member_gets_one_dm_with_their_picks(engine, settings, slack, sender):
    seed_issues(engine)
    seed_members(engine, members_at(5))
    report = run(engine, settings, sender)
    assert report.sent == 5 and report.created == 5
    posts = slack.posts()
    assert sorted(p["channel"] for p in posts) == [f"D{i:05d}" for i in range(1, 6)]
    # attacker-controlled titles are escaped, buttons carry issue ids
    text = str(posts[0]["blocks"])
    assert "&lt;thing&gt;" in text and "<thing>" not in text
    assert "pick_interested" in text
    with Session(engine) as session:
        rows = session.scalars(select(Delivery)).all()
        assert {r.state for r in rows} == {"sent"} and all(r.slack_ts for r in rows)
        assert {r.week for r in rows} == {"2026-W48"}
        assert len(session.scalars(select(Pick)).all()) == 15
    # the next tick the same week sends nothing
    again = run(engine, settings, sender, now=MONDAY_9_UTC + timedelta(minutes=5))
    assert again.sent == 0 and len(slack.posts()) == 5


def test_not_due_before_local_time_or_when_off(engine, settings, slack, sender):
    seed_issues(engine)
    seed_members(
        engine,
        [
            {"slack_user_id": "ULATER", "digest_time": "10:00"},
            {"slack_user_id": "UOFF", "digest_enabled": False},
            {"slack_user_id": "UTUE", "digest_day": "tue"},
        ],
    )
    assert run(engine, settings, sender).sent == 0
    assert run(engine, settings, sender, now=MONDAY_9_UTC + timedelta(hours=1)).sent == 1
    assert run(engine, settings, sender, now=MONDAY_9_UTC + timedelta(days=1)).sent == 1
    assert sorted(slack.posts_by_channel()) == ["DLATER", "DTUE"]


@pytest.mark.parametrize(
    ("step", "occurrence"),
    [
        ("selected", 1),
        ("computed", 1),
        ("ledger", 1),
        ("claimed", 3),  # claimed, not yet posted
        ("posted", 3),  # posted on Slack, not yet marked sent
        ("marked", 3),
    ],
)
def test_crash_after_any_step_then_restart_sends_exactly_once(
    engine, settings: Settings, slack: FakeSlack, step, occurrence
):
    settings.digest.send_concurrency = 1
    seed_issues(engine)
    seed_members(engine, members_at(6))
    with pytest.raises(Crash):
        run(engine, settings, make_sender(slack), on_step=crash_at(step, occurrence))
    # a new process, on a later tick after the claim lease ran out
    later = MONDAY_9_UTC + timedelta(seconds=settings.digest.claim_lease_seconds + 60)
    report = run(engine, settings, make_sender(slack), now=later)
    assert slack.posts_by_channel() == {f"D{i:05d}": 1 for i in range(1, 7)}
    assert ledger_counts(engine) == {"sent": 6}
    if step == "posted":
        assert report.recovered == 1  # found on Slack by its metadata, not posted again


def test_claimed_row_is_left_alone_until_its_lease_expires(engine, settings, slack):
    settings.digest.send_concurrency = 1
    seed_issues(engine)
    seed_members(engine, members_at(2))
    with pytest.raises(Crash):
        run(engine, settings, make_sender(slack), on_step=crash_at("claimed", 1))
    # another run right away must not touch the row another process may still be sending
    soon = run(engine, settings, make_sender(slack), now=MONDAY_9_UTC + timedelta(seconds=30))
    assert soon.sent == 1 and len(slack.posts()) == 1
    later = MONDAY_9_UTC + timedelta(seconds=settings.digest.claim_lease_seconds + 1)
    assert run(engine, settings, make_sender(slack), now=later).sent == 1
    assert len(slack.posts()) == 2


def test_two_runs_at_once_send_one_digest_per_member(db_url, settings, slack):
    engines = [make_engine(db_url), make_engine(db_url)]
    seed_issues(engines[0])
    seed_members(engines[0], members_at(12))
    errors: list[BaseException] = []

    def replica(engine: Engine) -> None:
        try:
            run(engine, settings, make_sender(slack))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=replica, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for e in engines:
        e.dispose()
    assert not errors
    assert slack.posts_by_channel() == {f"D{i:05d}": 1 for i in range(1, 13)}


def test_unreachable_members_are_recorded_and_skipped(engine, settings, slack, sender):
    seed_issues(engine)
    seed_members(engine, members_at(4))
    slack.missing_users.add("U00002")
    slack.fail_next("chat.postMessage", "cannot_dm_bot")
    report = run(engine, settings, sender)
    assert report.sent == 2 and report.skipped == 2
    assert report.errors == {"user_not_found": 1, "cannot_dm_bot": 1}
    with Session(engine) as session:
        skipped = session.scalars(select(Delivery).where(Delivery.state == "skipped")).all()
        assert {d.error for d in skipped} == {"user_not_found", "cannot_dm_bot"}
    # skipped rows are final: the next tick does not retry them
    assert run(engine, settings, sender, now=MONDAY_9_UTC + timedelta(minutes=5)).sent == 0


def test_429_storm_delivers_everyone_once(engine, settings):
    slack = FakeSlack(workspace_rate_per_s=8)
    slack.start()
    try:
        seed_issues(engine)
        seed_members(engine, members_at(10))
        slack.rate_limit_next("chat.postMessage", retry_after=1, times=2)
        slack.rate_limit_next("conversations.open", retry_after=1, times=1)
        sender = make_sender(slack, rate=1000.0)  # far above what the workspace allows
        report = run(engine, settings, sender)
        assert report.sent == 10
        assert slack.posts_by_channel() == {f"D{i:05d}": 1 for i in range(1, 11)}
        assert sender.rate_limit_handler.rate_limited >= 3
        assert len([c for c in slack.calls if c.status == 429]) >= 3
    finally:
        slack.stop()


def test_rate_limit_retries_exhausted_leave_rows_for_the_next_tick(engine, settings, slack):
    seed_issues(engine)
    seed_members(engine, members_at(1))
    sender = make_sender(slack)
    sender.rate_limit_handler.max_retry_count = 0
    sender.pacer.per_channel_interval = 0  # keep the test fast (one DM channel, three tries)
    slack.rate_limit_next("chat.postMessage", retry_after=0, times=3)
    first = run(engine, settings, sender)
    assert first.sent == 0 and first.pending == 1
    second = run(engine, settings, sender, now=MONDAY_9_UTC + timedelta(minutes=5))
    assert second.sent == 1 and len(slack.posts()) == 1


def test_stale_pick_that_was_taken_is_replaced_before_sending(engine, settings, slack, sender):
    seed_issues(engine, crawled_at=MONDAY_9_UTC - timedelta(hours=10))
    seed_members(engine, members_at(1))
    rechecked: list[int] = []

    def rechecker(engine_, settings_, issues, now_):
        rechecked.extend(i.id for i in issues)
        with Session(engine_) as session:  # GitHub says: the first pick got an assignee
            first = session.get(Issue, min(i.id for i in issues))
            first.assignees = ["someone"]
            for issue in session.scalars(select(Issue)):
                issue.crawled_at = MONDAY_9_UTC
            session.commit()

    report = run(engine, settings, sender, rechecker=rechecker)
    assert report.sent == 1 and report.substituted == 1 and len(rechecked) == 3
    with Session(engine) as session:
        picks = session.scalars(select(Pick).order_by(Pick.rank)).all()
        withdrawn = [p for p in picks if p.state == "withdrawn"]
        shown = [p for p in picks if p.state == "shown"]
        assert len(withdrawn) == 1 and len(shown) == 3
        taken_url = session.get(Issue, withdrawn[0].issue_id).url
    blocks = str(slack.posts()[0]["blocks"])
    assert taken_url not in blocks


def test_fresh_picks_are_not_rechecked(engine, settings, slack, sender):
    seed_issues(engine, crawled_at=MONDAY_9_UTC - timedelta(hours=1))
    seed_members(engine, members_at(1))
    calls: list[object] = []
    run(engine, settings, sender, rechecker=lambda *a: calls.append(a))
    assert calls == []


def _sent_digest(session: Session, member_id: int, week: str, sent_at: datetime) -> None:
    session.add(
        Delivery(
            member_id=member_id,
            week=week,
            kind="dm",
            state="sent",
            sent_at=sent_at,
            dedupe_key=f"dm:{member_id}:{week}",
            slack_ts="1.1",
        )
    )


def test_ignored_digests_back_off_and_a_click_brings_weekly_back(engine, settings, slack, sender):
    seed_issues(engine)
    joined = MONDAY_9_UTC - timedelta(weeks=5)
    ignorer, clicker = seed_members(
        engine,
        [
            {"slack_user_id": "UIGN", "updated_at": joined},
            {"slack_user_id": "UCLK", "updated_at": joined},
        ],
    )
    with Session(engine) as session:
        for member_id in (ignorer, clicker):
            for n, week in enumerate(["2026-W45", "2026-W46", "2026-W47"]):
                _sent_digest(session, member_id, week, MONDAY_9_UTC - timedelta(weeks=3 - n))
        session.add(
            Feedback(
                member_id=clicker,
                issue_id=1,
                kind="interested",
                created_at=MONDAY_9_UTC - timedelta(days=2),
            )
        )
        session.commit()
    run(engine, settings, sender)
    assert slack.posts_by_channel() == {"DCLK": 1}  # three ignored in a row: every two weeks
    with Session(engine) as session:
        ign = session.get(Member, ignorer)
        assert (ign.ignored_digests, ign.digest_every_weeks) == (3, 2)
        assert session.get(Member, clicker).digest_every_weeks == 1
    # the week after, the ignorer is due again
    run(engine, settings, sender, now=MONDAY_9_UTC + timedelta(weeks=1))
    assert slack.posts_by_channel()["DIGN"] == 1


def test_changing_their_schedule_counts_as_engagement(engine, settings, slack, sender):
    seed_issues(engine)
    yesterday = MONDAY_9_UTC - timedelta(days=1)
    (member,) = seed_members(engine, [{"slack_user_id": "UBACK", "updated_at": yesterday}])
    with Session(engine) as session:  # three ignored digests, then "digest weekly" yesterday
        for n, week in enumerate(["2026-W45", "2026-W46", "2026-W47"]):
            _sent_digest(session, member, week, MONDAY_9_UTC - timedelta(weeks=3 - n))
        session.commit()
    run(engine, settings, sender)
    assert slack.posts_by_channel() == {"DBACK": 1}


def test_many_ignored_digests_mean_monthly(engine, settings, slack, sender):
    seed_issues(engine)
    joined = MONDAY_9_UTC - timedelta(weeks=20)
    (member,) = seed_members(engine, [{"slack_user_id": "UMONTH", "updated_at": joined}])
    with Session(engine) as session:
        for n in range(6):  # W36, W38, …, W46: six ignored digests (already every two weeks)
            week = f"2026-W{36 + 2 * n:02d}"
            _sent_digest(session, member, week, MONDAY_9_UTC - timedelta(weeks=12 - 2 * n))
        session.commit()
    for weeks_later in range(2):  # W48 and W49: fewer than four weeks since W46
        run(engine, settings, sender, now=MONDAY_9_UTC + timedelta(weeks=weeks_later))
    assert slack.posts() == []
    run(engine, settings, sender, now=MONDAY_9_UTC + timedelta(weeks=2))
    assert len(slack.posts()) == 1
    with Session(engine) as session:
        assert session.get(Member, member).digest_every_weeks == 4


def test_members_in_several_timezones_each_get_it_at_local_time(engine, settings, slack, sender):
    seed_issues(engine)
    zones = ["America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata", "Pacific/Auckland"]
    seed_members(
        engine, [{"slack_user_id": f"U{z.split('/')[1].upper()}", "timezone": z} for z in zones]
    )
    start = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)  # Sunday 00:00 UTC
    first_seen: dict[str, datetime] = {}
    for tick in range(0, 48 * 60, 30):
        now = start + timedelta(minutes=tick)
        run(engine, settings, sender, now=now)
        for channel in slack.posts_by_channel():
            first_seen.setdefault(channel, now)
    assert len(slack.posts()) == 4
    expected = {  # Monday 09:00 local
        "DLOS_ANGELES": datetime(2026, 11, 23, 17, 0, tzinfo=UTC),
        "DBERLIN": datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
        "DKOLKATA": datetime(2026, 11, 23, 3, 30, tzinfo=UTC),
        "DAUCKLAND": datetime(2026, 11, 22, 20, 0, tzinfo=UTC),
    }
    assert first_seen == expected


@pytest.mark.parametrize(
    ("timezone", "day", "hhmm", "expected"),
    [
        # first Monday after US clocks fell back (Nov 1 2026): 09:00 EST = 14:00 UTC, not 13:00
        ("America/New_York", "mon", "09:00", datetime(2026, 11, 2, 14, 0, tzinfo=UTC)),
        # first Monday after EU clocks fell back (Oct 25 2026): 09:00 CET = 08:00 UTC
        ("Europe/Berlin", "mon", "09:00", datetime(2026, 10, 26, 8, 0, tzinfo=UTC)),
        # the night clocks fall back: 01:30 happens twice; sent the first time (EDT)
        ("America/New_York", "sun", "01:30", datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
        # spring forward (Mar 28 2027): 02:30 does not exist; sent right after the gap
        ("Europe/Berlin", "sun", "02:30", datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
        # southern hemisphere, clocks went forward Oct 4 2026: 09:00 AEDT = 22:00 UTC Sunday
        ("Australia/Sydney", "mon", "09:00", datetime(2026, 10, 4, 22, 0, tzinfo=UTC)),
    ],
)
def test_dst_week_digest_arrives_at_local_time(
    engine, settings, slack, sender, timezone, day, hhmm, expected
):
    seed_issues(engine)
    seed_members(
        engine,
        [{"slack_user_id": "UDST", "timezone": timezone, "digest_day": day, "digest_time": hhmm}],
    )
    assert run(engine, settings, sender, now=expected - timedelta(minutes=1)).sent == 0
    assert run(engine, settings, sender, now=expected).sent == 1
    assert run(engine, settings, sender, now=expected + timedelta(hours=1)).sent == 0
    assert len(slack.posts()) == 1


def test_channel_post_prefers_issues_nobody_got_by_dm(engine, settings, slack, sender):
    settings.digest.channel = "C0COMMUNITY"
    settings.digest.channel_picks = 3
    seed_issues(engine, count=12)
    seed_members(engine, members_at(2))
    run(engine, settings, sender)  # DMs at 09:00
    report = run(engine, settings, sender, now=MONDAY_9_UTC + timedelta(hours=1))
    assert report.sent == 1
    channel_posts = [p for p in slack.posts() if p["channel"] == "C0COMMUNITY"]
    assert len(channel_posts) == 1
    with Session(engine) as session:
        dm_urls = {session.get(Issue, p.issue_id).url for p in session.scalars(select(Pick)).all()}
        row = session.scalars(select(Delivery).where(Delivery.kind == "channel")).one()
        posted = {session.get(Issue, c["issue_id"]).url for c in row.content}
    assert len(posted) == 3 and not posted & dm_urls
    run(engine, settings, sender, now=MONDAY_9_UTC + timedelta(hours=2))
    assert len([p for p in slack.posts() if p["channel"] == "C0COMMUNITY"]) == 1


def test_force_sends_now_to_everyone_once(engine, settings, slack, sender):
    seed_issues(engine)
    seed_members(engine, members_at(2, digest_day="fri"))
    assert run(engine, settings, sender).sent == 0
    assert run(engine, settings, sender, force=True).sent == 2
    assert run(engine, settings, sender, force=True).sent == 0


def test_stop_finishes_the_message_in_flight_and_leaves_the_rest_pending(
    engine, settings, slack, sender
):
    settings.digest.send_concurrency = 1
    seed_issues(engine)
    seed_members(engine, members_at(5))
    stop = threading.Event()

    def hook(name: str) -> None:
        if name == "posted" and not stop.is_set():
            stop.set()  # SIGTERM arrives while the first message is being sent

    report = run(engine, settings, sender, stop=stop, on_step=hook)
    assert report.sent == 1 and report.pending == 4
    assert ledger_counts(engine) == {"sent": 1, "pending": 4}


def test_stop_between_claim_and_post_gives_the_row_back_unsent(engine, settings, slack, sender):
    """Issue 16, finding 5: a replica that loses its lease after claiming does not post."""
    settings.digest.send_concurrency = 1
    seed_issues(engine)
    seed_members(engine, members_at(3))
    stop = threading.Event()

    def hook(name: str) -> None:
        if name == "claimed":
            stop.set()  # the leader lease ran out while this message was being prepared

    report = run(engine, settings, sender, stop=stop, on_step=hook)
    assert report.sent == 0 and report.pending == 3 and slack.posts() == []
    with Session(engine) as session:
        assert [d.attempts for d in session.scalars(select(Delivery))] == [0, 0, 0]
    assert run(engine, settings, sender, now=MONDAY_9_UTC + timedelta(minutes=5)).sent == 3


def test_next_weeks_digest_reuses_the_dm_channel_without_conversations_open(
    engine, settings, slack, sender
):
    seed_issues(engine)
    seed_members(engine, members_at(3))
    run(engine, settings, sender)
    assert len(slack.calls_for("conversations.open")) == 3
    fresh_process = make_sender(slack)
    run(engine, settings, fresh_process, now=MONDAY_9_UTC + timedelta(weeks=1))
    assert len(slack.calls_for("conversations.open")) == 3
    assert len(slack.posts()) == 6
