"""Ack latency of `/matchmaker picks` in HTTP mode under 50 concurrent requests.

Seeds a database with 2,000 members and 5,000 open beginner issues (synthetic), runs the app
behind its HTTP server in a child process (as in production: Slack is outside) against the fake
Slack, warms it up (one request, then one burst like the measured one from other members, so
its thread pools and database connections are as a serving app has them), fires 50 signed
`/matchmaker picks` requests at once and measures the time to HTTP 200
(Slack wants an ack within 3 s; target p99 ≤ 0.3 s). Then waits until every reply (with
picks) has arrived at the fake Slack's response URLs and reports, per request, the time from
sending it to its picks arriving (`reply_p50_ms`/`reply_p99_ms`, target p99 ≤ 0.5 s), and how
often the app loaded the ranker's inputs (`input_loads`: once at start, as `serve` does).

Usage: uv run python bench/slack_ack.py [--requests 50] [--db-url URL]
(a PostgreSQL URL gets a throw-away schema, dropped at the end)
The last line is a JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from bot.config.settings import load_settings
from bot.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from bot.fakes.slack.client import SlackLike, http_server
from bot.fakes.slack.server import Call
from bot.store import migrate
from bot.store.db import make_engine
from bot.store.models import Issue, Member, Repository

LANGS = ["Python", "Go", "Rust", "Java", "C++", "TypeScript"]
TOPICS = ["raft", "databases", "kubernetes", "streaming", "storage", "consensus", "observability"]
LEVELS = ["first-timer", "some", "experienced"]


def seed(engine, members: int, issues: int, rng: random.Random) -> None:
    """Repositories with 20 issues each, and members with random stacks (bulk inserts)."""
    now = datetime.now(UTC)
    repos = max(1, issues // 20)
    with engine.begin() as conn:
        conn.execute(
            insert(Repository),
            [
                {
                    "full_name": f"org{r}/project{r}",
                    "node_id": f"R_{r}",
                    "description": "distributed system",
                    "primary_language": LANGS[r % len(LANGS)],
                    "languages": {LANGS[r % len(LANGS)]: 10_000},
                    "topics": rng.sample(TOPICS, 2),
                    "beginner_labels": ["good first issue"],
                    "stars": rng.randint(10, 20_000),
                    "forks": 10,
                    "open_issues": 20,
                    "archived": False,
                    "disabled": False,
                    "has_contributing": True,
                    "pushed_at": now - timedelta(days=rng.randint(0, 60)),
                    "maintainer_response_hours": rng.uniform(2, 200),
                    "crawled_at": now,
                    "created_at": now,
                }
                for r in range(repos)
            ],
        )
        conn.execute(
            insert(Issue),
            [
                {
                    "node_id": f"I_{i}",
                    "repository_id": i % repos + 1,
                    "number": 1000 + i,
                    "title": f"Improve error message in module {i}",
                    "body": "Small, well-scoped change.",
                    "url": f"https://github.com/org{i % repos}/project{i % repos}/issues/{i}",
                    "state": "open",
                    "is_pull_request": False,
                    "locked": False,
                    "pinned": False,
                    "labels": ["good first issue"],
                    "assignees": [],
                    "comments_count": rng.randint(0, 8),
                    "reactions_count": 0,
                    "open_pr_count": 0,
                    "claimed": False,
                    "created_at": now - timedelta(days=rng.randint(1, 300)),
                    "updated_at": now - timedelta(days=rng.randint(0, 30)),
                    "last_activity_at": now - timedelta(days=rng.randint(0, 30)),
                    "crawled_at": now,
                }
                for i in range(issues)
            ],
        )
        conn.execute(
            insert(Member),
            [
                {
                    "team_id": "T0001",
                    "slack_user_id": f"U{m:06d}",
                    "languages": {rng.choice(LANGS).lower(): 1.0},
                    "topics": {t: 1.0 for t in rng.sample(TOPICS, 2)},
                    "level": rng.choice(LEVELS),
                    "digest_enabled": True,
                    "digest_day": "mon",
                    "digest_time": "09:00",
                    "timezone": "UTC",
                    "digest_every_weeks": 1,
                    "ignored_digests": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for m in range(members)
            ],
        )


def settle(engine) -> None:  # type: ignore[no-untyped-def]
    """Planner statistics, visibility maps and a checkpoint as a long-lived database has them
    (PostgreSQL), so autovacuum's first pass over the fresh tables and the checkpoint of the
    seed's writes do not land inside the burst."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        conn.execute(text("CHECKPOINT"))


