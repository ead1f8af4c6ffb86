"""Multi-workspace OAuth install: the installation lands in our database, each workspace's
requests use its own bot token and its members stay apart."""

from __future__ import annotations

import re

import httpx
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Installation
from sqlmodel import Session, select

from bot.config.settings import load_settings
from bot.fakes.slack import SIGNING_SECRET
from bot.fakes.slack.client import SlackLike
from bot.slack.app import build_app
from bot.slack.http import SlackHTTPServer
from bot.slack.install_store import SqlInstallationStore, SqlOAuthStateStore
from bot.slack.token_box import TokenBox
from bot.store.models import Member, SlackInstallation

KEY = "x5mN3l0lG7m3iW0VbB9m0n4eJ8k2qXc1tV6yHk9aP2E="
BOX = TokenBox(KEY)


def test_install_store_saves_finds_replaces_and_deletes(engine):
    store = SqlInstallationStore(engine, BOX)
    assert store.find_bot(enterprise_id=None, team_id="T9") is None
    for token in ("xoxb-old", "xoxb-new"):
        store.save(
            Installation(
                app_id="A1",
                team_id="T9",
                team_name="Nine",
                bot_token=token,
                bot_id="B1",
                bot_user_id="UB",
                bot_scopes=["commands"],
                user_id="UI",
            )
        )
    bot = store.find_bot(enterprise_id=None, team_id="T9")
    assert bot is not None and bot.bot_token == "xoxb-new"
    with Session(engine) as session:
        assert len(session.exec(select(SlackInstallation)).all()) == 1
    store.delete_installation(enterprise_id=None, team_id="T9")
    assert store.find_installation(enterprise_id=None, team_id="T9") is None


def test_oauth_state_is_single_use(engine):
    states = SqlOAuthStateStore(engine)
    state = states.issue()
    assert states.consume(state) is True
    assert states.consume(state) is False
    assert states.consume("never-issued") is False


def test_oauth_install_then_commands_per_workspace(engine, fake_slack):
    settings = load_settings(
        slack_mode="http",
        slack_signing_secret=SIGNING_SECRET,
        slack_client_id="111.222",
        slack_client_secret="client-secret",
        slack_api_url=fake_slack.base_url,
        secret_key=KEY,
    )
    app = build_app(settings, engine, WebClient(base_url=fake_slack.base_url))
    server = SlackHTTPServer(app, engine, SIGNING_SECRET, port=0)
    events_url = server.start()
    base = server.url
    token = fake_slack.add_oauth_code("code-1", team_id="T0TWO", team_name="Second")
    try:
        with httpx.Client() as http:
            page = http.get(f"{base}/slack/install")
            assert page.status_code == 200
            state = re.search(r"state=([\w\-]+)", page.text).group(1)
            # the state cookie is `Secure`; a browser sends it back over https
            done = http.get(
                f"{base}/slack/oauth_redirect",
                params={"code": "code-1", "state": state},
                headers={"Cookie": f"slack-app-oauth-state={state}"},
            )
            assert done.status_code == 200, done.text
        with Session(engine) as session:
            row = session.exec(select(SlackInstallation)).one()
        assert row.team_id == "T0TWO"
        assert token not in (row.bot_token or "") and token not in str(row.data)  # encrypted

        slack = SlackLike(events_url, fake_slack, SIGNING_SECRET)
        assert "some" in slack.reply("level some", team_id="T0TWO", user_id="U1")["text"]
        publish = fake_slack.wait_for("views.publish")[0]
        assert publish.token == token  # the workspace's own bot token
        # a workspace without an installation gets nothing done
        slack.command("level experienced", team_id="T0NONE", user_id="U1")
        with Session(engine) as session:
            members = session.exec(select(Member)).all()
        assert [(m.team_id, m.slack_user_id, m.level) for m in members] == [("T0TWO", "U1", "some")]
        slack.close()
    finally:
        server.stop()
