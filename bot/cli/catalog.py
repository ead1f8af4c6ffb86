"""`matchmaker catalog …`: show, add, remove and sync the awesome lists."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session, col, select

from bot.catalog.errors import CatalogError
from bot.catalog.fetch import FetchResult, ListFetcher, normalize_location
from bot.catalog.normalize import GITHUB_REPO, GITHUB_SUBPATH, classify_url
from bot.catalog.parse import parse_awesome_list
from bot.catalog.sync import deactivate_list, store_parsed, sync_lists
from bot.catalog.types import ParsedList
from bot.cli.context import console, database_errors, fail, plain, ready_engine, settings
from bot.sanitize import strip_control
from bot.store.db import session_scope
from bot.store.models import ListEntry, ListSource, Repository
from bot.words import plural

app = typer.Typer(
    help="Awesome lists: show their entries, add or remove a list, sync them now.",
    no_args_is_help=True,
)

LIST_HELP = 'A raw URL, "owner/repo" (its README via the GitHub API) or a local Markdown file.'


def _fetch_and_parse(location: str) -> tuple[FetchResult, ParsedList]:
    """Fetch and parse one list or end the command with a one-line error."""
    try:
        key = normalize_location(location)
        with ListFetcher(settings()) as fetcher:
            fetched = fetcher.fetch(key)
        return fetched, parse_awesome_list(fetched.text or "", key)
    except CatalogError as exc:
        raise fail(f"{location}: {exc}") from None


def _stored_entries() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Active entries of enabled lists, and a summary of every stored list."""
    with database_errors(), Session(ready_engine()) as session:
        sources = session.exec(select(ListSource).order_by(col(ListSource.id))).all()
        rows = session.exec(
            select(ListEntry, ListSource.url)
            .join(ListSource, col(ListSource.id) == ListEntry.list_id)
            .where(ListEntry.active, ListSource.enabled)
            .order_by(col(ListEntry.list_id), col(ListEntry.id))
        ).all()
    entries = []
    for entry, list_url in rows:
        entries.append(
            {
                "name": entry.name,
                "url": entry.url,
                "repo": classify_url(entry.url)[1],
                "link_kind": entry.link_kind,
                "section": entry.section,
                "language": entry.language,
                "topics": list(entry.topics or []),
                "description": entry.description,
                "warning": entry.warning,
                "list": list_url,
            }
        )
    lists = [
        {
            "url": s.url,
            "enabled": s.enabled,
            "last_fetched_at": s.last_fetched_at.isoformat() if s.last_fetched_at else None,
            "last_error": s.last_error,
            "counts": s.counts or {},
        }
        for s in sources
    ]
    return entries, lists


def _gone_repositories() -> list[dict[str, Any]]:
    """Repositories GitHub reports as deleted: not crawled for issues, never offered."""
    with database_errors(), Session(ready_engine()) as session:
        rows = session.exec(
            select(Repository)
            .where(col(Repository.gone_at).is_not(None))
            .order_by(col(Repository.full_name))
        ).all()
    return [
        {
            "repo": r.full_name,
            "gone_since": r.gone_at.isoformat() if r.gone_at else None,
            "reason": r.gone_reason,
        }
        for r in rows
    ]


def _render_gone(gone: list[dict[str, Any]]) -> None:
    table = Table(title="Repositories GitHub reports as gone (their issues are not offered)")
    for column in ("Repository", "Gone since", "Reason"):
        table.add_column(column, overflow="fold")
    for g in gone:
        table.add_row(g["repo"], (g["gone_since"] or "")[:16].replace("T", " "), g["reason"] or "")
    console.print(table)


def _counts(entries: list[dict[str, Any]]) -> dict[str, int]:
    github = [e for e in entries if e["link_kind"] in (GITHUB_REPO, GITHUB_SUBPATH)]
    repos = {e["repo"] for e in github}
    return {
        "entries": len(entries),
        "github_links": len(github),
        "repositories": len(repos),
        "duplicates": len(github) - len(repos),
        "not_crawlable": len(entries) - len(github),
        "suspect_links": sum(1 for e in entries if e.get("warning")),
    }


def _render(entries: list[dict[str, Any]], counts: dict[str, int], title: str) -> None:
    table = Table(title=title, show_lines=False)
    for column in ("Section", "Name", "Repository", "Language", "Topics"):
        table.add_column(column, overflow="fold")
    for e in entries:
        repo = plain(e["repo"]) if e["repo"] else plain(f"not crawlable: {e['url']}", "dim")
        if e.get("warning"):
            repo.append(" (check link)", style="yellow")
        if e.get("gone"):
            repo.append(" (gone from GitHub)", style="red")
        table.add_row(
            plain(e["section"] or "-"),
            plain(e["name"]),
            repo,
            plain(e["language"] or ""),
            plain(", ".join(e["topics"])),
        )
    console.print(table)
    console.print(
        f"{plural(counts.get('entries', 0), 'entry', 'entries')} · "
        f"{plural(counts.get('github_links', 0), 'GitHub link')} · "
        f"{plural(counts.get('repositories', 0), 'repository', 'repositories')} · "
        f"{plural(counts.get('duplicates', 0), 'duplicate')} · "
        f"{counts.get('not_crawlable', 0)} not crawlable · "
        f"{plural(counts.get('suspect_links', 0), 'suspect link')}",
        highlight=False,
        soft_wrap=True,
    )
    if counts.get("uncounted_links"):
        console.print(
            f"[yellow]{counts['uncounted_links']} GitHub links are in no entry[/] (a shape the "
            "parser does not read); `catalog show --list <list> --json` lists them",
            highlight=False,
            soft_wrap=True,
        )


