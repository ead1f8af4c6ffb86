"""Every `/matchmaker` sub-command over real HTTP against the app and the fake Slack."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.fakes.github import FakeGitHub, World
from bot.fakes.slack import FakeSlack
from bot.fakes.slack.client import start_app
from bot.store.models import Issue, Member, Pick
from tests.slack.slack_seed import add_member, seed_world


def member(engine, user_id: str = "U0001") -> Member | None:
    with Session(engine) as session:
        return session.exec(select(Member).where(Member.slack_user_id == user_id)).first()


def test_help_and_empty_text_answer_in_the_ack(slack):
    for text in ("", "help"):
        reply = slack.reply(text)
        assert reply["response_type"] == "ephemeral"
        assert "/matchmaker picks" in str(reply["blocks"])


def test_typo_suggests_the_closest_subcommand(slack, engine):
    reply = slack.reply("pics 3")
    assert "Did you mean `picks`?" in str(reply)
    assert member(engine) is None


def test_unknown_word_is_escaped_in_the_reply(slack):
    reply = slack.reply("<!channel>")
    assert "<!channel>" not in str(reply)
    assert "&lt;!channel&gt;" in str(reply)


def test_stack_set_with_synonyms_and_show(slack, engine):
    reply = slack.reply("stack Python, pg, k8s, databases, frobnicate")
    assert reply["response_type"] == "ephemeral"
    assert "PostgreSQL" in reply["text"] and "Kubernetes" in reply["text"]
    assert "frobnicate" in reply["text"]  # told it wasn't recognised
    stored = member(engine)
    assert stored is not None
    assert "python" in stored.languages
    assert {"postgresql", "kubernetes", "databases"} <= set(stored.topics)
    assert "PostgreSQL" in slack.reply("stack")["text"]


def test_stack_with_nothing_known_writes_nothing(slack, engine):
    reply = slack.reply("stack frobnicate, quux")
    assert "didn't recognise" in reply["text"]
    assert member(engine) is None


def test_level_good_and_bad(slack, engine, fake_slack):
    fake_slack.add_user("U0001", tz="America/Chicago")
    assert "some" in slack.reply("level some")["text"]
    assert member(engine).level == "some"
    assert member(engine).timezone == "America/Chicago"  # from Slack, for the digest
    bad = slack.reply("level wizard")
    assert "first-timer, some, experienced" in bad["text"]
    assert member(engine).level == "some"
    assert "some" in slack.reply("level")["text"]


def test_github_link_unlink_and_bad_login(http_settings, engine, fake_slack):
    world = World()
    world.add_repo("octo-cat/tools", languages={"Python": 1_000})
    with FakeGitHub(world) as github:
        settings = http_settings.model_copy(update={"github_api_url": github.base_url})
        server, slack = start_app(settings, engine, fake_slack)
        try:
            assert "octo-cat" in slack.reply("github https://github.com/octo-cat")["text"]
            assert member(engine).github_login == "octo-cat"
            assert "isn't a GitHub login" in slack.reply("github -bad-")["text"]
            assert member(engine).github_login == "octo-cat"
            assert "octo-cat" in slack.reply("github")["text"]
            slack.reply("github off")
            assert member(engine).github_login is None
        finally:
            slack.close()
            server.stop()


def test_digest_schedule_off_and_bad(slack, engine):
    reply = slack.reply("digest weekly mon 09:00 Europe/Berlin")
    assert "Mondays at 09:00 (Europe/Berlin)" in reply["text"]
    stored = member(engine)
    assert (stored.digest_day, stored.digest_time, stored.timezone) == (
        "mon",
        "09:00",
        "Europe/Berlin",
    )
    assert "turned off" in slack.reply("digest off")["text"]
    assert member(engine).digest_enabled is False
    assert "don't understand" in slack.reply("digest weekly someday")["text"]
    assert member(engine).digest_enabled is False
    assert "off" in slack.reply("digest")["text"]


def test_picks_shows_escaped_cards_and_records_picks(slack, engine, fake_slack: FakeSlack):
    seed_world(engine, hostile=True)
    add_member(engine, languages={"python": 1.0}, topics={"raft": 1.0})
    reply = slack.reply("picks 10")
    assert reply["response_type"] == "ephemeral"
    blocks = str(reply["blocks"])
    assert "pick_interested" in blocks and "pick_taken" in blocks
    assert "<!channel>" not in blocks and "<@U999>" not in blocks
    assert "<http://evil" not in blocks
    assert "&lt;!channel&gt;" in blocks
    with Session(engine) as session:
        picks = session.exec(select(Pick)).all()
    assert 1 <= len(picks) <= 10
    assert {p.source for p in picks} == {"on_demand"}
    # later picks don't repeat what was shown
    again = slack.reply("picks 2")
    shown = {p.issue_id for p in picks}
    assert not any(f"'value': '{i}'" in str(again.get("blocks")) for i in shown)


def test_picks_bad_count_writes_nothing(slack, engine):
    assert "1 to 10" in slack.reply("picks 11")["text"]
    assert "number" in slack.reply("picks many")["text"]
    assert member(engine) is None


def test_status_lists_profile_next_digest_and_last_picks(slack, engine):
    assert "don't know you yet" in slack.reply("status")["text"]
    seed_world(engine)
    slack.reply("stack python, raft")
    slack.reply("picks 2")
    text = str(slack.reply("status")["blocks"])
    assert "Python" in text and "Next digest" in text and "github.com/org" in text


def test_forget_asks_then_deletes_everything(slack, engine, fake_slack):
    from bot.fakes.slack import signing as s

    seed_world(engine)
    slack.reply("stack python")
    slack.reply("picks 2")
    reply = slack.reply("forget")
    assert "forget_confirm" in str(reply["blocks"])
    assert member(engine) is not None  # nothing deleted before the click
    payload = s.block_action_payload(
        "forget_confirm",
        "forget",
        response_url=fake_slack.response_url("forget"),
        is_ephemeral=True,
    )
    before = len(fake_slack.calls_for("response_url"))
    assert slack.click(payload).status_code == 200
    done = fake_slack.wait_for("response_url", before + 1)[before]
    assert "deleted" in done.args["text"]
    assert member(engine) is None
    with Session(engine) as session:
        assert session.exec(select(Pick)).all() == []
        assert len(session.exec(select(Issue)).all()) == 12  # issues are not the member's data


def test_forget_cancel_keeps_data(slack, engine, fake_slack):
    from bot.fakes.slack import signing as s

    slack.reply("level some")
    payload = s.block_action_payload(
        "forget_cancel", "cancel", is_ephemeral=True, response_url=fake_slack.response_url()
    )
    before = len(fake_slack.calls_for("response_url"))
    slack.click(payload)
    assert (
        "nothing was deleted"
        in fake_slack.wait_for("response_url", before + 1)[before].args["text"]
    )
    assert member(engine) is not None


def test_admin_commands_need_an_admin(slack, engine, fake_slack):
    assert "Only workspace admins" in slack.reply("stats", user_id="UPLAIN")["text"]
    fake_slack.add_user("UADMIN", is_admin=True)
    seed_world(engine)
    stats = str(slack.reply("stats", user_id="UADMIN")["blocks"])
    assert "available issues:* 12" in stats and "Members (this workspace)" in stats
    # global operations are for the configured operators, not workspace admins
    assert "Only the bot's operators" in slack.reply("lists", user_id="UADMIN")["text"]
    assert "Only the bot's operators" in slack.reply("crawl now", user_id="UADMIN")["text"]


def test_admin_group_members_are_admins(http_settings, engine, fake_slack):
    settings = http_settings.model_copy(update={"slack_admin_group": "S0ADMINS"})
    fake_slack.usergroups["S0ADMINS"] = ["UGROUP"]
    server, client = start_app(settings, engine, fake_slack)
    try:
        assert "Members (this workspace):" in str(client.reply("stats", user_id="UGROUP")["blocks"])
        assert "Only workspace admins" in client.reply("stats", user_id="UOTHER")["text"]
    finally:
        client.close()
        server.stop()


def test_crawl_now_runs_the_crawler_and_reports(http_settings, engine, fake_slack):
    settings = http_settings.model_copy(update={"operators": ["UADMIN"]})
    server, client = start_app(
        settings, engine, fake_slack, crawler=lambda engine, settings: "12 issues seen"
    )
    try:
        assert "Crawl started" in client.reply("crawl now", user_id="UADMIN")["text"]
        calls = fake_slack.wait_for("response_url", 2)
        assert "Crawl finished: 12 issues seen" in calls[-1].args["text"]
        assert "crawl now" in client.reply("crawl later", user_id="UADMIN")["text"]
    finally:
        client.close()
        server.stop()


def test_a_failing_subcommand_still_answers(http_settings, engine, fake_slack):
    def broken(*args):
        raise RuntimeError("boom")

    server, client = start_app(http_settings, engine, fake_slack, recommender=broken)
    try:
        reply = client.reply("picks")
        assert reply["text"].startswith("Sorry")
        assert "boom" not in reply["text"]
    finally:
        client.close()
        server.stop()


def test_status_with_long_escaped_titles_never_cuts_inside_a_link(slack, engine):
    seed_world(engine, repos=3, issues_per_repo=4)
    with Session(engine) as session:
        for issue in session.exec(select(Issue)).all():
            issue.title = "Fix " + "<&>" * 60  # escapes to ~5x its length
            session.add(issue)
        session.commit()
    slack.reply("stack python, raft")
    slack.reply("picks 5")
    slack.reply("picks 5")
    text = slack.reply("status")["blocks"][0]["text"]["text"]
    assert len(text) <= 3000 and text.endswith("\n…")
    assert text.count("<") == text.count(">")  # every link whole
