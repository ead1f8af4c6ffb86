"""`matchmaker db …`: migrations and database information."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.context import console, database_errors, describe_database, engine, fail, settings
from bot.store import migrate
from bot.store.files import private_file

app = typer.Typer(
    help="Database: apply migrations, show the schema version, back up SQLite.",
    no_args_is_help=True,
)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations (creates the SQLite file on first run)."""
    with database_errors():
        before = migrate.current_revision(engine())
        migrate.upgrade(engine(), revision)
        after = migrate.current_revision(engine())
    where = describe_database(settings())
    if before == after:
        console.print(f"Database is up to date at revision {after} ({where}).")
    else:
        console.print(f"Migrated {where} from {before or 'empty'} to {after}.")


@app.command()
def downgrade(
    revision: str = typer.Argument(..., help='Target revision, e.g. "-1" or "base".'),
) -> None:
    """Revert migrations down to REVISION (see README: Upgrades and downgrades)."""
    with database_errors():
        migrate.downgrade(engine(), revision)
        console.print(
            f"Database is now at revision {migrate.current_revision(engine()) or 'base'}."
        )


@app.command()
def current() -> None:
    """Show the database's revision and the newest one this version ships."""
    with database_errors():
        revision = migrate.current_revision(engine())
    head = migrate.head_revision()
    state = "up to date" if revision == head else "needs `matchmaker db upgrade`"
    console.print(
        f"{describe_database(settings())}: revision {revision or 'none'} (head {head}, {state})."
    )


@app.command()
def backup(
    path: Annotated[Path, typer.Argument(help="Where to write the copy, e.g. backups/mm.db.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite PATH if it exists.")] = False,
) -> None:
    """Copy the embedded SQLite database while the bot runs (SQLite online backup API)."""
    current = settings()
    if not current.uses_embedded_db:
        raise fail(
            "`db backup` copies the embedded SQLite database; for PostgreSQL use pg_dump, "
            'e.g. pg_dump --format=custom --file=matchmaker.dump "$DATABASE_URL"'
        )
    source = Path(current.db_url.removeprefix("sqlite:///"))
    if not source.is_file():
        raise fail(f"no database at {source} yet: run `matchmaker db upgrade` first")
    if path.exists() and not force:
        raise fail(f"{path} exists: choose another path or pass --force")
    if path.resolve() == source.resolve():
        raise fail("PATH is the live database itself: choose another path")
    try:
        pages = sqlite_backup(source, path)
    except (OSError, sqlite3.Error) as exc:
        raise fail(f"backup to {path} failed: {exc}") from None
    console.print(f"Backed up {source} to {path} ({pages} pages, {path.stat().st_size:,} bytes).")


def sqlite_backup(source: Path, target: Path) -> int:
    """Copy `source` to `target` consistently, even while other processes write to it.

    Writes to a temporary file next to `target` and renames it, so `target` is never half-written.
    Returns the number of pages copied.
    """
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    private_file(partial)  # 0600 in a 0700 folder, before any page is copied
    copied = 0

    def progress(_status: int, remaining: int, total: int) -> None:
        nonlocal copied
        copied = total - remaining

    src = sqlite3.connect(source, timeout=10)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst, pages=1024, progress=progress)
        dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
    finally:
        dst.close()
        src.close()
    partial.replace(target)
    return copied


@app.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypt the stored Slack tokens with the first key of MATCHMAKER_SECRET_KEY."""
    from bot.config import ConfigError
    from bot.slack.install_store import SqlInstallationStore
    from bot.slack.token_box import TokenBox

    try:
        box = TokenBox.from_settings(settings())
    except ConfigError as exc:
        raise fail("; ".join(exc.problems), code=2) from None
    with database_errors():
        rewritten, unreadable = SqlInstallationStore(engine(), box).rotate()
    console.print(f"Re-encrypted {rewritten} workspace token(s) with the first key.")
    if unreadable:
        raise fail(
            f"{unreadable} token(s) open with none of the configured keys: add the old key "
            "to MATCHMAKER_SECRET_KEY (comma-separated) and run this again"
        )
