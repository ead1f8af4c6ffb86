"""Digest fan-out: 2,000 members, a fake Slack limiting each DM channel to 1 msg/s and the
workspace to a configurable rate (429 + Retry-After beyond it).

Prints messages/s achieved vs. allowed (target ≥ 90 %), duplicates (0) and lost (0); the last
line is JSON. Usage: uv run python bench/digest_fanout.py [--members 2000] [--rate 100]
[--concurrency 4] [--inject-429 N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from bot.config import load_settings
from bot.deliver.digest import run_digest
from bot.deliver.senders import SlackSender
from bot.fakes.slack import BOT_TOKEN
from bot.store import migrate
from bot.store.db import make_engine
from bot.store.models import Issue, Member, Repository

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC
LANGUAGES = ["Python", "Go", "Rust", "Java", "C++"]


def seed(engine, members: int, issues: int) -> None:
    """Repositories, issues (enough for 3 distinct picks per member) and members."""
    with Session(engine) as session:
        repos = [
            Repository(
                full_name=f"org/project{i}",
                primary_language=LANGUAGES[i % len(LANGUAGES)],
                pushed_at=NOW - timedelta(days=2),
                stars=100 + i,
            )
            for i in range(200)
        ]
        session.add_all(repos)
        session.flush()
        session.add_all(
            Issue(
                node_id=f"I_{i}",
                repository_id=repos[i % len(repos)].id,
                number=i + 1,
                title=f"Improve error message #{i}",
                url=f"https://github.com/{repos[i % len(repos)].full_name}/issues/{i + 1}",
                labels=["good first issue"],
                created_at=NOW - timedelta(days=10),
                crawled_at=NOW,
            )
            for i in range(issues)
        )
        session.add_all(
            Member(
                slack_user_id=f"U{i:06d}",
                languages={LANGUAGES[i % len(LANGUAGES)].lower(): 1.0},
                digest_day="mon",
                digest_time="09:00",
            )
            for i in range(members)
        )
        session.commit()


FAKE_SLACK_PROCESS = """
import json, sys
from bot.fakes.slack import FakeSlack
slack = FakeSlack(channel_rate_per_s=1.0, workspace_rate_per_s=float(sys.argv[1]))
if int(sys.argv[2]):
    slack.rate_limit_next("chat.postMessage", retry_after=1, times=int(sys.argv[2]))
print(slack.start(), flush=True)
sys.stdin.readline()
calls = [
    [c.method, str(c.args.get("channel", "")), c.ok, c.status, c.at] for c in slack.calls
]
print(json.dumps(calls), flush=True)
"""


class RemoteFakeSlack:
    """The fake Slack in its own process, like the real one is on another machine (it does
    not compete with the bot for the GIL); its recorded calls are fetched at the end."""

    def __init__(self, rate: float, storm: int = 0) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", FAKE_SLACK_PROCESS, str(rate), str(storm)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()

    def calls(self) -> list[list]:
        """Stop the fake and return [method, channel, ok, status, monotonic time] per call."""
        out, _ = self.process.communicate("dump\n", timeout=60)
        return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100.0, help="workspace msgs/s allowed")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--inject-429", type=int, default=0, help="extra 429 answers (Retry-After 1) up front"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        migrate.upgrade(engine)
        seed(engine, args.members, issues=args.members * 3)
        slack = RemoteFakeSlack(args.rate, args.inject_429)
        settings = load_settings(
            digest={"workspace_rate_per_s": args.rate, "send_concurrency": args.concurrency}
        )
        sender = SlackSender(BOT_TOKEN, base_url=slack.base_url, rate_per_s=args.rate)
        started = time.monotonic()
        report = run_digest(engine, settings, sender, now=NOW)
        total_s = time.monotonic() - started
        engine.dispose()
    calls = slack.calls()
    posts = [c for c in calls if c[0] == "chat.postMessage" and c[2]]
    limited = [c for c in calls if c[3] == 429]
    per_channel = Counter(c[1] for c in posts)
    duplicates = sum(n - 1 for n in per_channel.values() if n > 1)
    lost = args.members - len(per_channel)
    span = posts[-1][4] - posts[0][4] if len(posts) > 1 else 0.0
    achieved = (len(posts) - 1) / span if span > 0 else 0.0
    ratio = achieved / args.rate
    print(f"members: {args.members}, sent: {len(posts)}, run: {report.summary()}")
    print(f"whole run {total_s:.1f} s; sending {span:.1f} s")
    print(
        f"messages/s achieved {achieved:.1f} vs allowed {args.rate:g}: {ratio:.1%} (target ≥ 90%)"
    )
    print(f"HTTP 429 answers: {len(limited)}; duplicates: {duplicates}; lost: {lost}")
    print(
        json.dumps(
            {
                "members": args.members,
                "sent": len(posts),
                "duplicates": duplicates,
                "lost": lost,
                "rate_ratio": round(ratio, 3),
                "allowed_rate": args.rate,
                "achieved_rate": round(achieved, 1),
                "rate_limited_429": len(limited),
                "send_seconds": round(span, 2),
                "run_seconds": round(total_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
