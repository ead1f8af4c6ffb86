"""`matchmaker db …`: migrations and database information."""

from __future__ import annotations

import typer

from bot.cli.context import console, database_errors, describe_database, engine, settings
from bot.store import migrate

app = typer.Typer(help="Database: apply migrations, show the schema version.", no_args_is_help=True)


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
