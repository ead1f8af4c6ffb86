"""Buddy rounds, follow-ups, pausing after ignored intros, forget, and a crash mid-intro
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from bot.core.vocabulary import IntroAnswer
from bot.deliver import intros as ledger
from bot.people import followups, prefs
from bot.people.run import run_pass
from bot.slack.profile import forget_member
from bot.store.db import session_scope
from bot.store.models import (
    Intro,
    IntroSide,
    Member,
    NoPair,
    PeopleMessage,
    PeoplePrefs,
)
from tests.people.people_world import NOW, interested, member
from tests.slack.slack_seed import seed_world

WEEK = timedelta(days=7)


def _buddy(engine, user_id, team_id="T1") -> int:
    member_id = member(engine, user_id, team_id)
    with session_scope(engine) as session:
        prefs.set_buddies(session, session.get(Member, member_id), True, NOW)
    return member_id


def _pairs(engine) -> list[tuple[str, str]]:
    with session_scope(engine) as session:
        rows = session.exec(select(Intro).where(Intro.kind == "buddy").order_by(Intro.id)).all()
        users = {m.id: m.slack_user_id for m in session.exec(select(Member)).all()}
    return [tuple(sorted((users[i.member_a_id], users[i.member_b_id]))) for i in rows]


def test_buddies_are_off_until_the_member_opts_in(engine, settings, outbox):
    issues = seed_world(engine, repos=1)
    a, b = member(engine, "UAAA"), member(engine, "UBBB")
    interested(engine, a, issues[0])
    interested(engine, b, issues[1])
    run_pass(engine, settings, NOW)
    assert _pairs(engine) == []
    with session_scope(engine) as session:
        prefs.set_buddies(session, session.get(Member, a), True, NOW)
    run_pass(engine, settings, NOW + 14 * timedelta(days=1))
    assert _pairs(engine) == []  # b never said yes


def test_same_repository_same_week_gets_a_group_intro(engine, settings, outbox):
    issues = seed_world(engine, repos=2)
    a, b, c = _buddy(engine, "UAAA"), _buddy(engine, "UBBB"), _buddy(engine, "UCCC")
    interested(engine, a, issues[0])
    interested(engine, b, issues[1])  # same repository as a
    interested(engine, c, issues[4])  # the other repository, alone there
    interested(engine, c, issues[0], at=NOW - 3 * WEEK)  # too long ago
    report = run_pass(engine, settings, NOW)
    assert report.buddy_intros == 1 and _pairs(engine) == [("UAAA", "UBBB")]
    outbox.deliver(engine, NOW)
    assert outbox.groups == [["UAAA", "UBBB"]]
    [text] = outbox.texts_to("GAAABBB")
    assert "you both looked at" in text and "org0/db0" in text


def test_topic_pairs_whoever_has_no_partner_in_a_repository(engine, settings):
    issues = seed_world(engine, repos=2)  # both repositories have the topic "raft"
    a, b = _buddy(engine, "UAAA"), _buddy(engine, "UBBB")
    interested(engine, a, issues[0])
    interested(engine, b, issues[4])
    run_pass(engine, settings, NOW)
    with session_scope(engine) as session:
        intro = session.exec(select(Intro)).one()
    assert intro.topic in ("database", "raft") and intro.repository_id is None


def test_rounds_follow_the_cadence_and_never_repeat_a_pair(engine, settings):
    issues = seed_world(engine, repos=1)
    a, b = _buddy(engine, "UAAA"), _buddy(engine, "UBBB")
    for week in range(6):
        at = NOW + week * WEEK
        interested(engine, a, issues[0], at=at)
        interested(engine, b, issues[1], at=at)
        run_pass(engine, settings, at)
    assert _pairs(engine) == [("UAAA", "UBBB")]  # once in six weeks, never again
    with session_scope(engine) as session:
        from bot.store.models import BuddyRound

        assert session.exec(select(func.count()).select_from(BuddyRound)).one() == 3
    c = _buddy(engine, "UCCC")
    at = NOW + 6 * WEEK
    for who in (a, c):
        interested(engine, who, issues[2], at=at)
    run_pass(engine, settings, at)
    assert _pairs(engine)[-1] == ("UAAA", "UCCC")


def test_a_second_pass_in_the_same_week_pairs_nobody_twice(engine, settings):
    issues = seed_world(engine, repos=1)
    a, b = _buddy(engine, "UAAA"), _buddy(engine, "UBBB")
    interested(engine, a, issues[0])
    interested(engine, b, issues[0])
    run_pass(engine, settings, NOW)
    run_pass(engine, settings, NOW + timedelta(hours=1))
    assert len(_pairs(engine)) == 1


def test_do_not_pair_is_respected_from_either_side(engine, settings):
    issues = seed_world(engine, repos=1)
    a, b = _buddy(engine, "UAAA"), _buddy(engine, "UBBB")
    with session_scope(engine) as session:
        prefs.add_nopair(session, session.get(Member, b), "UAAA", NOW)
    interested(engine, a, issues[0])
    interested(engine, b, issues[0])
    run_pass(engine, settings, NOW)
    assert _pairs(engine) == []
    c = _buddy(engine, "UCCC")
    interested(engine, c, issues[0], at=NOW + 2 * WEEK)
    interested(engine, a, issues[0], at=NOW + 2 * WEEK)
    interested(engine, b, issues[0], at=NOW + 2 * WEEK)
    run_pass(engine, settings, NOW + 2 * WEEK)
    [pair] = _pairs(engine)
    assert pair != ("UAAA", "UBBB")


def test_never_across_workspaces(engine, settings):
    issues = seed_world(engine, repos=1)
    a, b = _buddy(engine, "UAAA", "T1"), _buddy(engine, "UBBB", "T2")
    interested(engine, a, issues[0])
    interested(engine, b, issues[0])
    run_pass(engine, settings, NOW)
    assert _pairs(engine) == []
    c = _buddy(engine, "UCCC", "T2")
    interested(engine, c, issues[1], at=NOW + 2 * WEEK)
    interested(engine, b, issues[1], at=NOW + 2 * WEEK)
    run_pass(engine, settings, NOW + 2 * WEEK)
    with session_scope(engine) as session:
        [intro] = session.exec(select(Intro)).all()
    assert intro.team_id == "T2" and _pairs(engine) == [("UBBB", "UCCC")]


def _opened_pair(engine, settings, outbox):
    issues = seed_world(engine, repos=1)
    a, b = _buddy(engine, "UAAA"), _buddy(engine, "UBBB")
    interested(engine, a, issues[0])
    interested(engine, b, issues[0])
    run_pass(engine, settings, NOW)
    outbox.deliver(engine, NOW)
    return a, b, issues


def test_a_week_later_each_side_is_asked_privately_once(engine, settings, outbox):
    _opened_pair(engine, settings, outbox)
    run_pass(engine, settings, NOW + timedelta(days=6))
    outbox.deliver(engine, NOW + timedelta(days=6))
    assert outbox.texts_to("UAAA") == []
    for day in (7, 8):
        run_pass(engine, settings, NOW + timedelta(days=day))
        outbox.deliver(engine, NOW + timedelta(days=day))
    [to_a], [to_b] = outbox.texts_to("UAAA"), outbox.texts_to("UBBB")
    assert "introduced you to <@UBBB>" in to_a and "Did you meet?" in to_a
    assert "Didn't work out" in to_a and "Not yet" in to_a
    assert "introduced you to <@UAAA>" in to_b


def test_answers_feed_stats(engine, settings, outbox):
    from bot.people.stats import people_stats

    a, b, _ = _opened_pair(engine, settings, outbox)
    run_pass(engine, settings, NOW + WEEK)
    with session_scope(engine) as session:
        side = session.exec(select(IntroSide).where(IntroSide.member_id == a)).one()
        assert followups.record_answer(
            session, session.get(Member, a), side.id, IntroAnswer.MET, NOW + WEEK
        )
        assert not followups.record_answer(  # not b's follow-up
            session, session.get(Member, b), side.id, IntroAnswer.DIDNT_WORK, NOW + WEEK
        )
    with session_scope(engine) as session:
        stats = people_stats(session, "T1")
        other = people_stats(session, "T2")
    assert stats.intros == {"buddy": 1} and stats.met == 1 and stats.buddies == 2
    assert "*Intros made:* 1 (buddy: 1) · *met:* 1" in stats.lines()
    assert other.intros == {} and other.met == 0


def test_three_ignored_intros_pause_the_member_who_is_told_how_to_resume(engine, settings, outbox):
    issues = seed_world(engine, repos=1)
    quiet = _buddy(engine, "UQUIET")
    partners = [_buddy(engine, f"UP{n}") for n in range(4)]
    at = NOW
    for partner in partners[:3]:
        interested(engine, quiet, issues[0], at=at)
        interested(engine, partner, issues[0], at=at)
        run_pass(engine, settings, at)
        outbox.deliver(engine, at)
        with session_scope(engine) as session:  # the partner answers, the quiet one never
            side = session.exec(
                select(IntroSide).where(IntroSide.member_id == partner, IntroSide.answer.is_(None))
            ).first()
        at += 2 * WEEK
        run_pass(engine, settings, at - WEEK)
        outbox.deliver(engine, at - WEEK)
        if side is not None:
            with session_scope(engine) as session:
                followups.record_answer(
                    session, session.get(Member, partner), side.id, IntroAnswer.NOT_YET, at - WEEK
                )
    run_pass(engine, settings, at)
    outbox.deliver(engine, at)
    with session_scope(engine) as session:
        row = session.exec(select(PeoplePrefs).where(PeoplePrefs.member_id == quiet)).one()
        partner_row = session.exec(
            select(PeoplePrefs).where(PeoplePrefs.member_id == partners[0])
        ).one()
    assert row.paused and row.ignored_intros == 3
    assert not partner_row.paused
    notices = [t for t in outbox.texts_to("UQUIET") if "paused" in t]
    assert len(notices) == 1 and "/matchmaker buddies on" in notices[0]
    # paused: no new buddy intro even with a fresh partner
    before = len(_pairs(engine))
    interested(engine, quiet, issues[0], at=at)
    interested(engine, partners[3], issues[0], at=at)
    run_pass(engine, settings, at + 2 * WEEK - timedelta(days=1))
    assert len(_pairs(engine)) == before
    with session_scope(engine) as session:
        prefs.set_buddies(session, session.get(Member, quiet), True, at)
        row = session.exec(select(PeoplePrefs).where(PeoplePrefs.member_id == quiet)).one()
    assert not row.paused and row.ignored_intros == 0


def test_forget_removes_every_people_row_of_the_member(engine, settings, outbox):
    a, b, _ = _opened_pair(engine, settings, outbox)
    with session_scope(engine) as session:
        prefs.add_nopair(session, session.get(Member, a), "UZ", NOW)
        prefs.add_nopair(session, session.get(Member, b), "UAAA", NOW)  # b's own choice
    run_pass(engine, settings, NOW + WEEK)
    with session_scope(engine) as session:
        counts = forget_member(session, session.get(Member, a))
    assert counts["intros"] == 1 and counts["people_prefs"] == 1 and counts["no_pair"] == 1
    with session_scope(engine) as session:
        assert session.exec(select(PeoplePrefs).where(PeoplePrefs.member_id == a)).first() is None
        assert session.exec(select(Intro)).all() == []
        assert session.exec(select(IntroSide)).all() == []
        assert session.exec(select(PeopleMessage).where(PeopleMessage.member_id == a)).all() == []
        assert [n.other_user_id for n in session.exec(select(NoPair)).all()] == ["UAAA"]


def _group_message(engine) -> PeopleMessage:
    with session_scope(engine) as session:
        return session.exec(select(PeopleMessage).where(PeopleMessage.kind == "group_intro")).one()


def test_crash_after_posting_the_intro_never_posts_it_twice(engine, settings, outbox, monkeypatch):
    issues = seed_world(engine, repos=1)
    a, b = _buddy(engine, "UAAA"), _buddy(engine, "UBBB")
    interested(engine, a, issues[0])
    interested(engine, b, issues[0])
    run_pass(engine, settings, NOW)
    real_finish = ledger._finish

    def crash(*args, **kwargs):
        raise RuntimeError("killed after chat.postMessage, before the ledger was marked")

    monkeypatch.setattr(ledger, "_finish", crash)
    with pytest.raises(RuntimeError):
        outbox.deliver(engine, NOW)
    monkeypatch.setattr(ledger, "_finish", real_finish)
    assert _group_message(engine).state == "sending"
    assert outbox.deliver(engine, NOW + timedelta(minutes=1)).sent == 0  # claimed: wait
    report = outbox.deliver(engine, NOW + timedelta(minutes=11))  # lease over: look it up
    assert report.found == 1 and report.sent == 0
    assert len(outbox.texts_to("GAAABBB")) == 1
    message = _group_message(engine)
    with session_scope(engine) as session:
        intro = session.get(Intro, message.intro_id)
    assert message.state == "sent" and intro.state == "open" and intro.channel == "GAAABBB"


def test_crash_before_posting_the_intro_posts_it_once_later(engine, settings, outbox, monkeypatch):
    issues = seed_world(engine, repos=1)
    a, b = _buddy(engine, "UAAA"), _buddy(engine, "UBBB")
    interested(engine, a, issues[0])
    interested(engine, b, issues[0])
    run_pass(engine, settings, NOW)

    def crash(*args, **kwargs):
        raise RuntimeError("killed while opening the group DM")

    monkeypatch.setattr(outbox, "open_group", crash)
    with pytest.raises(RuntimeError):
        outbox.deliver(engine, NOW)
    monkeypatch.undo()
    report = outbox.deliver(engine, NOW + timedelta(minutes=11))
    assert report.sent == 1 and len(outbox.texts_to("GAAABBB")) == 1
    assert outbox.deliver(engine, NOW + timedelta(hours=1)).sent == 0


def test_enqueue_twice_with_one_key_queues_once(engine):
    member_id = member(engine, "UAAA")
    with session_scope(engine) as session:
        kwargs = dict(team_id="T1", key="k:1", kind="x", text="hi", blocks=[], now=NOW)
        assert ledger.enqueue(session, member_id=member_id, target="UAAA", **kwargs)
        assert not ledger.enqueue(session, member_id=member_id, target="UAAA", **kwargs)


def test_a_crashed_post_that_slack_cannot_verify_is_never_sent_twice(
    engine, settings, outbox, monkeypatch
):
    from bot.deliver.senders import CannotVerify

    issues = seed_world(engine, repos=1)
    a, b = _buddy(engine, "UAAA"), _buddy(engine, "UBBB")
    interested(engine, a, issues[0])
    interested(engine, b, issues[0])
    run_pass(engine, settings, NOW)

    def crash(*args, **kwargs):
        raise RuntimeError("killed during chat.postMessage")

    def unknown(*args, **kwargs):
        raise CannotVerify("missing_scope")

    monkeypatch.setattr(outbox.sender, "send", crash)
    with pytest.raises(RuntimeError):
        outbox.deliver(engine, NOW)
    monkeypatch.undo()
    monkeypatch.setattr(outbox.sender, "find_sent", unknown)
    report = outbox.deliver(engine, NOW + timedelta(minutes=11))
    assert report.failed == 1 and report.sent == 0 and outbox.texts_to("GAAABBB") == []
    assert _group_message(engine).state == "failed"
