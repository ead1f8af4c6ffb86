"""API cost of the GitHub crawl vs. a naive crawler, on the 135-repository synthetic demo world.

Naive crawler (as goodfirstissue.dev-style tools do it over REST): per repository one
`GET /repos/{o}/{r}` plus one `GET /repos/{o}/{r}/issues?labels=L` per beginner label of the
configured vocabulary (REST `labels=a,b` means AND, and a naive crawler does not know which
labels a repository uses, so it asks label by label), following pagination.

Measured in one run against the in-process fake GitHub:
1. request count of the full naive crawl (all 135 repositories, no latency);
2. the bot's first crawl (GraphQL, token) with 100 ms injected latency per request: requests,
   points, wall time;
3. the bot's re-crawl with nothing changed: requests and points;
   the first crawl's points are also split by query (Meta, Blobs, Issues, Reporters, …), and the
   share of the Issues queries spent on the closed-issue comments (time to a first reply) is
   priced by re-pricing those queries without them;
4. naive wall time with 100 ms latency, measured sequentially on a SAMPLE of repositories and
   extrapolated per request to the full naive request count (a full run would take minutes);
   the output says so.

With `--repos N` it measures the budget instead, on N synthesised repositories spread over 5
lists: the first crawl is run by the real scheduler's crawl job at a virtual `now`; each run
stops before the hourly GraphQL budget runs out and plans a resume job at the budget's reset,
which the bench runs at that job's time (no sleeping: the fake GitHub's clock is the same
virtual time), until the pass is complete; then a re-crawl with nothing changed. It reports the
points of every hour, the largest, and the re-crawl's points.

Usage: uv run python bench/crawl_cost.py [--sample 8] [--latency 0.1] [--seed 7]
       uv run python bench/crawl_cost.py --repos 5000
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import structlog
from rich.console import Console
from rich.table import Table
from sqlmodel import Session, func, select

from bot.config import load_settings
from bot.fakes.catalog import add_to_catalog
from bot.fakes.github import FakeGitHub
from bot.fakes.github.demo_repos import DEMO_REPOS, SEED_LIST
from bot.fakes.github.world import demo_world, synthetic_world
from bot.github import queries
from bot.github.crawl import crawl
from bot.github.crawl_pass import pending_resume
from bot.schedule.scheduler import CRAWL_JOB, CRAWL_RESUME_PREFIX, Jobs, build_scheduler
from bot.store import migrate
from bot.store.db import make_engine
from bot.store.models import Issue, Reporter, Repository

console = Console(stderr=True)


def naive_crawl(base_url: str, repos: list[str], labels: list[str]) -> set[tuple[str, int]]:
    """Sequential REST crawl: repo GET + one issues GET per label (paginated)."""
    found: set[tuple[str, int]] = set()
    headers = {"Authorization": "Bearer bench", "Accept": "application/vnd.github+json"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        for full_name in repos:
            client.get(f"/repos/{full_name}").raise_for_status()
            for label in labels:
                url: str | None = f"/repos/{full_name}/issues"
                params: dict[str, str] | None = {
                    "labels": label,
                    "state": "open",
                    "per_page": "100",
                }
                while url:
                    response = client.get(url, params=params)
                    response.raise_for_status()
                    found |= {(full_name.lower(), i["number"]) for i in response.json()}
                    url = response.links.get("next", {}).get("url")
                    params = None
    return found


def points_by_query(fake: FakeGitHub) -> tuple[dict[str, int], int]:
    """Points of the recorded GraphQL queries by operation name, and what the closed-issue
    comments added to the Issues queries."""
    by_name: dict[str, int] = {}
    comments = 0
    closed_comments = re.compile(
        rf" comments\(first: {queries.CLOSED_COMMENTS}\) \{{ totalCount nodes \{{ author \{{ "
        r"login \} authorAssociation createdAt \} \}"
    )
    for query in fake.stats.queries:
        name = query.split("{", 1)[0].replace("query", "").strip() or "anonymous"
        points = fake.graphql.prepare(query, {})[1]
        by_name[name] = by_name.get(name, 0) + points
        if name == "Issues":
            comments += points - fake.graphql.prepare(closed_comments.sub("", query), {})[1]
    return by_name, comments


def rules_coverage(repos: list[Repository]) -> dict[str, int]:
    """How many crawled repositories state each expectation (what the pick card can show)."""
    read = [r.rules for r in repos if r.rules is not None and r.full_crawled_at is not None]
    return {
        "repos_read": len(read),
        "from_contributing": sum(bool(r.get("contributing")) for r in read),
        "from_readme_only": sum(r.get("source") == ["README.md"] for r in read),
        "no_file": sum(not r.get("source") for r in read),
        "code_of_conduct": sum(bool(r.get("code_of_conduct")) for r in read),
        "assign_first": sum(bool(r.get("assign_first")) for r in read),
        "ai_restricted": sum(r.get("ai_policy") == "restricted" for r in read),
        "ai_disclose": sum(r.get("ai_policy") == "disclose" for r in read),
        "gfi_policy": sum(bool(r.get("gfi_policy")) for r in read),
        "sign_off": sum(bool(r.get("sign_off")) for r in read),
        "cla": sum(bool(r.get("cla")) for r in read),
    }


def seed_catalog(db_path: Path) -> object:
    """A migrated SQLite database holding what the catalog stage stores for the seed list."""
    engine = make_engine(f"sqlite:///{db_path}")
    migrate.upgrade(engine)
    add_to_catalog(engine, (full_name for full_name, *_ in DEMO_REPOS), list_url=SEED_LIST)
    return engine


class VirtualClock:
    """The bench's `now`: the scheduler's job times, shared with the fake GitHub."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def epoch(self) -> float:
        return self.now.timestamp()


