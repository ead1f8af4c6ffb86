"""The HTTP server refuses odd, oversized, stalled and replayed requests before they cost anything.

Raw sockets send what httpx would refuse to (negative or non-numeric Content-Length, half a
request); the answers must be 4xx, never a traceback, and nothing may change in the database.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from sqlalchemy import func
from sqlmodel import Session, select

from bot.config.settings import Settings
from bot.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from bot.fakes.slack import signing as s
from bot.slack.app import build_app
from bot.slack.http import SlackHTTPServer
from bot.store.models import Member, SlackRequestSeen
from bot.web.server import Limits


def _members(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Member)).one()


def _raw(port: int, data: bytes, *, timeout: float = 5.0) -> bytes:
    """Send `data`, return everything the server answers until it closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks):
                    break
        except TimeoutError:
            pass
        return b"".join(chunks)


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0


def _request(headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = ["POST /slack/events HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.fixture
def server(http_settings: Settings, engine, fake_slack: FakeSlack) -> Iterator[SlackHTTPServer]:
    app = build_app(http_settings, engine, WebClient(token=BOT_TOKEN, base_url=fake_slack.base_url))
    limits = Limits(read_timeout=0.5, idle_timeout=0.5, max_connections=20)
    server = SlackHTTPServer(app, engine, SIGNING_SECRET, port=0, limits=limits)
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("length", "expected"),
    [("-1", 400), ("abc", 400), ("1.5", 400), ("2000000", 413), (None, 400)],
)
def test_odd_content_lengths_get_4xx_and_change_nothing(server, engine, length, expected, caplog):
    caplog.set_level(logging.DEBUG)
    body, headers = s.signed(SIGNING_SECRET, form=s.slash_command_form("level some"))
    if length is not None:
        headers["Content-Length"] = length
    answer = _raw(server.web.port, _request(headers, body.encode()), timeout=2.0)
    assert _status(answer) == expected, answer[:200]
    assert b"Traceback" not in answer
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert _members(engine) == 0


def test_invalid_timestamps_and_non_json_bodies_are_refused_without_a_traceback(
    server, engine, caplog
):
    caplog.set_level(logging.DEBUG)
    body = "{not json"
    signed = s.signed_headers(SIGNING_SECRET, body, content_type="application/json")
    odd_ts = dict(signed, **{"X-Slack-Request-Timestamp": "12.5e3"})
    for headers, expected in ((signed, 400), (odd_ts, 401)):
        headers = dict(headers, **{"Content-Length": str(len(body))})
        assert _status(_raw(server.web.port, _request(headers, body.encode()))) == expected
    assert "Traceback" not in caplog.text
    assert body not in caplog.text  # rejected bodies are never logged
    assert _members(engine) == 0


def test_a_valid_request_replayed_three_times_is_acted_on_once(slack, engine, fake_slack):
    body, headers = slack.signed_command("level some", user_id="UREPLAY")
    statuses = [slack.post(body, headers).status_code for _ in range(4)]
    assert statuses == [200, 401, 401, 401]
    fake_slack.wait_for("response_url", 1)
    time.sleep(0.3)  # a second lazy run would have answered by now
    assert len(fake_slack.calls_for("response_url")) == 1
    assert _members(engine) == 1


def test_slack_retries_of_a_handled_event_are_answered_without_running_again(slack, fake_slack):
    event = s.app_home_opened_event(team_id=fake_slack.team_id)
    assert slack.event(event).status_code == 200
    fake_slack.wait_for("views.publish", 1)
    for retry in ("1", "2"):
        body, headers = s.signed(SIGNING_SECRET, event=event, timestamp=int(time.time()) + 1)
        response = slack.post(body, dict(headers, **{"X-Slack-Retry-Num": retry}))
        assert response.status_code == 200
    time.sleep(0.3)
    assert len(fake_slack.calls_for("views.publish")) == 1


def test_a_retry_of_an_event_never_received_is_handled(slack, fake_slack):
    event = s.app_home_opened_event(team_id=fake_slack.team_id)
    body, headers = s.signed(SIGNING_SECRET, event=event)
    response = slack.post(body, dict(headers, **{"X-Slack-Retry-Num": "1"}))
    assert response.status_code == 200
    fake_slack.wait_for("views.publish", 1)


def test_seen_requests_are_remembered_in_the_shared_table(slack, engine):
    body, headers = slack.signed_command("help")
    assert slack.post(body, headers).status_code == 200
    with Session(engine) as session:
        keys = [row.key for row in session.exec(select(SlackRequestSeen))]
    assert keys == ["sig:" + headers["X-Slack-Signature"]]


def test_half_sent_requests_are_closed_by_the_server(server):
    body, headers = s.signed(SIGNING_SECRET, form=s.slash_command_form("level some"))
    headers["Content-Length"] = str(len(body))
    half_headers = _request(headers)[:40]
    half_body = _request(headers, body.encode()[:10])
    for data in (half_headers, half_body):
        with socket.create_connection(("127.0.0.1", server.web.port), timeout=10) as sock:
            sock.sendall(data)
            answer = b""
            while chunk := sock.recv(65536):  # returns b"" once the server closed
                answer += chunk
        assert _status(answer) in (0, 408), answer[:200]


def test_connections_above_the_cap_are_closed_and_the_server_keeps_answering(server):
    socks = [socket.create_connection(("127.0.0.1", server.web.port)) for _ in range(25)]
    try:
        time.sleep(0.2)
        assert server.web.refused >= 5
    finally:
        for sock in socks:
            sock.close()
    time.sleep(0.2)
    body, headers = s.signed(SIGNING_SECRET, form=s.slash_command_form("help"))
    headers["Content-Length"] = str(len(body))
    assert _status(_raw(server.web.port, _request(headers, body.encode()))) == 200


def test_unknown_paths_get_404(server):
    answer = _raw(server.web.port, b"GET /admin HTTP/1.1\r\nHost: x\r\n\r\n")
    assert _status(answer) == 404
