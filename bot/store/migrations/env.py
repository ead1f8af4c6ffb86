"""Alembic environment: runs against the engine passed in `config.attributes["connection"]`."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import bot.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from bot.store.types import UTCDateTime

target_metadata = SQLModel.metadata


def _render_item(type_, obj, autogen_context):  # type: ignore[no-untyped-def]
    """Render our custom column types by import path so migrations stay importable."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("import bot.store.types")
        return "bot.store.types.UTCDateTime()"
    return False


def run_migrations_online() -> None:
    """Run migrations on the connection the caller provides (see bot.store.migrate)."""
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
