"""Claim holds through Slack over real HTTP against the fake Slack: Interested holds the issue
(the card says until when), another member is told it was just taken and stops getting it, the
card's Not for me releases it, `/matchmaker release` and its bad input, the nudge's Keep and
Release buttons, App Home and status list the holds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config.settings import Settings
from bot.deliver import holds
from bot.fakes.slack import FakeSlack
from bot.fakes.slack import signing as s
from bot.fakes.slack.client import SlackLike, start_app
from bot.store.models import Hold, Issue
from tests.slack.slack_seed import add_member, seed_world
from tests.slack.test_buttons_and_home import _dm_with_picks


@pytest.fixture
def slack(http_settings: Settings, engine: Engine, fake_slack: FakeSlack) -> Iterator[SlackLike]:
    """The app without a GitHub re-check (the stored state decides)."""
    server, slack_like = start_app(http_settings, engine, fake_slack, issue_checker=None)
    yield slack_like
    slack_like.close()
    server.stop()


def _holds(engine: Engine) -> list[Hold]:
    with Session(engine) as session:
        return list(session.exec(select(Hold).order_by(Hold.id)).all())


def _value_in(reply: dict, issue_id: int) -> bool:
    return f"'value': '{issue_id}'" in str(reply.get("blocks", []))


def _interested_in_dm(engine, fake_slack, slack, member_id, issue_ids, target):  # type: ignore[no-untyped-def]
    channel, ts, blocks = _dm_with_picks(engine, fake_slack, member_id, issue_ids)
    payload = s.block_action_payload(
        "pick_interested",
        str(target),
        channel_id=channel,
        message_ts=ts,
        message_blocks=blocks,
        block_id=f"pick:{target}:actions",
    )
    assert slack.click(payload).status_code == 200
    return channel, ts, fake_slack.wait_for("chat.update")[-1].args["blocks"]


def test_interested_holds_it_and_the_rest_of_the_workspace_stops_getting_it(
    slack, engine, fake_slack
):
    ids = seed_world(engine, repos=1, issues_per_repo=1)
    member_id = add_member(engine, languages={"python": 1.0}, timezone="Europe/Berlin")
    _, _, blocks = _interested_in_dm(engine, fake_slack, slack, member_id, ids, ids[0])
    text = str(blocks)
    assert "Held for you until <!date^" in text and "{date_short_pretty} at {time}|" in text
    assert "CET" in text or "CEST" in text  # the fallback in the member's timezone
    (hold,) = _holds(engine)
    assert hold.member_id == member_id and hold.team_id == "T0001"
    # another member of the workspace: not offered, and told it was just taken on a stale card
    slack.reply("stack python", user_id="U0002")
    assert not _value_in(slack.reply("picks 3", user_id="U0002"), ids[0])
    before = len(fake_slack.calls_for("response_url"))
    late = s.block_action_payload(
        "pick_interested",
        str(ids[0]),
        user_id="U0002",
        is_ephemeral=True,
        response_url=fake_slack.response_url("late"),
        block_id=f"pick:{ids[0]}:actions",
    )
    slack.click(late)
    answer = fake_slack.wait_for("response_url", before + 1)[before].args
    assert "Someone in the community just took this one" in str(answer)
    assert len(_holds(engine)) == 1
    # the holder sees it held in App Home and status
    published = len(fake_slack.calls_for("views.publish"))
    slack.event(s.app_home_opened_event())
    calls = fake_slack.wait_for("views.publish", published + 1)[published:]
    view = next(c.args["view"] for c in calls if c.args.get("user_id") == "U0001")
    assert "Held for you" in str(view["blocks"]) and "/matchmaker release" in str(view["blocks"])
    status = slack.reply("status")
    assert "Held for you:" in str(status)


def test_the_cards_not_for_me_releases_the_hold(slack, engine, fake_slack):
    ids = seed_world(engine, repos=1, issues_per_repo=1)
    member_id = add_member(engine, languages={"python": 1.0})
    channel, ts, blocks = _interested_in_dm(engine, fake_slack, slack, member_id, ids, ids[0])
    held_block = next(b for b in blocks if b.get("block_id", "").startswith(f"pick:{ids[0]}:act"))
    assert held_block["accessory"]["action_id"] == "pick_not_for_me"
    release = s.block_action_payload(
        "pick_not_for_me",
        str(ids[0]),
        channel_id=channel,
        message_ts=ts,
        message_blocks=blocks,
        block_id=held_block["block_id"],
    )
    slack.click(release)
    updated = fake_slack.wait_for("chat.update", 2)[-1].args["blocks"]
    assert "Not for you" in str(updated) and "Held for you" not in str(updated)
    (hold,) = _holds(engine)
    assert hold.release_reason == "not_for_me"
    slack.reply("stack python", user_id="U0002")
    assert _value_in(slack.reply("picks 3", user_id="U0002"), ids[0])  # offered again


def test_release_command_all_one_and_bad_input(slack, engine, fake_slack, http_settings):
    ids = seed_world(engine, repos=2, issues_per_repo=1)
    member_id = add_member(engine, languages={"python": 1.0})
    now = datetime.now(UTC)
    for issue_id in ids:
        holds.place_hold(engine, http_settings, member_id, issue_id, now, None)
    with Session(engine) as session:
        first = session.get(Issue, ids[0])
        assert first is not None
        ref = first.url.split("github.com/")[1].replace("/issues/", "#")
    assert "Name the issue as" in str(slack.reply("release etcd"))
    assert "`/matchmaker release" in str(slack.reply("release etcd"))
    assert "I don't know" in str(slack.reply("release nobody/nothing#5"))
    assert f"Released {ref}" in str(slack.reply(f"release {ref}"))
    assert "You don't hold" in str(slack.reply(f"release {ref}"))
    fake_slack.wait_for("views.publish", 3)  # after each `release` command so far
    assert "Released 1 issue" in str(slack.reply("release"))
    home = fake_slack.wait_for("views.publish", 4)[3].args  # App Home refreshed
    assert home["user_id"] == "U0001" and "Held for you" not in str(home["view"])
    assert "You hold no issues" in str(slack.reply("release"))
    assert {h.release_reason for h in _holds(engine)} == {"released"}
    assert "You hold no issues" in str(slack.reply("release", user_id="U0999"))


def test_the_nudges_keep_and_release_buttons(slack, engine, fake_slack, http_settings):
    ids = seed_world(engine, repos=2, issues_per_repo=1)
    member_id = add_member(engine, languages={"python": 1.0})
    settings = http_settings
    start = datetime.now(UTC) - timedelta(days=4)  # past halfway
    for issue_id in ids:
        holds.place_hold(engine, settings, member_id, issue_id, start, None)
    first, second = _holds(engine)

    def press(action_id: str, hold_id: int) -> str:
        before = len(fake_slack.calls_for("response_url"))
        payload = s.block_action_payload(
            action_id, str(hold_id), response_url=fake_slack.response_url(action_id)
        )
        assert slack.click(payload).status_code == 200
        return str(fake_slack.wait_for("response_url", before + 1)[before].args)

    assert "Kept" in press("hold_keep", first.id)
    assert "already been kept" in press("hold_keep", first.id)
    assert "Released" in press("hold_release", second.id)
    assert "ended already" in press("hold_release", second.id)
    kept, released = _holds(engine)
    assert kept.keeps == 1 and kept.expires_at > datetime.now(UTC) + timedelta(days=6)
    assert released.release_reason == "released"
    # someone else pressing the owner's button changes nothing
    before = len(fake_slack.calls_for("response_url"))
    stranger = s.block_action_payload(
        "hold_release", str(kept.id), user_id="U0002", response_url=fake_slack.response_url("x")
    )
    slack.click(stranger)
    assert "ended already" in str(fake_slack.wait_for("response_url", before + 1)[before].args)
    assert _holds(engine)[0].released_at is None


def test_the_nudge_escapes_the_issue_title(engine, http_settings):
    from bot.schedule.jobs import holds_job
    from bot.store.models import PeopleMessage
    from tests.people.people_world import Outbox

    (issue_id,) = seed_world(engine, repos=1, issues_per_repo=1, hostile=True)
    member_id = add_member(engine, languages={"python": 1.0})
    start = datetime.now(UTC) - timedelta(days=4)
    holds.place_hold(engine, http_settings, member_id, issue_id, start, None)
    outbox = Outbox()
    holds_job(engine, http_settings, outbox.sender, outbox.open_group, now=datetime.now(UTC))
    with Session(engine) as session:
        (message,) = session.exec(select(PeopleMessage)).all()
    shown = str(message.blocks)
    assert message.target == "U0001" and message.state == "sent"
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown
    assert "<@U999>" not in shown and "Still on" in shown
