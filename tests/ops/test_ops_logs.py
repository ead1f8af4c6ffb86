"""Logging: JSON or pretty output, run ids on every line of a run, secrets never written."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st
from opshelp import (
    GITHUB_TOKEN,
    SIGNING_SECRET,
    SLACK_APP_TOKEN,
    SLACK_BOT_TOKEN,
    assert_no_secret,
)

from bot.config import load_settings
from bot.logs import (
    MASK,
    Redactor,
    configure_logging,
    get_logger,
    in_current_context,
    reset_logging,
    run_context,
)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    reset_logging()


@pytest.fixture
def stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Logging configured with the fake secrets in the environment, writing to a buffer."""
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_BOT_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", SLACK_APP_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    buffer = io.StringIO()
    configure_logging(load_settings(log_level="debug"), stream=buffer)
    yield buffer


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_logs_are_json_when_not_a_terminal(stream: io.StringIO) -> None:
    get_logger("ops").info("crawl finished", repos=3)
    (line,) = lines(stream)
    assert line["event"] == "crawl finished" and line["repos"] == 3
    assert line["level"] == "info" and line["timestamp"].endswith("Z")


def test_console_format_is_readable_text() -> None:
    buffer = io.StringIO()
    configure_logging(load_settings(log_format="console"), stream=buffer)
    get_logger("ops").info("crawl finished", repos=3)
    text = buffer.getvalue()
    assert "crawl finished" in text and "repos=3" in text
    assert not text.lstrip().startswith("{")


def test_structlog_values_and_messages_are_redacted(stream: io.StringIO) -> None:
    log = get_logger("ops")
    log.info(f"using token {GITHUB_TOKEN}")
    log.info("request", headers={"Authorization": f"Bearer {SLACK_BOT_TOKEN}"}, app=SLACK_APP_TOKEN)
    log.info("verify", signing_secret=SIGNING_SECRET, note=f"secret is {SIGNING_SECRET}")
    log.warning("unrelated shapes", text="xoxp-9999-8888-abcdefabcdef ghs_" + "A" * 36)
    try:
        raise RuntimeError(f"401 for Authorization: token {GITHUB_TOKEN}")
    except RuntimeError:
        log.exception("crawl failed")
    output = stream.getvalue()
    assert_no_secret(output)
    assert "xoxp-9999" not in output and "ghs_AAAA" not in output
    assert output.count(MASK) >= 7
    assert "crawl failed" in output and "RuntimeError" in output  # still useful


def test_stdlib_library_logs_are_redacted_and_formatted(stream: io.StringIO) -> None:
    logging.getLogger("slack_sdk.web.base_client").debug(
        "Sending a request - headers: {'Authorization': 'Bearer %s'}", SLACK_BOT_TOKEN
    )
    logging.getLogger("apscheduler.scheduler").warning("job failed: token=%s", GITHUB_TOKEN)
    logging.getLogger("httpx").info("HTTP Request: GET https://x/?access_token=%s", "abc123xyz")
    records = lines(stream)
    assert [r["logger"] for r in records] == [
        "slack_sdk.web.base_client",
        "apscheduler.scheduler",
        "httpx",
    ]
    assert_no_secret(stream.getvalue())
    assert "abc123xyz" not in stream.getvalue()


