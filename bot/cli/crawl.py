"""`matchmaker crawl [--repo owner/name] [--dry-run]`: ask GitHub which beginner issues are free."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.cli.context import console, database_errors, fail, ready_engine, settings
from bot.cli.hints import EMPTY_CATALOG
from bot.github.crawl import CrawlReport
from bot.github.crawl import crawl as run_crawl
from bot.github.persist import load_targets


def crawl(
    repo: str | None = typer.Option(
        None, "--repo", help="Crawl only this repository (owner/name, as in the catalog)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Ask GitHub but store nothing; show what a crawl would find."
    ),
) -> None:
    """Crawl GitHub for available beginner issues in the catalog's repositories."""
    if repo is not None and (repo.count("/") != 1 or not all(repo.split("/"))):
        raise fail(f"--repo must look like owner/name, got {repo!r}")
    current = settings()
    now = datetime.now(UTC)  # the command's one clock reading
    if repo is None:
        with database_errors():
            empty = not load_targets(ready_engine())
        if empty:
            raise fail(EMPTY_CATALOG)
    if current.github_token is None:
        console.print(
            "[yellow]No GITHUB_TOKEN:[/] using unauthenticated REST search "
            "(10 requests/min; slow but real). Set GITHUB_TOKEN for the fast GraphQL crawl."
        )
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            "issues {task.fields[issues]} · points {task.fields[points]} · left {task.fields[left]}"
        ),
        TimeElapsedColumn(),
    )
    with database_errors(), Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("repositories", total=None, issues=0, points=0, left="?")

        def show(report: CrawlReport) -> None:
            bar.update(
                task,
                total=report.repos_total,
                completed=report.repos_done + report.repos_failed + report.repos_gone,
                issues=report.issues_seen,
                points=report.points,
                left="?" if report.budget_left is None else report.budget_left,
            )

        # an unknown --repo raises CrawlTargetError: the CLI prints it as one line, exit code 1
        report = run_crawl(
            ready_engine(), current, repo=repo, dry_run=dry_run, progress=show, now=now
        )
    console.print(summary_table(report))
    if report.stopped:
        console.print(f"[yellow]Stopped early:[/] {report.stopped}", markup=True)
    for name, reason in list(report.failures.items())[:10]:
        console.print(f"[red]failed[/] {name}: {reason}", highlight=False, markup=True)
    if report.status == "failed" and report.repos_total:
        raise typer.Exit(1)


def summary_table(report: CrawlReport) -> Table:
    """The crawl summary as a rich table."""
    title = "Crawl summary" + (" (dry run: nothing stored)" if report.dry_run else "")
    table = Table(title=title, show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    budget = (
        "?"
        if report.budget_left is None
        else f"{report.budget_left} of {report.budget_limit or '?'}"
    )
    rows = [
        ("mode", report.mode),
        ("status", report.status),
        ("repositories", str(report.repos_total)),
        ("  crawled", str(report.repos_done - report.repos_unchanged)),
        ("  unchanged (skipped)", str(report.repos_unchanged)),
        ("  failed (retried next run)", str(report.repos_failed)),
        ("  gone from GitHub (not offered)", str(report.repos_gone)),
        ("beginner issues seen", str(report.issues_seen)),
        ("  available now", str(report.issues_available)),
        ("  re-checked / no longer open", f"{report.issues_rechecked} / {report.issues_closed}"),
        ("API requests", str(report.requests)),
        ("GraphQL points", str(report.points)),
        ("budget left", budget),
    ]
    if report.estimated_seconds is not None:
        rows.append(("estimated search time", f"{report.estimated_seconds / 60:.1f} min"))
    if report.pass_id is not None:
        rows.append(("crawl pass: repositories done", f"{report.pass_done} of {report.pass_total}"))
    if report.resume_at is not None:
        rows.append(("  resumes (budget resets)", f"{report.resume_at:%Y-%m-%d %H:%M} UTC"))
    for name, value in rows:
        table.add_row(name, value)
    return table
