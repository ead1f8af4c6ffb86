"""Operators run global commands, workspace admins see their own workspace only, one crawl runs
at a time, and a click on a shared channel post is answered to the clicker alone."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from slack_sdk import WebClient
from sqlmodel import Session

from bot.fakes.slack import BOT_TOKEN
from bot.fakes.slack.client import start_app
from bot.schedule.crawl_lock import CrawlRunning, exclusive_crawl
from bot.slack.actions import stored_picks
from bot.slack.blocks import pick_blocks
from bot.store.models import CrawlRun, Member, Pick
from tests.slack.slack_seed import add_member, seed_world


def test_workspace_admins_see_only_their_workspace_and_operators_see_all(
    http_settings, engine, fake_slack
):
    with Session(engine) as session:
        session.add_all([Member(team_id="T0OTHER", slack_user_id=f"UO{i}") for i in range(5)])
        session.commit()
    add_member(engine, user_id="ULOCAL", team_id=fake_slack.team_id)
    fake_slack.add_user("UADMIN", is_admin=True)
    settings = http_settings.model_copy(update={"operators": [f"{fake_slack.team_id}:UOPS"]})
    server, client = start_app(settings, engine, fake_slack)
    try:
        admin = str(client.reply("stats", user_id="UADMIN")["blocks"])
        assert "Members (this workspace):* 1" in admin  # none of T0OTHER's
        operator = str(client.reply("stats", user_id="UOPS")["blocks"])
        assert "Members (all workspaces):* 6" in operator
        assert "No list crawled yet" in client.reply("lists", user_id="UOPS")["text"]
    finally:
        client.close()
        server.stop()


def test_a_second_crawl_request_says_since_when_one_runs(http_settings, engine, fake_slack):
    started = datetime(2026, 5, 4, 3, 2, tzinfo=UTC)
    release = threading.Event()
    ran = []

    def slow_crawler(engine, settings):
        ran.append(1)
        release.wait(10)
        return "done"

    with Session(engine) as session:
        session.add(CrawlRun(started_at=started, status="running"))
        session.commit()
    settings = http_settings.model_copy(update={"operators": ["UOPS"]})
    server, client = start_app(settings, engine, fake_slack, crawler=slow_crawler)
    try:
        for _ in range(3):
            client.reply("crawl now", user_id="UOPS")
        busy = fake_slack.wait_for("response_url", 5)
        texts = [call.args["text"] for call in busy]
        assert sum("already running since 2026-05-04 03:02 UTC" in t for t in texts) == 2
        release.set()
        fake_slack.wait_for("response_url", 6)
        assert ran == [1]
    finally:
        release.set()
        client.close()
        server.stop()


def test_the_crawl_lock_is_exclusive_and_released(engine):
    with exclusive_crawl(engine):
        try:
            with exclusive_crawl(engine):
                raise AssertionError("a second crawl got the lock")
        except CrawlRunning as busy:
            assert busy.since is None
    with exclusive_crawl(engine):
        pass


def test_a_click_on_a_channel_post_is_answered_only_to_the_clicker(slack, engine, fake_slack):
    ids = seed_world(engine)[:1]
    member_id = add_member(engine, user_id="U0002")
    with Session(engine) as session:
        session.add(Pick(member_id=member_id, issue_id=ids[0], rank=1, source="channel"))
        session.commit()
        cards, _ = stored_picks(session, member_id, ids, now=datetime.now(UTC))
    blocks = pick_blocks(cards, header="This week's picks")
    web = WebClient(token=BOT_TOKEN, base_url=fake_slack.base_url)
    posted = web.chat_postMessage(channel="C0SHARED", text="picks", blocks=blocks)
    payload = slack.block_action(
        "pick_not_for_me", ids[0], user_id="U0002", channel_id="C0SHARED", message=posted["message"]
    )
    before = len(fake_slack.calls_for("response_url"))
    assert slack.click(payload).status_code == 200
    reply = fake_slack.wait_for("response_url", before + 1)[before].args
    assert reply["response_type"] == "ephemeral" and reply.get("replace_original") is False
    assert fake_slack.calls_for("chat.update") == []


def test_a_demoted_admin_loses_admin_rights_within_a_minute(fake_slack, monkeypatch):
    from bot.slack import admin

    clock = {"now": 1000.0}
    monkeypatch.setattr(admin.time, "monotonic", lambda: clock["now"])
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.base_url)
    fake_slack.add_user("UDEMOTED", is_admin=True)
    assert admin.is_admin(client, "UDEMOTED", team_id="T1")
    fake_slack.add_user("UDEMOTED", is_admin=False)
    clock["now"] += 59
    assert admin.is_admin(client, "UDEMOTED", team_id="T1")  # cached answer, < 60 s old
    clock["now"] += 2
    assert not admin.is_admin(client, "UDEMOTED", team_id="T1")
