"""`matchmaker members list|export` and `matchmaker db backup`."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli.app import app
from bot.store.db import make_engine
from bot.store.models import Member

runner = CliRunner()


def add_members(url: str) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        session.add(
            Member(
                slack_user_id="U001",
                display_name='Ada, "the" engineer',
                stack_text="python, raft",
                languages={"python": 1.0},
                topics={"consensus": 0.8},
                level="some",
                github_login="ada",
            )
        )
        session.add(Member(slack_user_id="U002", display_name="Grace", digest_enabled=False))
        session.commit()
    engine.dispose()


def test_list_shows_members_and_their_digest_schedule(cli_db: str) -> None:
    add_members(cli_db)
    result = runner.invoke(app, ["members", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "U001" in result.output and "python, raft" in result.output
    assert "mon 09:00 UTC" in result.output and "off" in result.output
    assert "2 members." in result.output


def test_list_without_members_says_how_they_appear(cli_db: str) -> None:
    result = runner.invoke(app, ["members", "list"])
    assert result.exit_code == 0 and "No members yet" in result.output


def test_export_csv_to_stdout_round_trips(cli_db: str) -> None:
    add_members(cli_db)
    result = runner.invoke(app, ["members", "export", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["slack_user_id"] for r in rows] == ["U001", "U002"]
    assert rows[0]["display_name"] == 'Ada, "the" engineer'
    assert json.loads(rows[0]["languages"]) == {"python": 1.0}
    assert rows[1]["digest_enabled"] == "False"


def test_export_json_to_a_file(cli_db: str, tmp_path: Path) -> None:
    add_members(cli_db)
    target = tmp_path / "members.json"
    result = runner.invoke(app, ["members", "export", "--format", "json", "-o", str(target)])
    assert result.exit_code == 0, result.output
    members = json.loads(target.read_text())
    assert members[0]["github_login"] == "ada" and members[0]["topics"] == {"consensus": 0.8}
    assert members[0]["created_at"].startswith("20")
    assert "Wrote 2 members" in result.output


def test_export_rejects_an_unknown_format_and_unwritable_path(cli_db: str, tmp_path: Path) -> None:
    bad = runner.invoke(app, ["members", "export", "--format", "xml"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    target = tmp_path / "missing-dir" / "m.csv"
    result = runner.invoke(app, ["members", "export", "-o", str(target)])
    assert result.exit_code == 1 and "cannot write" in result.output


# --- db backup -------------------------------------------------------------------------------


@pytest.fixture
def sqlite_db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The CLI's embedded database, migrated, with one member."""
    monkeypatch.setenv("MATCHMAKER_DATA_DIR", str(tmp_path / "data"))
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    path = tmp_path / "data" / "matchmaker.db"
    add_members(f"sqlite:///{path}")
    return path


def test_backup_copies_a_live_database_consistently(sqlite_db: Path, tmp_path: Path) -> None:
    writer = sqlite3.connect(sqlite_db)  # another process mid-transaction (WAL mode)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE member SET display_name = 'uncommitted' WHERE slack_user_id = 'U002'")
    target = tmp_path / "backups" / "copy.db"
    try:
        result = runner.invoke(app, ["db", "backup", str(target)])
    finally:
        writer.rollback()
        writer.close()
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output
    copy = make_engine(f"sqlite:///{target}")
    with Session(copy) as session:
        names = sorted(m.display_name for m in session.exec(select(Member)).all())
    copy.dispose()
    assert names == ['Ada, "the" engineer', "Grace"]
    check = sqlite3.connect(target)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert check.execute("SELECT version_num FROM alembic_version").fetchone()
    check.close()
    assert not target.with_name("copy.db.partial").exists()


def test_backup_refuses_to_overwrite_unless_forced(sqlite_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "copy.db"
    target.write_text("keep me")
    refused = runner.invoke(app, ["db", "backup", str(target)])
    assert refused.exit_code == 1 and "exists" in refused.output
    assert target.read_text() == "keep me"
    forced = runner.invoke(app, ["db", "backup", str(target), "--force"])
    assert forced.exit_code == 0
    assert sqlite3.connect(target).execute("SELECT count(*) FROM member").fetchone() == (2,)


def test_backup_before_the_database_exists_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["db", "backup", str(tmp_path / "copy.db")])
    assert result.exit_code == 1 and "matchmaker db upgrade" in result.output


def test_backup_on_postgresql_points_at_pg_dump(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://mm:FAKEsecretPW@db.example:5432/mm")
    result = runner.invoke(app, ["db", "backup", str(tmp_path / "copy.db")])
    assert result.exit_code == 1
    assert "pg_dump" in result.output and "FAKEsecretPW" not in result.output
    assert not (tmp_path / "copy.db").exists()