@app.command()
def show(
    list_location: str | None = typer.Option(
        None, "--list", help=f"Parse this list now instead of showing stored ones. {LIST_HELP}"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Show catalog entries (section, repository, language, topics) and counts."""
    if list_location is not None:
        _, parsed = _fetch_and_parse(list_location)
        entries = [e.to_json() for e in parsed.entries]
        counts = parsed.counts
        doc: dict[str, Any] = {
            "source": parsed.source,
            "entries": entries,
            "counts": counts,
            "uncounted": [link.to_json() for link in parsed.uncounted],
        }
        title = parsed.title or parsed.source
    else:
        entries, lists = _stored_entries()
        gone = _gone_repositories()
        gone_names = {g["repo"] for g in gone}
        for entry in entries:
            entry["gone"] = (entry["repo"] or "").lower() in gone_names
        counts = {"lists": sum(1 for s in lists if s["enabled"]), **_counts(entries)}
        counts["uncounted_links"] = sum(
            int(s["counts"].get("uncounted_links", 0)) for s in lists if s["enabled"]
        )
        counts["gone_repositories"] = len(gone)
        doc = {"entries": entries, "counts": counts, "lists": lists, "gone_repositories": gone}
        title = "Catalog"
        if not lists and not as_json:
            console.print("No lists stored yet: run `matchmaker catalog sync`.")
            return
    if as_json:
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    _render(entries, counts, title)
    if doc.get("gone_repositories"):
        _render_gone(doc["gone_repositories"])


@app.command()
def add(location: str = typer.Argument(..., help=LIST_HELP)) -> None:
    """Add a list (or re-enable a removed one) and store it now; nothing is stored if it fails."""
    fetched, parsed = _fetch_and_parse(location)
    with database_errors(), session_scope(ready_engine()) as session:
        source = session.exec(select(ListSource).where(ListSource.url == parsed.source)).first()
        existed = source is not None and source.enabled
        if source is None:
            source = ListSource(url=parsed.source)
        source.enabled = True
        session.add(source)
        session.flush()
        report = store_parsed(session, source.id, parsed, etag=fetched.etag)
    verb = "Refreshed" if existed else "Added"
    console.print(f"{verb} {report.summary()}", highlight=False, soft_wrap=True)


@app.command()
def remove(location: str = typer.Argument(..., help=LIST_HELP)) -> None:
    """Stop crawling a list; its entries are kept as inactive history."""
    try:
        key = normalize_location(location)
    except CatalogError as exc:
        raise fail(f"{location}: {exc}") from None
    configured = set()
    for item in settings().catalog.lists:
        try:
            configured.add(normalize_location(item))
        except CatalogError:
            continue
    with database_errors(), session_scope(ready_engine()) as session:
        exists = session.exec(select(ListSource).where(ListSource.url == key)).first()
        if exists is None and key not in configured:
            raise fail(f"{location}: not in the catalog (see `matchmaker catalog lists`)")
        if exists is None:
            session.add(ListSource(url=key, enabled=False))
            count = 0
        else:
            count = deactivate_list(session, key)
    console.print(
        f"Removed {key}: {plural(count, 'entry', 'entries')} marked inactive (history kept).",
        highlight=False,
        soft_wrap=True,
    )
    if key in configured:
        console.print(
            "Note: it is also in catalog.lists of config/matchmaker.toml; it stays removed until "
            "`matchmaker catalog add`, but you may want to delete it from the file too.",
            highlight=False,
            soft_wrap=True,
        )


@app.command()
def sync(
    list_location: str | None = typer.Option(None, "--list", help=f"Only this list. {LIST_HELP}"),
) -> None:
    """Fetch, parse and store the lists now; exit code 1 if any list failed."""
    only = [list_location] if list_location else None
    with database_errors():
        reports = sync_lists(ready_engine(), settings(), only=only)
    if not reports:
        console.print("No lists configured (catalog.lists in config/matchmaker.toml).")
        return
    for report in reports:
        style = "red" if not report.ok else "green"
        console.print(
            f"[{style}]●[/] {escape(strip_control(report.summary()))}",
            highlight=False,
            soft_wrap=True,
        )
    if any(not r.ok for r in reports):
        raise typer.Exit(1)


@app.command("lists")
def lists_command() -> None:
    """Show the stored lists: state, last fetch, counts, last error."""
    _, lists = _stored_entries()
    if not lists:
        console.print("No lists stored yet: run `matchmaker catalog sync`.")
        return
    table = Table(title="Lists")
    for column in ("List", "State", "Last fetched", "Entries", "Repositories", "Last error"):
        table.add_column(column, overflow="fold")
    for s in lists:
        counts = s["counts"]
        table.add_row(
            plain(s["url"]),
            "enabled" if s["enabled"] else "removed",
            plain(s["last_fetched_at"] or "never"),
            str(counts.get("entries", "")),
            str(counts.get("repositories", "")),
            plain(s["last_error"] or ""),
        )
    console.print(table)
