"""Issue 19 in Slack over real HTTP against the fake Slack: `/matchmaker celebrate`, the
contribution history in App Home, and the measured-quality block of `/matchmaker stats`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from bot.fakes.slack import signing as s
from bot.store.db import session_scope
from bot.store.models import CelebratePrefs, Member, MergedPR, Pick, Repository
from tests.slack.slack_seed import seed_world

HOSTILE = "Fix <!channel> & <@U999> *bold*"


def _text(reply: dict) -> str:
    return str(reply.get("text", "")) + str(reply.get("blocks", ""))


def test_celebrate_is_off_by_default_and_turns_on_and_off(slack, engine):
    assert "are *off*" in _text(slack.reply("celebrate"))
    on = _text(slack.reply("celebrate on"))
    assert "are on" in on and "Link your GitHub login first" in on
    with Session(engine) as session:
        assert session.exec(select(CelebratePrefs.enabled)).all() == [True]
    assert "are *on*" in _text(slack.reply("celebrate"))
    assert "are off" in _text(slack.reply("celebrate off"))
    with Session(engine) as session:
        assert session.exec(select(CelebratePrefs.enabled)).all() == [False]
    assert "celebrate on|off" in _text(slack.reply("celebrate maybe"))


def test_app_home_lists_merged_prs_with_streak_picked_flag_and_escaped_titles(
    slack, engine, fake_slack
):
    seed_world(engine)
    slack.reply("stack python")
    fake_slack.wait_for("views.publish")  # the profile change is saved and shown
    now = datetime.now(UTC)  # the app reads the wall clock for App Home
    with session_scope(engine) as session:
        member = session.exec(select(Member)).one()
        member.github_login = "ada-l"
        repo = session.exec(select(Repository)).first()
        last_month = now.replace(day=1) - timedelta(days=1)  # any date: the month before
        for n, (merged_at, picked) in enumerate(((now, True), (last_month, False))):
            session.add(
                MergedPR(
                    team_id=member.team_id,
                    member_id=member.id,
                    repository_id=repo.id,
                    pr_node_id=f"PR_{n}",
                    number=40 + n,
                    title=HOSTILE,
                    url=f"https://github.com/{repo.full_name}/pull/{40 + n}",
                    merged_at=merged_at,
                    picked=picked,
                    seen_at=now,
                )
            )
    fake_slack.reset_calls()
    assert slack.event(s.app_home_opened_event()).status_code == 200
    view = fake_slack.wait_for("views.publish")[0].args["view"]
    text = str(view["blocks"])
    assert "Contributions" in text and "#40" in text and "#41" in text
    assert "a Matchmaker pick" in text and "your own find" in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "months in a row" in text  # this month and last month
    assert "Merge celebrations: *off*" in text and len(view["blocks"]) <= 100


def test_stats_show_the_quality_block_for_this_workspace(slack, engine, monkeypatch):
    from bot.slack import handlers

    monkeypatch.setattr(handlers, "is_admin", lambda *a, **k: True)
    issues = seed_world(engine)
    slack.reply("stack python")
    with session_scope(engine) as session:
        member = session.exec(select(Member)).one()
        member.github_login = "ada-l"
        session.add(Pick(member_id=member.id, issue_id=issues[0], created_at=datetime.now(UTC)))
    shown = _text(slack.reply("stats"))
    assert "Quality (this workspace, per ISO week)" in shown
    assert "1 picks" in shown and "hit@3" in shown and "0 holds" in shown
