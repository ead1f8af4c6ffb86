"""Chaos scenarios for delivery (issue 16), against the project's fake Slack and GitHub.

1. revoked token: the bot token is revoked after 20 of 60 posts, four ticks run with it
   revoked, then it is restored: every member must get exactly one digest;
2. account_inactive (Slack: "token is for a deleted user or workspace") mid-run: the run
   stops, nobody is skipped, the next run sends the rest;
3. outages across the end of the members' local week: "sun 20:00", "sun 23:59" and
   "sat 09:00" slots in five timezones, the bot down from before the slot until 1 h–71 h after
   it: every slot must still be sent by the first tick after the outage (72 h catch-up);
4. deleted repository: crawl the demo world, delete a repository on the fake GitHub,
   re-crawl: none of its issues may stay eligible or be picked;
5. frozen leader (PostgreSQL): three replicas with the production lease (20 s) and retry
   (5 s); the leader is SIGSTOPped: seconds until another replica leads; on SIGCONT the old
   leader must step down.

Prints one line per scenario, then one JSON line with `scenarios`, `duplicates`, `lost`,
`revoked_resumed`, `catchup_missed`, `deleted_repo_offered`, `frozen_leader_takeover_s`
(pass: 0, 0, true, 0, 0, ≤ 60). Usage: uv run python bench/chaos.py [--pg URL] [--skip-leader]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings, load_settings
from bot.deliver.digest import run_digest
from bot.deliver.senders import SlackSender
from bot.fakes.slack import BOT_TOKEN, FakeSlack
from bot.store import migrate
from bot.store.db import make_engine
from bot.store.models import Delivery, Issue, Member, Repository

ROOT = Path(__file__).resolve().parents[1]
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kathmandu"]


def fresh_engine(tmp: str, name: str) -> Engine:
    engine = make_engine(f"sqlite:///{tmp}/{name}.db")
    migrate.upgrade(engine)
    return engine


def seed(engine: Engine, members: list[dict[str, Any]], issues: int = 300) -> None:
    """Open issues enough for three distinct picks each, and the members."""
    with Session(engine) as session:
        repos = [Repository(full_name=f"org/p{i}", pushed_at=MONDAY) for i in range(30)]
        session.add_all(repos)
        session.flush()
        session.add_all(
            Issue(
                node_id=f"I_{i}",
                repository_id=repos[i % 30].id,
                number=i + 1,
                title=f"Issue {i}",
                url=f"https://github.com/org/p{i % 30}/issues/{i + 1}",
                labels=["good first issue"],
                crawled_at=MONDAY + timedelta(days=30),  # never stale within the scenarios
            )
            for i in range(issues)
        )
        session.add_all(Member(**spec) for spec in members)
        session.commit()


def simple_recommend(session: Session, settings: Settings, member_ids=None, n=3, *, now=None):
    """A stand-in matcher: distinct open issues per member (delivery, not scoring, is tested)."""
    from types import SimpleNamespace

    rows = session.execute(
        select(Issue, Repository).join(Repository, Repository.id == Issue.repository_id)
    ).all()
    picks: dict[int, list[Any]] = {}
    for member_id in member_ids or []:
        chosen = [rows[(member_id * n + k) % len(rows)] for k in range(n)]
        picks[member_id] = [
            SimpleNamespace(
                member_id=member_id,
                issue_id=i.id,
                repo_full_name=r.full_name,
                issue_number=i.number,
                title=i.title,
                url=i.url,
                labels=list(i.labels or []),
                score=1.0,
                reasons=["fits"],
                signals={},
            )
            for i, r in chosen
        ]
    return picks


def delivery_outcome(slack: FakeSlack, members: int) -> tuple[int, int]:
    """(duplicates, lost) from what the fake Slack actually accepted."""
    per_channel = Counter(
        str(c.args.get("channel")) for c in slack.calls_for("chat.postMessage", ok_only=True)
    )
    duplicates = sum(n - 1 for n in per_channel.values() if n > 1)
    return duplicates, members - len(per_channel)


def settings_fast() -> Settings:
    return load_settings(digest={"workspace_rate_per_s": 1000.0, "send_concurrency": 2})


# Scenarios ------------------------------------------------------------------------------------


def revoked_token(tmp: str) -> dict[str, Any]:
    engine = fresh_engine(tmp, "revoked")
    seed(engine, [{"slack_user_id": f"U{i:05d}"} for i in range(1, 61)])
    settings = settings_fast()
    with FakeSlack() as slack:
        sender = SlackSender(BOT_TOKEN, base_url=slack.base_url, rate_per_s=1000.0)
        team = slack.tokens[BOT_TOKEN]
        posted = {"n": 0}

        def revoke_after_20(step: str) -> None:
            if step == "posted":
                posted["n"] += 1
                if posted["n"] == 20:
                    slack.tokens.pop(BOT_TOKEN, None)

        calls_before = 0
        reports = [
            run_digest(
                engine, settings, sender, now=MONDAY, recommender=simple_recommend,
                on_step=revoke_after_20,
            )
        ]  # fmt: skip
        calls_before = len(slack.calls_for("chat.postMessage"))
        for tick in range(1, 5):
            reports.append(
                run_digest(
                    engine, settings, sender, now=MONDAY + timedelta(minutes=5 * tick),
                    recommender=simple_recommend,
                )
            )  # fmt: skip
        refused_calls = len(slack.calls_for("chat.postMessage")) - calls_before
        refused_calls += len(slack.calls_for("conversations.open", ok_only=False)) - len(
            slack.calls_for("conversations.open", ok_only=True)
        )
        with Session(engine) as session:
            rows = list(session.scalars(select(Delivery)))
        failed = sum(1 for d in rows if d.state not in ("pending", "sent"))
        attempts = sum(d.attempts for d in rows if d.state == "pending")
        slack.tokens[BOT_TOKEN] = team
        final = run_digest(
            engine, settings, sender, now=MONDAY + timedelta(minutes=30),
            recommender=simple_recommend,
        )  # fmt: skip
        duplicates, lost = delivery_outcome(slack, 60)
    engine.dispose()
    return {
        "name": "revoked token after 20/60, 4 ticks revoked, restored",
        "duplicates": duplicates,
        "lost": lost,
        "resumed": lost == 0 and duplicates == 0 and failed == 0 and attempts == 0,
        "detail": (
            f"first run {reports[0].sent} sent then stopped ({reports[0].token_error}); "
            f"{refused_calls} refused calls over 4 revoked ticks; {attempts} attempts used; "
            f"{failed} failed/skipped; after restore {final.sent} sent"
        ),
    }


def account_inactive(tmp: str) -> dict[str, Any]:
    engine = fresh_engine(tmp, "inactive")
    seed(engine, [{"slack_user_id": f"U{i:05d}"} for i in range(1, 41)])
    settings = settings_fast()
    with FakeSlack() as slack:
        sender = SlackSender(BOT_TOKEN, base_url=slack.base_url, rate_per_s=1000.0)
        count = {"n": 0}

        def inactive_after_10(step: str) -> None:
            if step == "posted":
                count["n"] += 1
                if count["n"] == 10:
                    slack.fail_next("chat.postMessage", "account_inactive", times=3)

        first = run_digest(
            engine, settings, sender, now=MONDAY, recommender=simple_recommend,
            on_step=inactive_after_10,
        )  # fmt: skip
        ticks = [first]
        for tick in range(1, 4):
            ticks.append(
                run_digest(
                    engine, settings, sender, now=MONDAY + timedelta(minutes=5 * tick),
                    recommender=simple_recommend,
                )
            )  # fmt: skip
        skipped = sum(r.skipped for r in ticks)
        duplicates, lost = delivery_outcome(slack, 40)
    engine.dispose()
    return {
        "name": "account_inactive mid-run",
        "duplicates": duplicates,
        "lost": lost,
        "detail": f"{skipped} skipped; sent per tick {[r.sent for r in ticks]}",
    }


def outage_across_week_boundary(tmp: str) -> dict[str, Any]:
    """Members with late-week slots; the bot is down from 1 h before the slot for `gap` hours."""
    slots = [("sun", "20:00"), ("sun", "23:59"), ("sat", "09:00")]
    outages_h = [1.5, 5, 12, 24, 46.7, 60, 71]
    missed = total = 0
    duplicates = lost = 0
    settings = settings_fast()
    with FakeSlack() as slack:
        sender = SlackSender(BOT_TOKEN, base_url=slack.base_url, rate_per_s=1000.0)
        for n, (zone, (day, hhmm), gap) in enumerate(
            (z, s, g) for z in ZONES for s in slots for g in outages_h
        ):
            engine = fresh_engine(tmp, f"outage{n}")
            seed(engine, [{"slack_user_id": f"U{n:05d}", "digest_day": day,
                           "digest_time": hhmm, "timezone": zone}], issues=3)  # fmt: skip
            tz = ZoneInfo(zone)
            local_day = datetime(2026, 11, 29 if day == "sun" else 28, tzinfo=tz).date()
            hour, minute = map(int, hhmm.split(":"))
            slot = datetime(local_day.year, local_day.month, local_day.day, hour, minute,
                            tzinfo=tz).astimezone(UTC)  # fmt: skip
            back = slot - timedelta(hours=1) + timedelta(hours=gap)
            tick = back.replace(second=0, microsecond=0)
            tick += timedelta(minutes=(5 - tick.minute % 5) % 5)  # the first 5-minute tick
            sent = 0
            for k in range(3):  # the first three ticks after the outage
                report = run_digest(
                    engine, settings, sender, now=tick + timedelta(minutes=5 * k),
                    recommender=simple_recommend,
                )  # fmt: skip
                sent += report.sent
            total += 1
            missed += sent == 0
            duplicates += max(0, sent - 1)
            engine.dispose()
        lost = missed
    return {
        "name": "outage across the end of the local week (< 72 h)",
        "duplicates": duplicates,
        "lost": lost,
        "catchup_missed": missed,
        "detail": f"{total - missed}/{total} slots sent after outages of {outages_h} h",
    }


def deleted_repository(tmp: str) -> dict[str, Any]:
    from bot.fakes.catalog import add_to_catalog
    from bot.fakes.github import FakeGitHub
    from bot.fakes.github.model import EPOCH
    from bot.fakes.github.world import demo_world
    from bot.github.crawl import crawl
    from bot.match.eligibility import issue_reason_codes
    from bot.match.issues import load_issue_table
    from bot.match.recommend import recommend
    from bot.match.taxonomy import get_taxonomy
    from bot.match.terms import TermSpace

    engine = fresh_engine(tmp, "deleted")
    world = demo_world()
    names = list(world.repos)[:30]
    add_to_catalog(engine, names)
    with FakeGitHub(world) as fake:
        settings = load_settings(github_api_url=fake.base_url, GITHUB_TOKEN="chaos-token")
        crawl(engine, settings, now=EPOCH)
        with Session(engine) as session:
            counts = Counter(
                r.full_name
                for i, r in session.execute(
                    select(Issue, Repository).join(Repository, Repository.id == Issue.repository_id)
                ).all()
                if i.state == "open"
            )
        victim = max(names, key=lambda n: counts.get(n.lower(), 0))
        language = world.repos[victim].language or "Python"
        del world.repos[victim]
        report = crawl(engine, settings, now=EPOCH + timedelta(hours=1))
    with Session(engine) as session:
        repo = session.scalars(
            select(Repository).where(Repository.full_name == victim.lower())
        ).one()
        table = load_issue_table(session, settings, TermSpace(get_taxonomy()))
        codes = issue_reason_codes(table, settings, EPOCH + timedelta(hours=1))
        offered = sum(
            1 for issue, code in zip(table.issues, codes, strict=True)
            if code == 0 and issue.repository_id == repo.id
        )  # fmt: skip
        members = [Member(slack_user_id=f"U{i:04d}", languages={language.lower(): 1.0})
                   for i in range(20)]  # fmt: skip
        session.add_all(members)
        session.commit()
        picks = recommend(session, settings, [m.id for m in members], n=5,
                          now=EPOCH + timedelta(hours=1))  # fmt: skip
        picked = sum(1 for recs in picks.values() for r in recs
                     if r.repo_full_name.lower() == victim.lower())  # fmt: skip
    engine.dispose()
    return {
        "name": "deleted repository",
        "duplicates": 0,
        "lost": 0,
        "deleted_repo_offered": offered + picked,
        "detail": (
            f"{victim} ({counts.get(victim.lower(), 0)} open issues) deleted: marked "
            f"{repo.gone_reason!r}; crawl status {report.status}; {offered} eligible, "
            f"{picked} picked for 20 {language} members"
        ),
    }


REPLICA = textwrap.dedent(
    """
    import sys, time
    from bot.schedule.leader import LeaderElector, PostgresLeaderLock
    elector = LeaderElector(
        PostgresLeaderLock(sys.argv[1], name="chaos-bench", lease_seconds=float(sys.argv[2])),
        on_elected=lambda: print("LEADER", flush=True),
        on_deposed=lambda: print("DEPOSED", flush=True),
        retry_seconds=float(sys.argv[3]),
    )
    elector.start()
    print("STARTED", flush=True)
    while True:
        time.sleep(1)
    """
)


class Replica:
    def __init__(self, url: str, lease: float, retry: float) -> None:
        self.lines: list[tuple[float, str]] = []
        self.process = subprocess.Popen(
            [sys.executable, "-c", REPLICA, url, str(lease), str(retry)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append((time.monotonic(), line.strip()))

    def first(self, word: str, after: float = 0.0) -> float | None:
        return next((t for t, line in self.lines if line == word and t >= after), None)


def wait_until(check: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    return None


def frozen_leader(url: str, lease: float, retry: float) -> dict[str, Any]:
    replicas = [Replica(url, lease, retry)]
    try:
        wait_until(lambda: replicas[0].first("LEADER"), 30)
        replicas += [Replica(url, lease, retry), Replica(url, lease, retry)]
        wait_until(lambda: all(r.first("STARTED") for r in replicas), 30)
        time.sleep(retry * 2)  # followers have tried at least once
        leader = next(r for r in replicas if r.first("LEADER"))
        leader.process.send_signal(signal.SIGSTOP)
        frozen = time.monotonic()
        others = [r for r in replicas if r is not leader]
        took = wait_until(lambda: min(filter(None, (r.first("LEADER") for r in others)),
                                      default=None), lease * 3 + 30)  # fmt: skip
        takeover = None if took is None else round(took - frozen, 1)
        leader.process.send_signal(signal.SIGCONT)
        woke = time.monotonic()
        stepped = wait_until(lambda: leader.first("DEPOSED", woke), 30)
        leaders = sum(1 for r in others if r.first("LEADER"))
        return {
            "name": f"3 replicas, leader SIGSTOP (lease {lease:g} s, retry {retry:g} s)",
            "duplicates": 0,
            "lost": 0,
            "frozen_leader_takeover_s": takeover,
            "detail": (
                f"new leader after {takeover} s; {leaders} follower(s) took over; old leader "
                f"stepped down {'%.1f s after waking' % (stepped - woke) if stepped else 'NEVER'}"
            ),
        }
    finally:
        for replica in replicas:
            if replica.process.poll() is None:
                replica.process.send_signal(signal.SIGCONT)
                replica.process.kill()
                replica.process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pg",
        default=os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        help="PostgreSQL for the leader scenario (only an advisory lock is taken)",
    )
    parser.add_argument("--skip-leader", action="store_true")
    parser.add_argument("--lease", type=float, default=20.0, help="leader lease (production: 20)")
    parser.add_argument("--retry", type=float, default=5.0, help="leader retry (production: 5)")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in (revoked_token, account_inactive, outage_across_week_boundary,
                         deleted_repository):  # fmt: skip
            started = time.monotonic()
            result = scenario(tmp)
            result["seconds"] = round(time.monotonic() - started, 1)
            results.append(result)
            print(f"{result['name']}: {result['detail']} ({result['seconds']} s)", flush=True)
    if not args.skip_leader and args.pg.startswith("postgresql"):
        result = frozen_leader(args.pg, args.lease, args.retry)
        results.append(result)
        print(f"{result['name']}: {result['detail']}", flush=True)
    by_key = {k: v for r in results for k, v in r.items() if k not in ("name", "detail")}
    summary = {
        "scenarios": len(results),
        "duplicates": sum(r["duplicates"] for r in results),
        "lost": sum(r["lost"] for r in results),
        "revoked_resumed": bool(results[0]["resumed"]),
        "catchup_missed": by_key.get("catchup_missed"),
        "deleted_repo_offered": by_key.get("deleted_repo_offered"),
        "frozen_leader_takeover_s": by_key.get("frozen_leader_takeover_s"),
    }
    summary["pass"] = (
        summary["duplicates"] == 0
        and summary["lost"] == 0
        and summary["revoked_resumed"]
        and summary["catchup_missed"] == 0
        and summary["deleted_repo_offered"] == 0
        and (summary["frozen_leader_takeover_s"] or 999) <= 60
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
