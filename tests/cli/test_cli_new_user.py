"""A new user's first commands: a fresh data dir works, empty states say what to run next,
failures exit non-zero, pick links survive an 80-column terminal, counts read right."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from bot.cli.app import app
from bot.errors import InputError, MatchmakerError, ServiceError, SetupError
from bot.store import migrate
from bot.words import plural

runner = CliRunner()


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    return {name for (name,) in rows}


def test_preview_in_a_fresh_data_dir_migrates_and_says_what_to_run(tmp_path: Path) -> None:
    result = runner.invoke(app, ["preview", "--stack", "python, postgres"])
    assert result.exit_code == 0, result.output
    assert "no such table" not in result.output and "Traceback" not in result.output
    assert "matchmaker catalog sync" in result.output and "matchmaker crawl" in result.output
    db = tmp_path / "data" / "matchmaker.db"
    assert {"issue", "member", "alembic_version"} <= _tables(db)
    with sqlite3.connect(db) as connection:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == migrate.head_revision()


@pytest.mark.parametrize(
    "args",
    [["members", "list"], ["catalog", "lists"], ["catalog", "show"], ["digest", "--dry-run"]],
)
def test_reading_commands_work_on_a_fresh_data_dir(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "no such table" not in result.output and "Traceback" not in result.output


def test_crawl_on_an_empty_catalog_says_to_sync_it_first() -> None:
    result = runner.invoke(app, ["crawl"])
    assert result.exit_code == 1
    assert "matchmaker catalog sync" in result.output
    assert "Crawl summary" not in result.output  # no table of zeros


def test_failing_catalog_sync_exits_non_zero(tmp_path: Path) -> None:
    result = runner.invoke(app, ["catalog", "sync", "--list", str(tmp_path / "missing.md")])
    assert result.exit_code == 1
    assert "missing.md" in result.output and "failed" in result.output
    assert "no such table" not in result.output


def test_a_matchmaker_error_is_one_line_and_its_exit_code() -> None:
    result = runner.invoke(app, ["crawl", "--repo", "nobody/nothing"])
    assert result.exit_code == 1
    assert "error: nobody/nothing is not in the catalog" in result.output
    assert "matchmaker catalog sync" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_error_family_says_who_fixes_it() -> None:
    from bot.catalog.errors import CatalogError
    from bot.config import ConfigError
    from bot.deliver.senders import SendError
    from bot.github.client import GitHubError
    from bot.github.persist import CrawlTargetError
    from bot.match.approachability import ModelError
    from bot.match.taxonomy import TaxonomyError

    assert issubclass(ConfigError, SetupError) and SetupError.exit_code == 2
    assert issubclass(TaxonomyError, SetupError) and issubclass(TaxonomyError, ValueError)
    assert issubclass(ModelError, SetupError)
    assert issubclass(CatalogError, InputError) and issubclass(CrawlTargetError, InputError)
    assert issubclass(GitHubError, ServiceError) and issubclass(SendError, ServiceError)
    assert all(issubclass(c, MatchmakerError) for c in (SetupError, InputError, ServiceError))


@pytest.mark.slow
def test_demo_at_80_columns_shows_every_pick_as_a_whole_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli.context import console

    monkeypatch.setenv("COLUMNS", "80")
    assert console.width == 80
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    digests = json.loads((tmp_path / "out" / "demo-digests.json").read_text())["digests"]
    urls = set(re.findall(r"<(https://github\.com/[^|>]+/issues/\d+)\|", json.dumps(digests)))
    assert urls
    lines = result.output.splitlines()
    for url in urls:
        assert any(line.strip().endswith(url) for line in lines), url
    assert "…" not in "".join(line for line in lines if "https://" in line)
    assert not re.search(r"\b1 (comments|days|entries|repositories)\b", result.output)


@given(st.integers(min_value=0, max_value=10_000))
def test_plural_agrees_with_the_count(count: int) -> None:
    text = plural(count, "entry", "entries")
    assert text == (f"{count} entry" if count == 1 else f"{count} entries")
    assert plural(count, "comment").endswith("comment" if count == 1 else "comments")


def test_in_a_terminal_the_issue_name_is_a_hyperlink_to_the_whole_url() -> None:
    import io

    from rich.console import Console

    from bot.cli.links import issue_cell, print_links

    url = "https://github.com/averyveryverylongowner/averyveryverylongrepository/issues/12345"
    out = io.StringIO()
    terminal = Console(file=out, force_terminal=True, width=40, color_system="standard")
    terminal.print(issue_cell("o/r", 1, "[bold]not markup[/]", url))
    print_links(terminal, [(1, url)])
    text = out.getvalue()
    assert "\x1b]8;id=" in text and f";{url}\x1b\\" in text  # OSC 8 hyperlinks
    assert "[bold]not markup[/]" in text
    assert url in text  # printed whole even at 40 columns


def test_demo_without_the_fakes_group_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    for name in [m for m in sys.modules if m.startswith(("bot.demo", "bot.fakes", "graphql"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "graphql", None)  # as in the image: not installed
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    assert "fakes" in result.output and "uv sync" in result.output
    assert "Traceback" not in result.output


def test_a_database_from_a_newer_version_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    db = tmp_path / "data" / "matchmaker.db"
    db.parent.mkdir(parents=True)
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        connection.execute("INSERT INTO alembic_version VALUES ('9999_from_the_future')")
    result = runner.invoke(app, ["members", "list"])
    assert result.exit_code == 2
    assert "9999_from_the_future" in result.output and "matchmaker db current" in result.output
    assert "Traceback" not in result.output
