"""People features over real HTTP against the fake Slack: commands, the mentor offer after an
Interested click, the group DM on yes, follow-up buttons, #intros, and stats."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from bot.fakes.slack import signing as s
from bot.store.models import IntroSide, Member, NoPair, PeopleMessage, PeoplePrefs, Pick
from tests.slack.slack_seed import seed_world


def _text(reply: dict) -> str:
    return str(reply.get("text", "")) + str(reply.get("blocks", ""))


def _posts_to(fake_slack, channel_prefix: str) -> list[dict]:
    return [
        call.args
        for call in fake_slack.calls_for("chat.postMessage", ok_only=True)
        if str(call.args.get("channel", "")).startswith(channel_prefix)
    ]


def _click(slack, action_id: str, value: str, user_id: str) -> None:
    payload = s.block_action_payload(
        action_id,
        value,
        user_id=user_id,
        team_id=slack.team_id,
        response_url=slack.fake.response_url("click"),
    )
    assert slack.click(payload).status_code == 200


def test_everything_is_off_until_said_and_commands_answer(slack, engine):
    shown = _text(slack.reply("mentor", user_id="UADA0001"))
    assert "*Mentor:* off" in shown and "*Buddies:* off" in shown
    assert "Everything is off until you turn it on" in shown
    assert "mentor for `etcd-io/etcd`" in _text(
        slack.reply("mentor on https://github.com/etcd-io/etcd", user_id="UADA0001")
    )
    assert "Buddies on" in _text(slack.reply("buddies on", user_id="UADA0001"))
    assert "never introduce you to <@UBOB0001>" in _text(
        slack.reply("nopair <@UBOB0001|bob>", user_id="UADA0001")
    )
    assert "Mention the member with @" in _text(slack.reply("nopair @bob", user_id="UADA0001"))
    assert "isn't a repository" in _text(slack.reply("mentor on a/b/c", user_id="UADA0001"))
    assert "Paused" in _text(slack.reply("mentor pause", user_id="UADA0001"))
    shown = _text(slack.reply("buddies", user_id="UADA0001"))
    assert "*Mentor:* paused for `etcd-io/etcd`" in shown and "<@UBOB0001>" in shown
    with Session(engine) as session:
        row = session.exec(select(PeoplePrefs)).one()
        assert row.mentor and row.mentor_paused and row.buddies
        assert [n.other_user_id for n in session.exec(select(NoPair))] == ["UBOB0001"]
    assert "removed" in _text(slack.reply("nopair remove <@UBOB0001>", user_id="UADA0001")).lower()
    assert "no longer a mentor" in _text(slack.reply("mentor off", user_id="UADA0001"))


def test_help_lists_the_people_commands(slack):
    shown = _text(slack.reply("help"))
    for word in ("mentor on", "buddies on|off", "intros on|off", "nopair @member"):
        assert word in shown


def test_interested_offers_a_mentor_and_yes_opens_the_group_dm(slack, engine, fake_slack):
    ids = seed_world(engine, repos=1)
    slack.reply("mentor on org0/db0", user_id="UMENTOR01")
    slack.reply("stack python, raft", user_id="UMENTEE01")
    with Session(engine) as session:
        mentee = session.exec(select(Member).where(Member.slack_user_id == "UMENTEE01")).one()
        session.add(Pick(member_id=mentee.id, issue_id=ids[0], rank=1, source="digest"))
        session.commit()
    payload = s.block_action_payload(
        "pick_interested",
        str(ids[0]),
        user_id="UMENTEE01",
        team_id=slack.team_id,
        response_url=fake_slack.response_url("click"),
        block_id=f"pick:{ids[0]}:actions",
    )
    slack.click(payload)
    fake_slack.wait_for("chat.postMessage", 1)
    offer = fake_slack.calls_for("chat.postMessage")[-1].args
    assert "Want an intro to <@UMENTOR01>" in json.dumps(offer["blocks"])
    with Session(engine) as session:
        intro_id = session.exec(select(PeopleMessage.intro_id)).one()
    slack.click(payload)  # a second Interested click offers nothing more
    _click(slack, "people_offer_yes", str(intro_id), "UMENTEE01")
    opened = fake_slack.wait_for("conversations.open", 2)
    assert any(c.args.get("users") == "UMENTEE01,UMENTOR01" for c in opened)
    fake_slack.wait_for("chat.postMessage", 2)
    group = fake_slack.calls_for("chat.postMessage")[-1].args
    body = json.dumps(group["blocks"])
    assert "meet <@UMENTOR01>" in body and "first question" in body
    assert len(fake_slack.calls_for("chat.postMessage")) == 2
    with Session(engine) as session:
        sides = session.exec(select(IntroSide)).all()
    assert len(sides) == 2


def test_follow_up_buttons_record_the_answer_for_the_clicker_only(slack, engine, fake_slack):
    from datetime import UTC, datetime

    from bot.store.models import Intro

    seed_world(engine, repos=1)
    slack.reply("buddies on", user_id="UAAA0001")
    slack.reply("buddies on", user_id="UBBB0001")
    with Session(engine) as session:
        a, b = session.exec(select(Member).order_by(Member.id)).all()
        intro = Intro(
            team_id=slack.team_id,
            kind="buddy",
            pair_key=f"{a.id}:{b.id}",
            member_a_id=a.id,
            member_b_id=b.id,
            state="open",
            dedupe_key="buddy:test",
            created_at=datetime.now(UTC),
        )
        session.add(intro)
        session.flush()
        side = IntroSide(team_id=slack.team_id, intro_id=intro.id, member_id=a.id)
        session.add(side)
        session.commit()
        side_id = side.id
    before = len(fake_slack.calls_for("response_url"))
    _click(slack, "people_met", str(side_id), "UBBB0001")  # not b's question
    _click(slack, "people_met", str(side_id), "UAAA0001")
    fake_slack.wait_for("response_url", before + 2)
    notes = [c.args.get("text") for c in fake_slack.calls_for("response_url")[before:]]
    assert "That message isn't open any more." in notes
    assert any("Great, thanks" in str(n) for n in notes)
    with Session(engine) as session:
        assert session.get(IntroSide, side_id).answer == "met"


def test_a_new_member_is_offered_an_intro_post_once(engine, fake_slack, http_settings):
    from bot.fakes.slack.client import start_app

    settings = http_settings.model_copy(
        update={"people": http_settings.people.model_copy(update={"intros_channel": "CINTROS"})}
    )
    server, slack = start_app(settings, engine, fake_slack)
    try:
        reply = slack.reply("stack python, postgres, distributed storage", user_id="UADA0001")
        assert "post a short intro" in _text(reply)
        assert "<@UADA0001> works with Python" in _text(reply)
        again = slack.reply("stack python, go", user_id="UADA0001")
        assert "post a short intro" not in _text(again)  # only after the first stack
        with Session(engine) as session:
            member_id = session.exec(select(Member.id)).one()
        before = len(fake_slack.calls_for("response_url"))
        _click(slack, "people_post_yes", str(member_id), "UADA0001")
        _click(slack, "people_post_yes", str(member_id), "UADA0001")
        fake_slack.wait_for("response_url", before + 2)
        fake_slack.wait_for("chat.postMessage", 1)
        posts = _posts_to(fake_slack, "CINTROS")
        assert len(posts) == 1
        assert "<@UADA0001> works with Python and Go; say hi" in json.dumps(posts[0]["blocks"])
        assert "only once" in _text(slack.reply("intros on", user_id="UADA0001"))
    finally:
        slack.close()
        server.stop()


def test_stats_show_people_figures_for_this_workspace(slack, engine, fake_slack, monkeypatch):
    from bot.slack import handlers

    monkeypatch.setattr(handlers, "is_admin", lambda *a, **k: True)
    slack.reply("mentor on org0/db0", user_id="UADA0001")
    shown = _text(slack.reply("stats", user_id="UADA0001"))
    assert "*Mentors:* 1" in shown and "*Intros made:* 0" in shown
