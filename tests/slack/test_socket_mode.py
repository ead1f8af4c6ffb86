"""Socket Mode for real: the app connects to the fake Slack's websocket and answers envelopes."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.config.settings import ConfigError, load_settings
from bot.fakes.slack import APP_TOKEN, BOT_TOKEN
from bot.fakes.slack import signing as s
from bot.slack.runner import start_slack
from bot.store.models import Member


def test_socket_mode_commands_over_the_websocket(engine, fake_slack):
    settings = load_settings(
        slack_bot_token=BOT_TOKEN, slack_app_token=APP_TOKEN, slack_api_url=fake_slack.base_url
    )
    runner = start_slack(settings, engine)
    try:
        assert fake_slack.wait_for_socket()
        assert fake_slack.calls_for("apps.connections.open", ok_only=True)
        ack = fake_slack.send_envelope("slash_commands", s.slash_command_form("stak"))
        assert "Did you mean `stack`?" in str(ack["payload"])
        ack = fake_slack.send_envelope(
            "slash_commands",
            s.slash_command_form("level experienced", response_url=fake_slack.response_url()),
        )
        assert "payload" not in ack or not ack["payload"]
        reply = fake_slack.wait_for("response_url")[0]
        assert "experienced" in reply.args["text"]
        with Session(engine) as session:
            assert session.exec(select(Member)).one().level == "experienced"
        fake_slack.send_envelope("events_api", s.app_home_opened_event())
        assert fake_slack.wait_for("views.publish")
    finally:
        runner.stop()


def test_missing_tokens_are_reported_per_mode(engine):
    with pytest.raises(ConfigError) as socket_error:
        start_slack(load_settings(), engine)
    assert "SLACK_APP_TOKEN" in str(socket_error.value)
    with pytest.raises(ConfigError) as http_error:
        start_slack(load_settings(slack_mode="http"), engine)
    assert "SLACK_SIGNING_SECRET" in str(http_error.value)
