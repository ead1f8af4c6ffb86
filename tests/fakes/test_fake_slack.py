"""The fake Slack answers like Slack's spec says, records calls and injects faults on demand."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.fakes.slack import BOT_TOKEN, FakeSlack

SPEC = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "slack-api" / "web_api_subset.json").read_text()
)


@pytest.fixture
def fake():
    with FakeSlack(admins={"UADMIN"}) as fake:
        fake.usergroups["S1"] = ["U1", "U2"]
        yield fake


@pytest.fixture
def client(fake):
    return WebClient(token=BOT_TOKEN, base_url=fake.base_url)


def test_success_responses_have_the_keys_the_spec_requires(fake, client):
    channel = client.conversations_open(users="U1")["channel"]["id"]
    posted = client.chat_postMessage(channel=channel, text="hi")
    view = {"type": "home", "blocks": []}
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": []}
    answers = {
        "conversations.open": client.conversations_open(users="U1"),
        "chat.postMessage": posted,
        "chat.update": client.chat_update(channel=channel, ts=posted["ts"], text="edited"),
        "chat.postEphemeral": client.chat_postEphemeral(channel=channel, user="U1", text="psst"),
        "views.publish": client.views_publish(user_id="U1", view=view),
        "views.open": client.views_open(trigger_id="1.2.3", view=modal),
        "users.info": client.users_info(user="UADMIN"),
        "auth.test": client.auth_test(),
        "usergroups.users.list": client.usergroups_users_list(usergroup="S1"),
        "conversations.history": client.conversations_history(channel=channel),
    }
    for method, response in answers.items():
        missing = set(SPEC[method]["success_required"]) - set(response.data)
        assert not missing, f"{method} lacks {missing}"
    assert answers["users.info"]["user"]["is_admin"] is True
    assert answers["usergroups.users.list"]["users"] == ["U1", "U2"]
    assert fake.messages[(channel, posted["ts"])]["text"] == "edited"


def test_history_lists_newest_first_in_pages_with_metadata_on_request(fake, client):
    tag = {"event_type": "digest_sent", "event_payload": {"key": "2026-W48:1"}}
    first = client.chat_postMessage(channel="D1", text="one", metadata=tag)["ts"]
    client.chat_postMessage(channel="D2", text="elsewhere")
    second = client.chat_postMessage(channel="D1", text="two")["ts"]
    third = client.chat_postMessage(channel="D1", text="three")["ts"]

    page = client.conversations_history(channel="D1", limit=2)
    assert [m["ts"] for m in page["messages"]] == [third, second]
    assert page["has_more"] is True
    rest = client.conversations_history(
        channel="D1", limit=2, cursor=page["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in rest["messages"]] == ["one"] and rest["has_more"] is False
    assert "metadata" not in rest["messages"][0]  # Slack hides it unless asked

    client.chat_update(channel="D1", ts=first, text="one, edited")
    tagged = client.conversations_history(channel="D1", include_all_metadata=True)
    assert [m.get("metadata") for m in tagged["messages"]] == [None, None, tag]
    assert fake.posts_by_channel() == {"D1": 3, "D2": 1}
    assert [p["text"] for p in fake.posts()] == ["one", "elsewhere", "two", "three"]
    with pytest.raises(SlackApiError) as missing:
        client.conversations_history(channel="nope")
    assert missing.value.response["error"] == "channel_not_found"


def test_every_call_is_recorded_with_its_arguments(fake, client):
    client.chat_postMessage(channel="D1", text="hello", blocks=[{"type": "divider"}])
    (call,) = fake.calls_for("chat.postMessage")
    assert call.args["text"] == "hello" and call.args["blocks"] == [{"type": "divider"}]
    assert call.token == BOT_TOKEN and call.ok


@pytest.mark.parametrize(
    ("method", "error", "call"),
    [
        (
            "chat.postMessage",
            "channel_not_found",
            lambda c: c.chat_postMessage(channel="D1", text="x"),
        ),
        ("auth.test", "invalid_auth", lambda c: c.auth_test()),
        ("users.info", "user_not_found", lambda c: c.users_info(user="U1")),
    ],
)
def test_fail_next_returns_the_error_once(fake, client, method, error, call):
    fake.fail_next(method, error)
    with pytest.raises(SlackApiError) as failure:
        call(client)
    assert failure.value.response["error"] == error
    assert call(client)["ok"]  # only the next call failed


def test_unknown_token_is_invalid_auth_and_missing_token_not_authed(fake):
    with pytest.raises(SlackApiError) as bad:
        WebClient(token="xoxb-nope", base_url=fake.base_url).auth_test()
    assert bad.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as none:
        WebClient(base_url=fake.base_url).auth_test()
    assert none.value.response["error"] == "not_authed"


def test_rate_limit_next_answers_429_with_retry_after(fake, client):
    fake.rate_limit_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as limited:
        client.chat_postMessage(channel="D1", text="x")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "7"


def test_slack_sdk_retry_handler_honours_retry_after(fake):
    fake.rate_limit_next("chat.postMessage", retry_after=1)
    client = WebClient(token=BOT_TOKEN, base_url=fake.base_url)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    start = time.monotonic()
    assert client.chat_postMessage(channel="D1", text="x")["ok"]
    assert time.monotonic() - start >= 1.0
    assert [c.status for c in fake.calls_for("chat.postMessage")] == [429, 200]


def test_per_channel_limit_is_one_message_per_second():
    with FakeSlack(channel_rate_per_s=1) as fake:
        client = WebClient(token=BOT_TOKEN, base_url=fake.base_url)
        client.chat_postMessage(channel="D1", text="1")
        client.chat_postMessage(channel="D2", text="other channel is fine")
        with pytest.raises(SlackApiError) as limited:
            client.chat_postMessage(channel="D1", text="2")
        assert limited.value.response.status_code == 429
        assert int(limited.value.response.headers["Retry-After"]) >= 1
        time.sleep(1.05)
        assert client.chat_postMessage(channel="D1", text="3")["ok"]


def test_workspace_limit_counts_all_channels():
    with FakeSlack(workspace_rate_per_s=3) as fake:
        client = WebClient(token=BOT_TOKEN, base_url=fake.base_url)
        statuses = []
        for i in range(5):
            try:
                client.chat_postMessage(channel=f"D{i}", text="x")
                statuses.append(200)
            except SlackApiError as exc:
                statuses.append(exc.response.status_code)
        assert statuses == [200, 200, 200, 429, 429]


def test_response_urls_and_unknown_methods(fake, client):
    url = fake.response_url("abc")
    assert httpx.post(url, json={"text": "done", "replace_original": True}).status_code == 200
    (call,) = fake.calls_for("response_url")
    assert call.args == {"key": "abc", "text": "done", "replace_original": True}
    with pytest.raises(SlackApiError) as unknown:
        client.api_call("nope.nope")
    assert unknown.value.response["error"] == "unknown_method"


def test_views_publish_refuses_more_than_100_blocks(client):
    view = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    with pytest.raises(SlackApiError):
        client.views_publish(user_id="U1", view=view)


def test_wait_for_times_out_with_a_clear_message(fake):
    with pytest.raises(TimeoutError, match=r"chat\.update: 0 of 1"):
        fake.wait_for("chat.update", timeout=0.1)


def test_group_dm_needs_mpim_write_and_gets_a_group_id():
    """Slack opens a multi-person DM (an mpim: G… id) for several users, which takes mpim:write;
    im:write alone opens only 1:1 DMs."""
    with FakeSlack(scopes=["chat:write", "im:write"]) as fake:
        client = WebClient(token=BOT_TOKEN, base_url=fake.base_url)
        assert client.conversations_open(users="U1")["channel"]["id"].startswith("D")
        with pytest.raises(SlackApiError) as refused:
            client.conversations_open(users="U1,U2")
        assert refused.value.response["error"] == "missing_scope"
        assert refused.value.response["needed"] == "mpim:write"
    with FakeSlack(scopes=["chat:write", "mpim:write"]) as fake:
        client = WebClient(token=BOT_TOKEN, base_url=fake.base_url)
        first = client.conversations_open(users="U1,U2")["channel"]["id"]
        again = client.conversations_open(users="U2,U1")["channel"]["id"]
        assert first.startswith("G") and first == again
        assert client.chat_postMessage(channel=first, text="hello both")["ok"]
        nine = ",".join(f"U{i}" for i in range(1, 10))
        with pytest.raises(SlackApiError) as crowded:
            client.conversations_open(users=nine)
        assert crowded.value.response["error"] == "too_many_users"