class _SlackStandIn(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"ok": false, "error": "invalid_auth"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def slack_stand_in() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlackStandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/"
    server.shutdown()
    server.server_close()


def test_real_client_debug_logging_leaks_no_token(stream: io.StringIO, slack_stand_in: str) -> None:
    """slack_sdk and httpx at DEBUG, talking to a local server with the fake tokens."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    with pytest.raises(SlackApiError):
        WebClient(token=SLACK_BOT_TOKEN, base_url=slack_stand_in).auth_test()
    with httpx.Client(headers={"Authorization": f"Bearer {GITHUB_TOKEN}"}) as client:
        client.post(slack_stand_in + "auth.test", params={"token": SLACK_BOT_TOKEN})
    output = stream.getvalue()
    assert "slack_sdk" in output and "httpx" in output  # the libraries did log
    assert_no_secret(output)


def test_every_line_of_a_run_carries_its_run_id(stream: io.StringIO) -> None:
    log = get_logger("ops")
    log.info("before")
    with run_context("crawl") as run_id:
        log.info("inside")
        logging.getLogger("httpx").warning("library line inside the run")
    log.info("after")
    records = lines(stream)
    assert [r.get("run_id") for r in records] == [None, run_id, run_id, None]
    assert records[1]["run_kind"] == "crawl"


def test_concurrent_runs_keep_their_own_run_ids(stream: io.StringIO) -> None:
    def job(kind: str, run_id: str) -> None:
        with run_context(kind, run_id):
            for _ in range(20):
                get_logger("ops").info("step", kind=kind)

    threads = [
        threading.Thread(target=job, args=("crawl", "crawl-1")),
        threading.Thread(target=job, args=("digest", "digest-1")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for record in lines(stream):
        assert record["run_id"] == f"{record['kind']}-1"
    structlog.contextvars.clear_contextvars()


TOKEN_BODY = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    min_size=20,
    max_size=60,
)


@given(
    prefix=st.sampled_from(
        ["ghp_", "gho_", "ghs_", "ghu_", "github_pat_11A", "xoxb-1-", "xapp-1-"]
    ),
    body=TOKEN_BODY,
    before=st.sampled_from(["", "token ", "sent with ", "Authorization: Bearer ", "'", "=("]),
    after=st.sampled_from(["", " ", "\n", "'", '"', ",", ")"]),
)
def test_token_shapes_never_survive_redaction(
    prefix: str, body: str, before: str, after: str
) -> None:
    token = prefix + body
    redacted = Redactor().redact_text(f"{before} {token}{after}")
    assert body not in redacted


@given(secret=st.text(min_size=4, max_size=40).filter(lambda s: s.strip() == s and s))
def test_configured_secret_values_are_masked_wherever_they_appear(secret: str) -> None:
    redactor = Redactor([secret])
    event = {"event": f"a{secret}b", "nested": {"list": [secret, 1]}}
    result = redactor(None, "info", event)
    assert secret not in json.dumps(result, ensure_ascii=False)


def test_worker_threads_get_the_run_id_through_in_current_context(stream: io.StringIO) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def work(n: int) -> None:
        logging.getLogger("slack_sdk").warning("sent %d", n)

    with run_context("digest") as run_id, ThreadPoolExecutor(2) as pool:
        list(pool.map(in_current_context(work), range(4)))
        pool.submit(work, 99).result()  # plain submit: threads don't inherit context
    records = lines(stream)
    assert sorted(r["event"] for r in records if r.get("run_id") == run_id) == [
        f"sent {n}" for n in range(4)
    ]
    assert [r.get("run_id") for r in records if r["event"] == "sent 99"] == [None]


def test_prose_about_tokens_stays_readable() -> None:
    text = "GitHub token rejected; token expired yesterday; using token budget"
    assert Redactor().redact_text(text) == text


def test_default_stream_follows_sys_stderr_even_after_it_was_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = io.StringIO()
    monkeypatch.setattr("sys.stderr", first)
    configure_logging(load_settings())
    first.close()  # e.g. a CLI test runner's capture ended
    second = io.StringIO()
    monkeypatch.setattr("sys.stderr", second)
    logging.getLogger("alembic").warning("still logged")
    get_logger("ops").warning("also logged")
    assert "still logged" in second.getvalue() and "also logged" in second.getvalue()


def test_pem_private_keys_are_redacted() -> None:
    pem = (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAfake\nline2\n"
        "-----END RSA PRIVATE KEY-----"
    )
    redacted = Redactor().redact_text(f"loaded key {pem} ok")
    assert "MIIEpAIBAAKCAQEAfake" not in redacted and redacted.endswith(" ok")
