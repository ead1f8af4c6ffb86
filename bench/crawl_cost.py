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

Usage: uv run python bench/crawl_cost.py [--sample 8] [--latency 0.1] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import tempfile
import time
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
from bot.fakes.github.world import demo_world
from bot.github import queries
from bot.github.crawl import crawl
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=8, help="repos timed for the naive wall")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added per request")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

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
