"""The whole product, end to end, over real HTTP and a real database (SQLite and PostgreSQL):

seed list (../shared/data) → catalog → fake GitHub crawl → store → member sets a stack with
/matchmaker → weekly digest DM via the fake Slack → the member clicks "Already taken" and "Not for
me" → next week's digest changes accordingly → `/matchmaker status` shows the outcomes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.catalog.sync import sync_lists
from bot.config import Settings, load_settings
from bot.deliver.digest import run_digest
from bot.deliver.senders import SlackSender
from bot.fakes.github.server import FakeGitHub
from bot.fakes.github.world import demo_world
from bot.fakes.slack import BOT_TOKEN, FakeSlack
from bot.fakes.slack.client import start_app
from bot.github.crawl import crawl
from bot.store.models import Issue, Member, Pick, Repository, TakenReport
from tests.conftest import shared_data

SIGNING_SECRET = "pipeline-signing-secret"
TEAM = "T0001"
USER = "U0PIPE"


@pytest.fixture
def world_servers() -> Iterator[tuple[FakeGitHub, FakeSlack]]:
    world = demo_world(seed=7)
    with FakeGitHub(world) as github:
        slack = FakeSlack(team_id=TEAM)
        slack.start()
        try:
            yield github, slack
        finally:
            slack.stop()


def _settings(github: FakeGitHub, slack: FakeSlack) -> Settings:
    seed_list = shared_data("awesome-distributed-system-projects", "README.md")
    return load_settings(
        github_api_url=github.base_url,
        github_token="pipeline-github-token",
        slack_mode="http",
        slack_signing_secret=SIGNING_SECRET,
        slack_bot_token=BOT_TOKEN,
        slack_api_url=slack.base_url,
        catalog={"lists": [str(seed_list)]},
        digest={"picks": 3, "workspace_rate_per_s": 1000.0},
    )


def _digest_dms(slack: FakeSlack) -> list[dict[str, Any]]:
    """Messages the fake Slack holds (with their channel and ts), oldest first."""
    return [
        {**message, "channel": channel}
        for (channel, _ts), message in sorted(slack.messages.items(), key=lambda kv: kv[0][1])
    ]


def _issue_ids(message: dict[str, Any]) -> list[int]:
    blocks = message["blocks"]
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return [
        int(element["value"])
        for block in blocks
        if block.get("type") == "actions"
        for element in block["elements"]
        if element.get("action_id") == "pick_interested"
    ]


def _wait_for_recheck(engine: Engine) -> None:
    """The click's GitHub re-check runs after the card update: wait (≤ 10 s) until it is stored."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with Session(engine) as session:
            if session.exec(select(TakenReport).where(TakenReport.checked_at != None)).first():  # noqa: E711
                return
        time.sleep(0.05)


def test_catalog_to_digest_to_feedback_to_next_digest(
    engine: Engine, world_servers: tuple[FakeGitHub, FakeSlack]
) -> None:
    github, slack = world_servers
    settings = _settings(github, slack)
    now = github.world.now

    # catalog: the real seed list from ../shared/data
    (report,) = sync_lists(engine, settings)
    assert report.ok, report.error
    assert report.counts["repositories"] == 135

    # crawl: the fake GitHub's world for those 135 repositories
    crawled = crawl(engine, settings, now=now)
    assert crawled.repos_failed == 0
    assert crawled.issues_available > 50
    with Session(engine) as session:
        assert len(session.exec(select(Repository)).all()) == 135

    # the Slack app's listeners read this clock (the world's), not the machine's
    clock = [now]
    server, member_slack = start_app(
        settings, engine, slack, SIGNING_SECRET, clock=lambda: clock[0]
    )
    try:
        # the member tells the bot their stack and level over /matchmaker
        assert "Saved" in str(member_slack.reply("stack python, postgres", user_id=USER))
        member_slack.reply("level first-timer", user_id=USER)

        # week 1 digest
        sender = SlackSender(BOT_TOKEN, base_url=slack.base_url, rate_per_s=1000.0)
        first = run_digest(engine, settings, sender, now=now, force=True, members=[USER])
        assert first.sent == 1
        (dm,) = _digest_dms(slack)
        week1 = _issue_ids(dm)
        assert len(week1) == 3

        # clicks: "Already taken" on the first pick, "Not for me" on the second
        for action, issue_id in (("pick_taken", week1[0]), ("pick_not_for_me", week1[1])):
            payload = member_slack.block_action(
                action, issue_id, user_id=USER, channel_id=dm["channel"], message=dm
            )
            assert member_slack.click(payload).status_code == 200
        slack.wait_for("chat.update", 2)
        _wait_for_recheck(engine)
        with Session(engine) as session:
            member = session.exec(select(Member).where(Member.slack_user_id == USER)).one()
            (report,) = session.exec(select(TakenReport)).all()
            assert (report.member_id, report.issue_id, report.team_id) == (
                member.id,
                week1[0],
                TEAM,
            )
            assert report.reported_at == now
            assert report.github_reason is not None  # re-checked on (the fake) GitHub at once
            states = {
                p.issue_id: p.state
                for p in session.exec(select(Pick).where(Pick.member_id == member.id)).all()
            }
            rejected_repo = session.get(Issue, week1[1]).repository_id  # type: ignore[union-attr]
        assert states[week1[0]] == "taken"
        assert states[week1[1]] == "not_for_me"

        # week 2 digest: none of last week's issues again, not the rejected repository
        clock[0] = now + timedelta(days=7)
        second = run_digest(
            engine, settings, sender, now=now + timedelta(days=7), force=True, members=[USER]
        )
        assert second.sent == 1
        week2 = _issue_ids(_digest_dms(slack)[-1])
        assert week2
        assert not set(week2) & set(week1)
        with Session(engine) as session:
            week2_repos = {session.get(Issue, i).repository_id for i in week2}  # type: ignore[union-attr]
        assert rejected_repo not in week2_repos

        # /matchmaker status shows the outcomes of the clicks
        status = json.dumps(member_slack.reply("status", user_id=USER))
        assert "already taken" in status
        assert "not for me" in status
        # the reporter never gets the issue reported as taken, not even on demand
        mine = member_slack.reply("picks 10", user_id=USER)
        assert mine.get("blocks") and f'"value": "{week1[0]}"' not in json.dumps(mine["blocks"])
    finally:
        member_slack.close()
        server.stop()
