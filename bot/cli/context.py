"""What every CLI command needs: settings, a console, the database engine; errors as one line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bot.config import ConfigError, Settings, load_settings
from bot.sanitize import strip_control
from bot.store.db import make_engine

console = Console()
err_console = Console(stderr=True)

EXIT_CONFIG = 2
EXIT_FAILURE = 1


def fail(message: str, code: int = EXIT_FAILURE) -> typer.Exit:
    """Print `message` in red on stderr and return the Exit to raise."""
    err_console.print(
        f"[bold red]error:[/] {escape(strip_control(message))}", highlight=False, soft_wrap=True
    )
    return typer.Exit(code)


def plain(value: object, style: str = "") -> Text:
    """Untrusted text for a rich table or print: never markup, no control characters."""
    return Text(strip_control("" if value is None else str(value)), style=style)


@cache
def settings() -> Settings:
    """The settings, loaded once; a config problem ends the process with exit code 2."""
    try:
        current = load_settings()
    except ConfigError as exc:
        err_console.print("[bold red]Invalid configuration:[/]", highlight=False)
        for line in exc.problems:
            err_console.print(f"  - {line}", highlight=False, soft_wrap=True, markup=False)
        raise typer.Exit(EXIT_CONFIG) from None
    from bot.logs import configure_logging

    configure_logging(current)
    return current


@cache
def engine() -> Engine:
    """The database engine for the configured URL."""
    return make_engine(settings().db_url)


@cache
def ready_engine() -> Engine:
    """The engine, with the schema first migrated to this version's head (as `serve` does).

    A fresh data directory therefore works for every command that reads or writes data; a
    database newer than this version (or any other migration failure) is one clear line.
    """
    from alembic.util import CommandError

    from bot.schedule.leader import migration_lock
    from bot.store import migrate

    db = engine()
    before: str | None = None
    head: str | None = None
    with database_errors():
        try:
            with migration_lock(db):
                before = migrate.current_revision(db)
                head = migrate.head_revision()
                if before == head:
                    return db
                migrate.upgrade(db)
        except CommandError as exc:
            raise fail(
                f"cannot migrate the database ({describe_database(settings())}) from revision "
                f"{before} to {head}: {exc}; a newer matchmaker may have migrated it "
                "(see `matchmaker db current`)",
                code=EXIT_CONFIG,
            ) from None
    err_console.print(
        f"Database ({describe_database(settings())}): migrated from {before or 'empty'} to {head}.",
        style="dim",
        highlight=False,
        soft_wrap=True,
    )
    return db


def describe_database(current: Settings) -> str:
    """Where the data lives, without credentials."""
    if current.uses_embedded_db:
        return f"embedded SQLite at {current.db_url.removeprefix('sqlite:///')}"
    from sqlalchemy.engine import make_url

    url = make_url(current.db_url)
    return f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}/{url.database}"


@contextmanager
def database_errors() -> Iterator[None]:
    """Turn an unreachable database into one clear line instead of a traceback."""
    try:
        yield
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "connection failed"
        for secret in settings().secret_values():
            reason = reason.replace(secret, "***")
        raise fail(f"cannot use the database ({describe_database(settings())}): {reason}") from None


def reset_caches() -> None:
    """Forget cached settings and engine (tests change the environment between calls)."""
    if engine.cache_info().currsize:
        engine().dispose()
    ready_engine.cache_clear()
    engine.cache_clear()
    settings.cache_clear()