def scratch_schema(url: str) -> tuple[str, str]:
    """A new PostgreSQL schema for this run and a URL whose search_path points at it."""
    schema = f"slack_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False), schema


def drop_schema(url: str, schema: str) -> None:
    """Drop the run's schema."""
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def serve(db_url: str, slack_url: str) -> None:
    """Child process: the app alone, as in production (Slack's requests come from outside)."""
    engine = make_engine(db_url)
    settings = load_settings(
        slack_mode="http",
        slack_signing_secret=SIGNING_SECRET,
        slack_bot_token=BOT_TOKEN,
        slack_api_url=slack_url,
    )
    server = http_server(settings, engine, slack_url)
    url = server.start()
    try:  # as `matchmaker serve` does at start (bot.slack.runner.warm_picks), waited for here
        from bot.match.inputs import CACHE, warm
    except ImportError:  # a tree without the in-memory inputs (for a before/after comparison)
        print("NOCACHE", flush=True)
    else:
        CACHE.on_load = lambda inputs: print(f"LOAD {inputs.table.size}", flush=True)
        warm(engine, settings, datetime.now(UTC))
    print(f"URL {url}", flush=True)
    threading.Event().wait()


def fire_burst(
    url: str, clients: list[httpx.Client], prepared: list[tuple[str, dict[str, str]]]
) -> tuple[list[float], list[float], list[int]]:
    """POST every prepared request at once (one thread and client each): (seconds to the HTTP
    answer, time.monotonic() when sent (the fake Slack's clock), status) per request."""
    n = len(prepared)
    barrier = threading.Barrier(n)
    latencies, sent_at, statuses = [0.0] * n, [0.0] * n, [0] * n

    def fire(i: int) -> None:
        body, headers = prepared[i]
        barrier.wait()
        sent_at[i] = time.monotonic()
        t0 = time.perf_counter()
        response = clients[i].post(url, content=body, headers=headers)
        latencies[i] = time.perf_counter() - t0
        statuses[i] = response.status_code

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, sent_at, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--slack-url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--issues", type=int, default=5000)
    parser.add_argument("--db-url", default="")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.serve:
        serve(args.db_url, args.slack_url)
        return
    rng = random.Random(args.seed)

    tmp = tempfile.TemporaryDirectory()
    db_url = args.db_url or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    schema = None
    if make_url(db_url).get_backend_name() == "postgresql":
        db_url, schema = scratch_schema(db_url)
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    started = time.perf_counter()
    seed(engine, args.members, args.issues, rng)
    settle(engine)
    print(
        f"seeded {args.members} members, {args.issues} issues in "
        f"{time.perf_counter() - started:.1f}s ({engine.dialect.name})"
    )

    fake = FakeSlack()
    fake.start()
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--db-url", db_url, "--slack-url", fake.base_url],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = ""
    cached = True
    for out in child.stdout:  # the child's logs, then the URL once the app is warm
        cached = cached and not out.startswith("NOCACHE")
        if out.startswith("URL ") or not out:
            line = out.strip()
            break
    if not line.startswith("URL "):
        child.kill()
        raise SystemExit(f"the app did not start: {line!r}")
    url = line.removeprefix("URL ")
    # keep reading the child's output (its logs) so it never blocks on a full pipe; count the
    # loads of the ranker's inputs after the warm-up at start (the seed is one generation)
    loads_after_start: list[str] = []

    def read_child() -> None:
        assert child.stdout is not None
        for out in child.stdout:
            if out.startswith("LOAD "):
                loads_after_start.append(out)

    threading.Thread(target=read_child, daemon=True).start()

    slack = SlackLike(url, fake, SIGNING_SECRET)

    def request(user: str, key: str) -> tuple[str, dict[str, str]]:
        return slack.signed_command("picks", user_id=user, response_url=fake.response_url(key))

    # warm-up (model load, first query plans): one request, not measured
    slack.command("picks", user_id="U999999")
    fake.wait_for("response_url", 1, timeout=120)

    n = args.requests
    clients = [httpx.Client(timeout=30) for _ in range(n)]
    users = rng.sample(range(args.members), 2 * n)
    # a second warm-up, a burst like the measured one (other members): the app's thread pools
    # and database connections are as a server that has been serving has them, not as at start
    warm = [request(f"U{u:06d}", f"warm-{i}") for i, u in enumerate(users[n:])]
    fire_burst(url, clients, warm)
    fake.wait_for("response_url", n + 1, timeout=300)
    time.sleep(2)  # the warm-up's follow-up work (App Home refreshes) is done

    keys = [f"bench-{i}" for i in range(n)]
    prepared = [request(f"U{u:06d}", k) for u, k in zip(users[:n], keys, strict=True)]
    burst = time.perf_counter()
    latencies, sent_at, statuses = fire_burst(url, clients, prepared)
    fake.wait_for("response_url", 2 * n + 1, timeout=300)
    all_replies_s = time.perf_counter() - burst

    calls: dict[str, Call] = {}
    for call in fake.calls_for("response_url"):
        calls.setdefault(call.args.get("key"), call)
    replies = {key: call.args for key, call in calls.items()}
    arrived = [replies[k] for k in keys if k in replies]
    # per request: sent → its picks posted to its response_url (the first post for that key)
    reply_ms = [(calls[k].at - sent_at[i]) * 1000 for i, k in enumerate(keys) if k in calls]
    r50 = percentile(reply_ms, 50) if reply_ms else float("nan")
    r99 = percentile(reply_ms, 99) if reply_ms else float("nan")
    with_picks = sum(1 for r in arrived if "pick_interested" in json.dumps(r.get("blocks", [])))
    ephemeral = sum(1 for r in arrived if r.get("response_type") == "ephemeral")
    ms = [x * 1000 for x in latencies]
    p50, p99 = percentile(ms, 50), percentile(ms, 99)
    for client in clients:
        client.close()
    slack.close()
    child.terminate()
    child.wait(10)
    fake.stop()
    engine.dispose()
    if schema:
        drop_schema(args.db_url, schema)

    print(
        f"requests: {args.requests} concurrent `/matchmaker picks`, HTTP 200: {statuses.count(200)}"
    )
    print(
        f"time to HTTP 200: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(ms):.1f} ms, "
        f"mean {statistics.mean(ms):.1f} ms (target p99 ≤ 300 ms: {p99 / 300:.2f}× of budget)"
    )
    print(
        f"replies via the fake Slack: {len(arrived)}/{args.requests} "
        f"({with_picks} with pick cards, {ephemeral} ephemeral); all arrived after "
        f"{all_replies_s:.1f} s"
    )
    if cached:
        print(
            f"ranker input loads in the app: 1 at start + {len(loads_after_start)} while serving "
            "(one per generation: nothing was crawled during the run)"
        )
    print(
        f"time to picks (request sent → response_url): p50 {r50:.1f} ms, p99 {r99:.1f} ms "
        f"(target p99 ≤ 500 ms: {r99 / 500:.2f}× of budget)"
    )
    print(
        json.dumps(
            {
                "requests": args.requests,
                "http_200": statuses.count(200),
                "p50_ms": round(p50, 1),
                "p99_ms": round(p99, 1),
                "max_ms": round(max(ms), 1),
                "p99_budget_ratio": round(p99 / 300, 3),
                "replies": len(arrived),
                "replies_with_picks": with_picks,
                "all_replies_s": round(all_replies_s, 2),
                "reply_p50_ms": round(r50, 1),
                "reply_p99_ms": round(r99, 1),
                "input_loads": 1 + len(loads_after_start) if cached else None,
                "members": args.members,
                "issues": args.issues,
                "db": engine.dialect.name,
            }
        )
    )


if __name__ == "__main__":
    main()
