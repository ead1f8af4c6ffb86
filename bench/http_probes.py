"""Attack probes against `matchmaker serve` in HTTP mode (a real child process, raw sockets).

Starts the fake Slack here and `matchmaker serve` (HTTP mode, SQLite in a temporary folder, or
--db-url) as a child, then measures:

- forged / stale / odd requests: how many were accepted (2xx) and their side effects
  (members created, Web API / response_url calls);
- a valid request sent once and replayed 3 times: how many times it was acted on;
- `Content-Length: -1`, non-numeric and > 1 MB: status and seconds to the answer;
- 50 stalled half-sent connections (25 with half the headers, 25 with half the body): seconds
  for a valid request to be answered meanwhile, and seconds until the server closed all 50;
- an empty and a foreign team id: status and members created.

Usage: uv run python bench/http_probes.py [--db-url URL]
The last line is a JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session
from sqlmodel import select as sql_select

from bot.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from bot.fakes.slack import signing as s
from bot.store.db import make_engine
from bot.store.models import Member


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raw_request(headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = ["POST /slack/events HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def send(port: int, data: bytes, timeout: float = 5.0) -> tuple[int, float]:
    """(status, seconds) of one raw request; status 0 when the server closed without answer."""
    began = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        answer = b""
        try:
            while b"\r\n" not in answer and (chunk := sock.recv(4096)):
                answer += chunk
        except TimeoutError:
            pass
    seconds = time.perf_counter() - began
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, seconds


def signed(text: str, team_id: str, fake: FakeSlack, **kwargs) -> tuple[str, dict[str, str]]:
    form = s.slash_command_form(text, team_id=team_id, response_url=fake.response_url(), **kwargs)
    body, headers = s.signed(SIGNING_SECRET, form=form)
    headers["Content-Length"] = str(len(body.encode()))
    return body, headers


def wait_ready(port: int, child: subprocess.Popen, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"matchmaker serve exited with {child.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("matchmaker serve did not start listening")


def side_effects(engine, fake: FakeSlack) -> tuple[int, int]:
    with Session(engine) as session:
        members = session.exec(sql_select(func.count()).select_from(Member)).one()
    calls = [c for c in fake.calls if c.method not in ("auth.test",)]
    return members, len(calls)


def resign(body: str, timestamp: int, content_type: str) -> dict[str, str]:
    return s.signed_headers(SIGNING_SECRET, body, timestamp=timestamp, content_type=content_type)


def forged_cases(fake: FakeSlack, team_id: str) -> list[tuple[str, bytes]]:
    body, good = signed("forget", team_id, fake)
    now = int(time.time())
    _, wrong = s.signed("not-the-secret", form={"text": "x"})
    cases = {
        "wrong secret": dict(good, **{"X-Slack-Signature": wrong["X-Slack-Signature"]}),
        "stale": {**good, **resign(body, now - 301, good["Content-Type"])},
        "future": {**good, **resign(body, now + 301, good["Content-Type"])},
        "no signature": {k: v for k, v in good.items() if k != "X-Slack-Signature"},
        "no timestamp": {k: v for k, v in good.items() if k != "X-Slack-Request-Timestamp"},
        "timestamp abc": dict(good, **{"X-Slack-Request-Timestamp": "abc"}),
        "timestamp float": dict(good, **{"X-Slack-Request-Timestamp": f"{now}.5"}),
        "timestamp negative": dict(good, **{"X-Slack-Request-Timestamp": "-1"}),
        "timestamp huge": dict(good, **{"X-Slack-Request-Timestamp": "9" * 40}),
        "signature not hex": dict(good, **{"X-Slack-Signature": "v0=zz"}),
    }
    requests = [(name, raw_request(h, body.encode())) for name, h in cases.items()]
    tampered = body.replace("forget", "level+experienced").encode()
    tampered_headers = dict(good, **{"Content-Length": str(len(tampered))})
    requests.append(("body changed", raw_request(tampered_headers, tampered)))
    junk = b"{not json"
    junk_headers = dict(
        s.signed_headers("wrong", junk.decode(), content_type="application/json"),
        **{"Content-Length": str(len(junk))},
    )
    requests.append(("json type, junk body, unsigned", raw_request(junk_headers, junk)))
    return requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", default=None)
    args = parser.parse_args()

    fake = FakeSlack()
    fake.start()
    tmp = Path(tempfile.mkdtemp(prefix="mm-probes-"))
    db_url = args.db_url or f"sqlite:///{tmp / 'matchmaker.db'}"
    port, health_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MATCHMAKER_", "SLACK_"))},
        "DATABASE_URL": db_url,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "MATCHMAKER_SLACK_MODE": "http",
        "MATCHMAKER_SLACK_API_URL": fake.base_url,
        "MATCHMAKER_SLACK_HTTP_PORT": str(port),
        "MATCHMAKER_HTTP_PORT": str(health_port),
        "MATCHMAKER_GITHUB_API_URL": "http://127.0.0.1:9",
        "MATCHMAKER_DATA_DIR": str(tmp),
        "MATCHMAKER_LOG_LEVEL": "warning",
    }
    child = subprocess.Popen(
        [sys.executable, "-c", "from bot.cli.app import main; main()", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "serve.log", "w"),  # noqa: SIM115
    )
    figures: dict[str, object] = {}
    try:
        wait_ready(port, child)
        engine = make_engine(db_url)
        team = fake.team_id

        # 1. forged, stale, odd
        accepted = 0
        cases = forged_cases(fake, team)
        for name, data in cases:
            status, _ = send(port, data)
            accepted += 200 <= status < 300
            print(f"forged {name:32s} -> {status}")
        time.sleep(1.0)
        members, calls = side_effects(engine, fake)
        figures |= {
            "forged_sent": len(cases),
            "forged_accepted": accepted,
            "forged_members": members,
            "forged_calls": calls,
        }

        # 2. replay
        body, headers = signed("level some", team, fake, user_id="UREPLAY")
        statuses = [send(port, raw_request(headers, body.encode()))[0] for _ in range(4)]
        time.sleep(1.5)
        acted = len(fake.calls_for("response_url"))
        print(f"valid + 3 replays -> {statuses}, acted on {acted}x")
        figures |= {"replay_statuses": statuses, "replay_acted_on": acted}

        # 3. odd lengths
        body, headers = signed("help", team, fake)
        for label, value in (("minus_one", "-1"), ("non_numeric", "abc"), ("2mb", "2000000")):
            status, seconds = send(port, raw_request(dict(headers, **{"Content-Length": value})))
            print(f"Content-Length {value:>8s} -> {status} in {seconds:.3f} s")
            figures[f"cl_{label}_status"] = status
            figures[f"cl_{label}_s"] = round(seconds, 3)

        # 4. 50 stalled connections
        body, headers = signed("help", team, fake)
        full = raw_request(headers, body.encode())
        stalled = []
        began = time.perf_counter()
        for i in range(50):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(full[:40] if i % 2 else full[: len(full) - 20])
            stalled.append(sock)
        body, headers = signed("help", team, fake, user_id="UVALID")
        status, seconds = send(port, raw_request(headers, body.encode()))
        print(f"valid request with 50 stalled connections -> {status} in {seconds:.3f} s")
        open_socks = set(stalled)
        while open_socks and time.perf_counter() - began < 60:
            readable, _, _ = select.select(list(open_socks), [], [], 1.0)
            for sock in readable:
                try:
                    if not sock.recv(65536):
                        open_socks.discard(sock)
                except OSError:
                    open_socks.discard(sock)
        closed_after = time.perf_counter() - began
        for sock in stalled:
            sock.close()
        print(
            f"stalled connections closed by the server: {50 - len(open_socks)}/50 "
            f"after {closed_after:.1f} s"
        )
        figures |= {
            "stalled_valid_status": status,
            "stalled_valid_s": round(seconds, 3),
            "stalled_closed": 50 - len(open_socks),
            "stalled_all_closed_s": round(closed_after, 1),
        }

        # 5. empty / foreign team
        before_members, _ = side_effects(engine, fake)
        for label, team_id in (("empty", ""), ("foreign", "T0FOREIGN")):
            body, headers = signed("level some", team_id, fake, user_id=f"U{label.upper()}")
            status, _ = send(port, raw_request(headers, body.encode()))
            figures[f"team_{label}_status"] = status
            print(f"team id {label!r} -> {status}")
        time.sleep(1.0)
        after_members, _ = side_effects(engine, fake)
        figures["team_members_created"] = after_members - before_members
        engine.dispose()
    finally:
        child.terminate()
        try:
            child.wait(20)
        except subprocess.TimeoutExpired:
            child.kill()
        fake.stop()
    log = (tmp / "serve.log").read_text()
    figures["tracebacks_in_server_log"] = log.count("Traceback")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
