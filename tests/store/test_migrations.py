"""Migrations: they create exactly what the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel
from typer.testing import CliRunner

from bot.cli.app import app
from bot.store import migrate
from bot.store.db import make_engine

runner = CliRunner()


def test_models_and_migrations_agree(engine: Engine) -> None:
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert migrate.pending_diff(engine) == []
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert tables == set(SQLModel.metadata.tables)


def test_downgrade_to_base_and_back(engine: Engine) -> None:
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert migrate.pending_diff(engine) == []


def test_sqlite_runs_in_wal_mode_with_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'mm.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert (tmp_path / "nested" / "dir" / "mm.db").exists()
    engine.dispose()


def test_cli_db_upgrade_creates_the_embedded_database(tmp_path: Path) -> None:
    first = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert "from empty to" in first.output
    assert (tmp_path / "data" / "matchmaker.db").exists()
    again = runner.invoke(app, ["db", "upgrade"])
    assert "up to date" in again.output
    current = runner.invoke(app, ["db", "current"])
    assert "up to date" in current.output


def test_cli_db_upgrade_on_the_test_database(cli_db: str) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
