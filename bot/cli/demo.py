"""`matchmaker demo`: the whole pipeline offline on synthetic data, digests in the terminal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.cli.context import console, fail, settings
from bot.cli.links import issue_cell, print_links
from bot.errors import SetupError
from bot.logs import configure_logging
from bot.words import plural

DEFAULT_OUT_DIR = Path("demo-output")
FAKES_PACKAGES = {"graphql", "aiohttp"}  # the `fakes` dependency group (not in the image)

if TYPE_CHECKING:  # the demo pulls in the fake servers: import them only when it runs
    from bot.demo.run import DemoResult, MemberDigest


def _digest_table(digest: MemberDigest) -> Table:
    member = digest.member
    table = Table(
        title=f"{member.name} — stack: {member.stack} · level: {member.level}",
        title_justify="left",
        show_lines=True,
        expand=True,
    )
    table.add_column("#", justify="right", width=2)
    table.add_column("Repository · issue", ratio=3)
    table.add_column("Why", ratio=2)
    table.add_column("Signals", ratio=2)
    if not digest.picks:
        table.add_row("-", "No available picks for this stack right now.", "", "")
    for rank, pick in enumerate(digest.picks, start=1):
        signals = pick.signals
        facts = [
            f"labels: {', '.join(pick.labels[:3])}" if pick.labels else "",
            f"{plural(round(signals['age_days']), 'day')} old"
            if signals.get("age_days") is not None
            else "",
            plural(int(signals.get("comments", 0)), "comment"),
        ]
        if signals.get("maintainer_response_hours") is not None:
            facts.append(f"maintainers reply in ~{signals['maintainer_response_hours'] / 24:.0f} d")
        table.add_row(
            str(rank),
            issue_cell(pick.repo_full_name, pick.issue_number, pick.title, pick.url),
            Text(" · ".join(pick.reasons)),
            Text("\n".join(f for f in facts if f)),
        )
    return table


def _print(result: DemoResult) -> None:
    crawl = result.crawl
    counts = result.lists[0].counts if result.lists else {}
    console.print(
        f"Catalog: {plural(counts.get('entries', 0), 'entry', 'entries')}, "
        f"{plural(counts.get('repositories', 0), 'repository', 'repositories')}. "
        f"Crawl ({crawl.mode}): {crawl.repos_done}/{crawl.repos_total} repositories, "
        f"{plural(crawl.issues_seen, 'beginner issue')}, {crawl.issues_available} available, "
        f"{plural(crawl.requests, 'API request')}, {plural(crawl.points, 'GraphQL point')}."
    )
    for digest in result.digests:
        console.print(_digest_table(digest))
        print_links(console, enumerate((pick.url for pick in digest.picks), start=1))
    console.print(f"Block Kit JSON for Slack's Block Kit Builder: {result.blocks_file}")
    console.print(f"Demo database (rebuilt on every run): {result.database}")


def _demo_stage() -> tuple[str, Callable[..., DemoResult]]:
    """The demo's notice and runner; without the `fakes` group installed, a `SetupError`."""
    try:
        from bot.demo.run import SYNTHETIC_NOTICE, run_demo
    except ModuleNotFoundError as exc:
        if exc.name not in FAKES_PACKAGES:
            raise
        raise SetupError(
            f"the offline demo needs the fake GitHub server's packages ({exc.name} is missing): "
            "in a checkout run `make run` or `uv sync` (they install the `fakes` dependency "
            "group); a deployed bot runs `matchmaker serve` instead"
        ) from None
    return SYNTHETIC_NOTICE, run_demo


def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Where to write the Block Kit JSON.")
    ] = DEFAULT_OUT_DIR,
    seed: int = typer.Option(7, help="Seed of the synthetic world (same seed, same world)."),
    picks: int = typer.Option(3, min=1, max=10, help="Picks per member."),
    to_slack: str = typer.Option(
        "",
        "--to-slack",
        metavar="CHANNEL",
        help="Also post the digests to this Slack channel or user id (needs SLACK_BOT_TOKEN).",
    ),
    verbose: bool = typer.Option(False, "--verbose", help="Show the pipeline's log lines."),
) -> None:
    """Run the whole pipeline offline on synthetic demo data and print each member's digest."""
    notice, run_demo = _demo_stage()

    current = settings()
    if to_slack and current.slack_bot_token is None:
        raise fail("--to-slack needs SLACK_BOT_TOKEN in the environment.")
    if not verbose:
        configure_logging(current.model_copy(update={"log_level": "warning"}))
    console.print(
        Panel(
            f"{notice}\nA local fake GitHub serves a synthetic world for the "
            "135 repositories of awesome-distributed-system-projects; the real catalog, crawler "
            "and matcher run against it. Nothing leaves this machine.",
            title="Matchmaker demo",
        )
    )
    result = run_demo(current, out_dir=out_dir, seed=seed, picks=picks)
    _print(result)
    if to_slack:
        from bot.deliver.senders import SlackSender

        sender = SlackSender.from_settings(current)
        for digest in result.digests:
            sender.send(
                to_slack, blocks=digest.blocks, text=digest.text, key=f"demo-{digest.member_id}"
            )
        console.print(f"Posted {plural(len(result.digests), 'digest')} to {to_slack}.")