def budget_bench(repos: int, seed: int, max_runs: int = 48) -> dict[str, object]:
    """First crawl of `repos` repositories over as many hourly runs as the budget needs (driven
    by the scheduler's crawl and resume jobs), then a re-crawl with nothing changed."""
    world, lists = synthetic_world(repos, seed=seed)
    clock = VirtualClock(world.now)
    with FakeGitHub(world, clock=clock.epoch) as fake, tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(github_api_url=fake.base_url, GITHUB_TOKEN="bench-token")
        engine = make_engine(f"sqlite:///{Path(tmp) / 'scale.db'}")
        migrate.upgrade(engine)
        for i, names in enumerate(lists):
            add_to_catalog(engine, names, list_url=f"https://example.invalid/list-{i}.md")
        jobs = Jobs(
            crawl=lambda: crawl(engine, settings, now=clock.now),
            digest_tick=lambda: None,
            cleanup=lambda: None,
            crawl_resume_at=lambda: pending_resume(engine),
        )
        scheduler = build_scheduler(settings, jobs, run_digest_now=False, now=clock.now)
        scheduler.start(paused=True)  # the bench runs the due job itself, at its time
        hours: list[dict[str, object]] = []
        started = time.perf_counter()
        try:
            job = scheduler.get_job(CRAWL_JOB)
            while job is not None and len(hours) < max_runs:
                if job.id != CRAWL_JOB:
                    scheduler.remove_job(job.id)  # as APScheduler does with a one-off job
                report = job.func()
                bucket = fake.budget("graphql")
                hours.append(
                    {
                        "at": clock.now.isoformat(),
                        "points": report.points,
                        "window_used": bucket.used,
                        "left": bucket.remaining,
                        "done": report.pass_done,
                        "stopped": report.stopped,
                    }
                )
                job = next(
                    (j for j in scheduler.get_jobs() if j.id.startswith(CRAWL_RESUME_PREFIX)),
                    None,
                )
                if job is not None:
                    clock.now = job.next_run_time.astimezone(UTC)
            first_wall_s = time.perf_counter() - started
            completed = report.pass_done == report.pass_total == repos
            clock.now += timedelta(hours=24)  # the next daily crawl: nothing changed
            budget_limit = fake.limits["graphql"]
            again = scheduler.get_job(CRAWL_JOB).func()
            refused = fake.stats.refused  # over every run, re-crawl included
        finally:
            scheduler.shutdown(wait=False)
        with Session(engine) as session:  # type: ignore[arg-type]
            stored_open = session.exec(
                select(func.count()).select_from(Issue).where(Issue.state == "open")
            ).one()
        engine.dispose()
    per_hour = [int(h["window_used"]) for h in hours]  # type: ignore[call-overload]
    for h in hours:
        console.print(
            f"{h['at']}: {h['points']} points (window {h['window_used']}, left {h['left']}), "
            f"{h['done']}/{repos} done" + (f" - stopped: {h['stopped']}" if h["stopped"] else "")
        )
    console.print(
        f"re-crawl: {again.points} points, {again.repos_unchanged} unchanged of {repos}; "
        f"first crawl {sum(int(h['points']) for h in hours)} points over {len(hours)} runs"  # type: ignore[call-overload]
    )
    return {
        "repos": repos,
        "lists": len(lists),
        "completed": completed,
        "runs": len(hours),
        "first_crawl_points": sum(int(h["points"]) for h in hours),  # type: ignore[call-overload]
        "points_per_hour": per_hour,
        "max_points_per_hour": max(per_hour),
        "budget_per_hour": budget_limit,
        "budget_share": settings.github.max_budget_share,
        "budget_reserve": settings.github.budget_reserve,
        "refused_queries": refused,
        "issues_stored": stored_open,
        "first_crawl_wall_s": round(first_wall_s, 1),
        "recrawl_points": again.points,
        "recrawl_requests": again.requests,
        "recrawl_unchanged": again.repos_unchanged,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=8, help="repos timed for the naive wall")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added per request")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repos", type=int, help="synthesise N repositories: budget per hour")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    if args.repos:
        print(json.dumps(budget_bench(args.repos, args.seed)))
        return

    world = demo_world(seed=args.seed)
    repos = [full_name for full_name, *_ in DEMO_REPOS]
    with FakeGitHub(world) as fake, tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(github_api_url=fake.base_url, GITHUB_TOKEN="bench-token")
        vocabulary = settings.github.beginner_labels

        # 1. Naive request count (no latency).
        started = time.perf_counter()
        naive_found = naive_crawl(fake.base_url, repos, vocabulary)
        naive_requests = fake.stats.requests
        naive_nolat_s = time.perf_counter() - started

        # 4. Naive wall time on a sample, with latency, extrapolated per request.
        sample = repos[: args.sample]
        fake.stats.reset()
        fake.faults.latency = args.latency
        started = time.perf_counter()
        naive_crawl(fake.base_url, sample, vocabulary)
        sample_s = time.perf_counter() - started
        sample_requests = fake.stats.requests
        naive_wall_s = sample_s / sample_requests * naive_requests

        # 2. The bot's first crawl, same latency.
        engine = seed_catalog(Path(tmp) / "bench.db")
        fake.stats.reset()
        started = time.perf_counter()
        first = crawl(engine, settings, now=world.now)  # type: ignore[arg-type]
        bot_wall_s = time.perf_counter() - started
        bot_requests, bot_points = fake.stats.requests, fake.stats.points
        by_query, comment_points = points_by_query(fake)

        # 3. Re-crawl, nothing changed.
        fake.stats.reset()
        started = time.perf_counter()
        again = crawl(engine, settings, now=world.now)  # type: ignore[arg-type]
        recrawl_wall_s = time.perf_counter() - started
        recrawl_requests, recrawl_points = fake.stats.requests, fake.stats.points

        with Session(engine) as session:  # type: ignore[arg-type]
            stored_open = session.exec(
                select(func.count()).select_from(Issue).where(Issue.state == "open")
            ).one()
            coverage = rules_coverage(list(session.exec(select(Repository))))
            reporters = session.exec(select(func.count()).select_from(Reporter)).one()
        engine.dispose()  # type: ignore[attr-defined]

    result = {
        "repos": len(repos),
        "naive_requests": naive_requests,
        "naive_issues_found": len(naive_found),
        "bot_requests": bot_requests,
        "bot_points": bot_points,
        "bot_issues_stored": stored_open,
        "bot_points_by_query": by_query,
        "bot_points_closed_comments": comment_points,
        "reporters_stored": reporters,
        "rules_coverage": coverage,
        "bot_status": first.status,
        "recrawl_requests": recrawl_requests,
        "recrawl_points": recrawl_points,
        "recrawl_unchanged": again.repos_unchanged,
        "latency_s": args.latency,
        "naive_wall_s": round(naive_wall_s, 2),
        "naive_wall_extrapolated_from_repos": len(sample),
        "naive_wall_sample_s": round(sample_s, 2),
        "naive_wall_sample_requests": sample_requests,
        "naive_no_latency_s": round(naive_nolat_s, 2),
        "bot_wall_s": round(bot_wall_s, 2),
        "recrawl_wall_s": round(recrawl_wall_s, 2),
        "request_ratio": round(naive_requests / max(bot_requests, 1), 1),
        "wall_ratio": round(naive_wall_s / bot_wall_s, 1),
    }
    table = Table(title=f"Crawl cost, {len(repos)}-repo synthetic demo world (seed {args.seed})")
    for column in ("", "naive REST", "bot first crawl", "bot re-crawl"):
        table.add_column(column, justify="right")
    table.add_row("requests", str(naive_requests), str(bot_requests), str(recrawl_requests))
    table.add_row("GraphQL points", "-", str(bot_points), str(recrawl_points))
    table.add_row(
        f"wall @ {args.latency * 1000:.0f} ms/request",
        f"{naive_wall_s:.1f} s*",
        f"{bot_wall_s:.1f} s",
        f"{recrawl_wall_s:.1f} s",
    )
    table.add_row("open beginner issues", str(len(naive_found)), str(stored_open), "")
    print_ = Console().print
    print_(table)
    print_(
        f"* naive wall time extrapolated: {sample_requests} requests over {len(sample)} repos "
        f"took {sample_s:.1f} s sequentially -> x {naive_requests}/{sample_requests} requests."
    )
    print_(
        f"requests: naive/bot = {result['request_ratio']}x (target >= 50x); "
        f"re-crawl points = {recrawl_points} (target <= 5); "
        f"wall: naive/bot = {result['wall_ratio']}x (target >= 25x)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
