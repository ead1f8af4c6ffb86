"""`matchmaker catalog show | add | remove | sync | lists`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.app import app
from tests.conftest import shared_data

runner = CliRunner()
SAMPLES = Path(__file__).parent / "samples"
CONSENSUS = str(SAMPLES / "awesome-consensus.md")


def test_show_list_json_for_the_seed_list() -> None:
    readme = shared_data("awesome-distributed-system-projects", "README.md")
    result = runner.invoke(app, ["catalog", "show", "--list", str(readme), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["counts"]["entries"] == 141
    assert doc["counts"]["repositories"] == 135
    assert doc["counts"]["not_crawlable"] == 4
    jocko = next(e for e in doc["entries"] if e["name"] == "Jocko")
    assert {k: jocko[k] for k in ("url", "repo", "section", "language", "topics")} == {
        "url": "https://github.com/travisjeffery/jocko",
        "repo": "travisjeffery/jocko",
        "section": "Databases",
        "language": "go",
        "topics": ["databases", "serf", "raft"],
    }
    assert set(jocko) >= {"name", "url", "repo", "section", "language", "topics", "description"}
    assert sum(1 for e in doc["entries"] if e["repo"] is None) == 4


def test_show_list_renders_a_table_with_counts() -> None:
    result = runner.invoke(app, ["catalog", "show", "--list", CONSENSUS])
    assert result.exit_code == 0, result.output
    assert "raftlite" in result.stdout and "Libraries" in result.stdout
    assert "14 entries" in result.stdout and "not crawlable" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"<html><body>x</body></html>", "HTML"),
        (b"caf\xe9 [x](https://e.org)", "not UTF-8"),
    ],
)
def test_show_bad_list_is_one_clear_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "list.md"
    path.write_bytes(content)
    result = runner.invoke(app, ["catalog", "show", "--list", str(path)])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_show_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["catalog", "show", "--list", str(tmp_path / "nope.md")])
    assert result.exit_code == 1 and "file not found" in result.output


def test_add_show_remove(cli_db: str) -> None:
    added = runner.invoke(app, ["catalog", "add", CONSENSUS])
    assert added.exit_code == 0, added.output
    assert "Added" in added.output and "14 entries" in added.output

    shown = runner.invoke(app, ["catalog", "show", "--json"])
    assert shown.exit_code == 0, shown.output
    doc = json.loads(shown.stdout)
    assert doc["counts"]["entries"] == 14 and doc["counts"]["repositories"] == 9
    assert doc["lists"][0]["url"] == str(Path(CONSENSUS).resolve())
    assert {e["list"] for e in doc["entries"]} == {str(Path(CONSENSUS).resolve())}

    again = runner.invoke(app, ["catalog", "add", CONSENSUS])
    assert again.exit_code == 0 and "Refreshed" in again.output

    removed = runner.invoke(app, ["catalog", "remove", CONSENSUS])
    assert removed.exit_code == 0, removed.output
    assert "14 entries marked inactive" in removed.output
    doc = json.loads(runner.invoke(app, ["catalog", "show", "--json"]).stdout)
    assert doc["entries"] == [] and doc["lists"][0]["enabled"] is False

    listed = runner.invoke(app, ["catalog", "lists"])
    assert listed.exit_code == 0 and "removed" in listed.output


def test_add_bad_list_stores_nothing(cli_db: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("# Title only\n")
    result = runner.invoke(app, ["catalog", "add", str(bad)])
    assert result.exit_code == 1 and "no list items with links" in result.output
    doc = json.loads(runner.invoke(app, ["catalog", "show", "--json"]).stdout)
    assert doc["lists"] == []


def test_remove_unknown_list(cli_db: str) -> None:
    result = runner.invoke(app, ["catalog", "remove", "acme/not-a-list"])
    assert result.exit_code == 1 and "not in the catalog" in result.output


def test_sync_reports_each_list_and_fails_if_one_failed(
    cli_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "missing.md"
    monkeypatch.setenv("MATCHMAKER_CATALOG__LISTS", json.dumps([str(missing), CONSENSUS]))
    result = runner.invoke(app, ["catalog", "sync"])
    assert result.exit_code == 1, result.output
    assert "file not found" in result.output
    assert "14 entries" in result.output  # the other list was still stored
    doc = json.loads(runner.invoke(app, ["catalog", "show", "--json"]).stdout)
    assert doc["counts"]["entries"] == 14


def test_show_lists_repositories_github_reports_as_gone(cli_db: str) -> None:
    from datetime import UTC, datetime

    from sqlmodel import Session, select

    from bot.store.db import make_engine
    from bot.store.models import Repository

    assert runner.invoke(app, ["catalog", "add", CONSENSUS]).exit_code == 0
    engine = make_engine(cli_db)
    with Session(engine) as session:
        repo = session.exec(select(Repository).order_by(Repository.full_name)).first()
        assert repo is not None
        name = repo.full_name
        repo.gone_at = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
        repo.gone_reason = "NOT_FOUND: Could not resolve to a Repository"
        session.add(repo)
        session.commit()
    engine.dispose()
    doc = json.loads(runner.invoke(app, ["catalog", "show", "--json"]).stdout)
    assert doc["counts"]["gone_repositories"] == 1
    assert doc["gone_repositories"][0]["repo"] == name
    assert "NOT_FOUND" in doc["gone_repositories"][0]["reason"]
    assert [e["repo"].lower() for e in doc["entries"] if e["gone"]] == [name]
    shown = runner.invoke(app, ["catalog", "show"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and "gone" in shown.output and name in shown.output
    assert "2026-11-30 03:00" in shown.output
