"""Idempotent writes keyed on natural keys (GitHub node ids, full names, Slack user ids)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel, select

__all__ = ["insert_for", "upsert", "with_defaults"]

ModelT = TypeVar("ModelT", bound=SQLModel)


def insert_for(session: Session, model: type[SQLModel]) -> PgInsert | SqliteInsert:
    """An `INSERT` into `model`'s table in the session's dialect, so it has the native
    `on_conflict_do_update` / `on_conflict_do_nothing` (PostgreSQL and SQLite spell them alike)."""
    table = model.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(table)
    return sqlite_insert(table)


def upsert(
    session: Session,
    model: type[ModelT],
    keys: dict[str, Any],
    values: dict[str, Any],
) -> ModelT:
    """Insert a row with `keys` + `values`, or update `values` on the row matching `keys`.

    Uses the dialect's native `INSERT … ON CONFLICT DO UPDATE`, so concurrent crawls cannot
    create duplicates; returns the stored row.
    """
    row = {**keys, **values}
    statement = insert_for(session, model).values(**with_defaults(model, row))
    if values:
        statement = statement.on_conflict_do_update(index_elements=list(keys), set_=values)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(keys))
    session.execute(statement)
    query = select(model)
    for column, value in keys.items():
        query = query.where(getattr(model, column) == value)
    stored = session.exec(query).one()
    session.refresh(stored)
    return stored


def with_defaults(model: type[SQLModel], row: dict[str, Any]) -> dict[str, Any]:
    """Fill Python-side defaults (e.g. created_at) that a Core insert would otherwise skip."""
    filled = dict(row)
    for name, field in model.model_fields.items():
        if name in filled or name == "id":
            continue
        if field.default_factory is not None:
            filled[name] = field.default_factory()  # type: ignore[call-arg]
        elif field.default is not None and not callable(field.default):
            filled[name] = field.default
    return filled
