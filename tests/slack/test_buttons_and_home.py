"""Pick-card buttons, App Home and the profile modal over real HTTP against the fake Slack."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from bot.fakes.slack import signing as s
from bot.slack.actions import stored_picks
from bot.slack.blocks import pick_blocks
from bot.store.models import Feedback, Member, Pick, TakenReport
from tests.slack.slack_seed import add_member, seed_world


def _dm_with_picks(engine, fake_slack, member_id, issue_ids):
    """Post a picks DM through the fake Slack, as the digest does; returns (channel, ts, blocks)."""
    from slack_sdk import WebClient

    from bot.fakes.slack import BOT_TOKEN

    with Session(engine) as session:
        for rank, issue_id in enumerate(issue_ids, 1):
            session.add(Pick(member_id=member_id, issue_id=issue_id, rank=rank, source="digest"))
        session.commit()
        cards, _ = stored_picks(session, member_id, issue_ids, now=datetime.now(UTC))
    blocks = pick_blocks(cards, header="Your weekly picks")
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.base_url)
    channel = client.conversations_open(users="U0001")["channel"]["id"]
    posted = client.chat_postMessage(channel=channel, text="3 picks", blocks=blocks)
    return channel, posted["ts"], blocks


def _state(engine, issue_id):
    with Session(engine) as session:
        pick = session.exec(select(Pick).where(Pick.issue_id == issue_id)).one()
        kinds = [
            f.kind for f in session.exec(select(Feedback).where(Feedback.issue_id == issue_id))
        ]
        return pick.state, kinds


def test_interested_records_feedback_and_updates_the_dm_in_place(slack, engine, fake_slack):
    ids = seed_world(engine)[:3]
    member_id = add_member(engine)
    channel, ts, blocks = _dm_with_picks(engine, fake_slack, member_id, ids)
    payload = s.block_action_payload(
        "pick_interested",
        str(ids[1]),
        channel_id=channel,
        message_ts=ts,
        message_blocks=blocks,
        block_id=f"pick:{ids[1]}:actions",
    )
    assert slack.click(payload).status_code == 200
    update = fake_slack.wait_for("chat.update")[0]
    assert update.args["ts"] == ts and update.args["channel"] == channel
    assert "You're interested" in str(update.args["blocks"])
    assert "Held for you until <!date^" in str(update.args["blocks"])  # GitHub unreachable here
    # the other cards keep their buttons; the held one has "Not for me" to release it
    assert str(update.args["blocks"]).count("pick_not_for_me") == 3
    assert str(update.args["blocks"]).count("pick_interested") == 2
    assert _state(engine, ids[1]) == ("interested", ["interested"])


def test_not_for_me_twice_stores_one_feedback(slack, engine, fake_slack):
    ids = seed_world(engine)[:2]
    member_id = add_member(engine)
    channel, ts, blocks = _dm_with_picks(engine, fake_slack, member_id, ids)
    for _ in range(2):  # two clicks: two payloads (each has its own trigger id and action_ts)
        slack.click(
            s.block_action_payload(
                "pick_not_for_me",
                str(ids[0]),
                channel_id=channel,
                message_ts=ts,
                message_blocks=blocks,
            )
        )
    fake_slack.wait_for("chat.update", 2)
    assert _state(engine, ids[0]) == ("not_for_me", ["not_for_me"])


def _shown(reply: dict) -> str:
    return str(reply.get("blocks", []))


def test_already_taken_hides_the_issue_from_the_reporter_then_the_workspace(
    slack, engine, fake_slack
):
    (issue_id,) = seed_world(engine, repos=1, issues_per_repo=1)
    member_id = add_member(engine, languages={"python": 1.0})
    channel, ts, blocks = _dm_with_picks(engine, fake_slack, member_id, [issue_id])
    payload = s.block_action_payload(
        "pick_taken", str(issue_id), channel_id=channel, message_ts=ts, message_blocks=blocks
    )
    slack.click(payload)
    update = fake_slack.wait_for("chat.update")[0]
    assert "Marked as already taken" in str(update.args["blocks"])
    with Session(engine) as session:
        (report,) = session.exec(select(TakenReport)).all()
        assert (report.member_id, report.issue_id, report.team_id) == (member_id, issue_id, "T0001")
    assert _state(engine, issue_id) == ("taken", ["already_taken"])
    # GitHub could not confirm it (unreachable here): one report hides it from the reporter only
    assert f"'value': '{issue_id}'" not in _shown(slack.reply("picks 3", user_id="U0001"))
    slack.reply("stack python", user_id="U0002")
    assert f"'value': '{issue_id}'" in _shown(slack.reply("picks 3", user_id="U0002"))
    # a second member of the workspace reports it: now nobody there gets it
    second = s.block_action_payload(
        "pick_taken",
        str(issue_id),
        user_id="U0003",
        is_ephemeral=True,
        response_url=fake_slack.response_url("second"),
    )
    slack.click(second)
    fake_slack.wait_for("response_url")
    slack.reply("stack python", user_id="U0004")
    assert f"'value': '{issue_id}'" not in _shown(slack.reply("picks 3", user_id="U0004"))


def test_click_on_ephemeral_picks_rerenders_the_whole_message(slack, engine, fake_slack):
    seed_world(engine)
    reply = slack.reply("picks 3")
    actions = [b for b in reply["blocks"] if b["type"] == "actions"]
    assert len(actions) == 3
    first = actions[0]
    issue_id = first["elements"][0]["value"]
    payload = s.block_action_payload(
        "pick_interested",
        issue_id,
        is_ephemeral=True,
        block_id=first["block_id"],
        response_url=fake_slack.response_url("click"),
    )
    before = len(fake_slack.calls_for("response_url"))
    slack.click(payload)
    update = fake_slack.wait_for("response_url", before + 1)[before].args
    assert update["replace_original"] is True
    assert "You're interested" in str(update["blocks"])
    assert str(update["blocks"]).count("pick_interested") == 2  # the other two still clickable


def test_click_on_unknown_issue_changes_nothing(slack, engine, fake_slack):
    payload = s.block_action_payload(
        "pick_interested", "999999", is_ephemeral=True, response_url=fake_slack.response_url()
    )
    assert slack.click(payload).status_code == 200
    fake_slack.wait_for("response_url")
    with Session(engine) as session:
        assert session.exec(select(Feedback)).all() == []


def test_app_home_opened_publishes_profile_picks_and_history(slack, engine, fake_slack):
    seed_world(engine, hostile=True)
    slack.reply("stack python, raft")
    slack.reply("picks 3")
    fake_slack.wait_for("views.publish", 2)  # after each command
    fake_slack.reset_calls()
    assert slack.event(s.app_home_opened_event()).status_code == 200
    view = fake_slack.wait_for("views.publish")[0].args["view"]
    text = str(view["blocks"])
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    assert "Python" in text and "Current picks" in text and "History" in text
    assert "home_edit_profile" in text and "pick_interested" in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert fake_slack.home_views["U0001"]["blocks"] == view["blocks"]


def test_click_in_app_home_republishes_it(slack, engine, fake_slack):
    ids = seed_world(engine)[:1]
    member_id = add_member(engine)
    with Session(engine) as session:
        session.add(Pick(member_id=member_id, issue_id=ids[0]))
        session.commit()
    payload = s.block_action_payload(
        "pick_not_for_me", str(ids[0]), view={"id": "VHOME", "type": "home"}
    )
    slack.click(payload)
    view = fake_slack.wait_for("views.publish")[0].args["view"]
    assert "not for me" in str(view["blocks"])
    assert _state(engine, ids[0])[0] == "not_for_me"


def test_edit_profile_opens_a_modal_and_saves_it(slack, engine, fake_slack):
    payload = s.block_action_payload(
        "home_edit_profile", "edit", view={"id": "VHOME", "type": "home"}
    )
    slack.click(payload)
    modal = fake_slack.wait_for("views.open")[0].args["view"]
    assert modal["callback_id"] == "profile_modal"

    def values(stack, level="some", github="", day="tue", time="18:30", tz="Europe/Berlin"):
        return {
            "stack": {"value": {"type": "plain_text_input", "value": stack}},
            "level": {"value": {"type": "static_select", "selected_option": {"value": level}}},
            "github": {"value": {"type": "plain_text_input", "value": github}},
            "digest_day": {"value": {"type": "static_select", "selected_option": {"value": day}}},
            "digest_time": {"value": {"type": "timepicker", "selected_time": time}},
            "timezone": {"value": {"type": "plain_text_input", "value": tz}},
        }

    bad = slack.click(s.view_submission_payload("profile_modal", values("zzz", github="-x-")))
    assert bad.status_code == 200
    assert set(bad.json()["errors"]) == {"stack", "github"}
    with Session(engine) as session:
        assert session.exec(select(Member)).all() == []
    good = slack.click(
        s.view_submission_payload("profile_modal", values("go, etcd", github="octo"))
    )
    assert good.status_code == 200 and not good.text
    with Session(engine) as session:
        stored = session.exec(select(Member)).one()
    assert "go" in stored.languages
    assert (stored.level, stored.github_login, stored.digest_day, stored.digest_time) == (
        "some",
        "octo",
        "tue",
        "18:30",
    )
    assert stored.timezone == "Europe/Berlin"
    fake_slack.wait_for("views.publish")


def test_get_picks_now_in_app_home_shows_new_picks_there(slack, engine, fake_slack):
    seed_world(engine)
    slack.reply("stack python, raft")
    fake_slack.wait_for("views.publish")  # after the command
    fake_slack.reset_calls()
    payload = s.block_action_payload(
        "home_get_picks", "picks", view={"id": "VHOME", "type": "home"}
    )
    slack.click(payload)
    view = fake_slack.wait_for("views.publish")[0].args["view"]
    assert "pick_interested" in str(view["blocks"])
    with Session(engine) as session:
        assert {p.source for p in session.exec(select(Pick))} == {"on_demand"}
