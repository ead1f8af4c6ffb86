"""Every Web API method the code calls is allowed by a scope the manifest requests, and the
fake Slack refuses a method whose scope the token lacks, as Slack does (`missing_scope`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deliver.senders import SendError, SlackSender, TokenError
from bot.fakes.slack import BOT_TOKEN, FakeSlack
from bot.fakes.slack.scopes import BY_CONVERSATION, all_methods, manifest_scopes, needed_scopes
from bot.slack.app import BOT_SCOPES

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = "chat|conversations|views|users|usergroups|auth|reactions|team|pins|files|bots|dnd"
CALL = re.compile(rf"(?:client|\))\.((?:{FAMILIES})_[A-Za-z_]+)\b")
# Conversation types the code calls conversation-typed methods on: history on DMs (digest
# recovery) and on the community channel (public or private); info on the channel (doctor).
USED_TYPES = {"conversations.history": "CGD", "conversations.info": "CG"}


def methods_called_by_the_code() -> set[str]:
    found = set()
    for path in (ROOT / "bot").rglob("*.py"):
        if "fakes" in path.parts:
            continue
        for name in CALL.findall(path.read_text(encoding="utf-8")):
            found.add(name.replace("_", "."))
    return found


def test_the_scan_finds_the_methods_we_know_we_call() -> None:
    called = methods_called_by_the_code()
    assert {"chat.postMessage", "conversations.history", "conversations.open"} <= called


def test_every_method_the_code_calls_is_covered_by_a_manifest_scope() -> None:
    granted = set(manifest_scopes())
    assert granted == set(BOT_SCOPES)
    for method in sorted(methods_called_by_the_code()):
        assert method in all_methods(), f"{method}: add its scopes to bot/fakes/slack/scopes.py"
        for kind in USED_TYPES.get(method, "C") if method in BY_CONVERSATION else "-":
            needed = needed_scopes(method, {"channel": f"{kind}0001"})
            assert needed is not None
            assert not needed or granted & set(needed), f"{method} ({kind}…) needs {needed}"


@pytest.fixture
def without_im_history() -> Iterator[FakeSlack]:
    scopes = [s for s in manifest_scopes() if s != "im:history"]
    with FakeSlack(scopes=scopes) as fake:
        yield fake


def test_the_fake_refuses_a_method_whose_scope_is_missing_like_slack(
    without_im_history: FakeSlack,
) -> None:
    client = WebClient(token=BOT_TOKEN, base_url=without_im_history.base_url)
    with pytest.raises(SlackApiError) as caught:
        client.conversations_history(channel="D0001")
    data = caught.value.response.data
    assert data["ok"] is False and data["error"] == "missing_scope"
    assert data["needed"] == "im:history"
    assert "chat:write" in data["provided"].split(",")
    assert "im:history" not in data["provided"].split(",")
    assert client.chat_postMessage(channel="D0001", text="hi")["ok"]  # chat:write is granted


def test_without_im_history_a_crashed_send_cannot_be_verified(
    without_im_history: FakeSlack,
) -> None:
    sender = SlackSender(BOT_TOKEN, base_url=without_im_history.base_url, rate_per_s=100)
    sender.send("U0001", blocks=[], text="picks", key="U0001:2026-W48")
    # Without im:history the lookup is refused like Slack does; missing_scope is a token-level
    # error (issue 16): the run stops with the row still "sending", never a blind resend.
    with pytest.raises(TokenError, match="missing_scope"):
        sender.find_sent("U0001", "U0001:2026-W48")


def test_with_the_manifest_scopes_a_crashed_send_is_found() -> None:
    with FakeSlack() as fake:
        sender = SlackSender(BOT_TOKEN, base_url=fake.base_url, rate_per_s=100)
        sent = sender.send("U0001", blocks=[], text="picks", key="U0001:2026-W48")
        assert sender.find_sent("U0001", "U0001:2026-W48") == sent


def test_not_in_channel_is_retryable_not_a_silent_skip() -> None:
    with FakeSlack(joined_channels={"CJOINED"}) as fake:
        sender = SlackSender(BOT_TOKEN, base_url=fake.base_url, rate_per_s=100)
        with pytest.raises(SendError) as caught:
            sender.send("CCOMMUNITY", blocks=[], text="picks", key="channel:2026-W48")
        assert caught.value.reason == "not_in_channel" and not caught.value.permanent
        fake.joined_channels.add("CCOMMUNITY")  # an admin invited the bot
        assert sender.send("CCOMMUNITY", blocks=[], text="picks", key="channel:2026-W48").ts
