"""Untrusted text can't drive a terminal or a spreadsheet, secrets stay out of the TOML file and
the logs, and the database, backups and exports are private files."""

from __future__ import annotations

import csv
import io
import logging
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session
from typer.testing import CliRunner

from bot.cli.app import app
from bot.config.settings import ConfigError, load_settings
from bot.deliver.render import blocks_to_text
from bot.deliver.senders import ConsoleSender
from bot.logs import configure_logging, reset_logging
from bot.sanitize import csv_cell, strip_control
from bot.slack.escape import safe_url
from bot.store.db import make_engine
from bot.store.models import ListEntry, ListSource, Member

runner = CliRunner()

HOSTILE = (
    "Fix \x1b]8;;https://evil.example/\x07click\x1b]8;;\x07 \x1b[2J\x1b[H title\x07\x00"
    "\x9b31m red \x9d8;;x\x9c\x7f end"
)


def test_console_output_has_no_control_characters_or_escape_sequences():
    out = io.StringIO()
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": HOSTILE}}]
    ConsoleSender(out).send("U1\x1b[2J", blocks=blocks, text="", key="k")
    printed = out.getvalue()
    assert not any(ch in printed for ch in "\x1b\x07\x00\x7f\x9b\x9c\x9d")
    assert "evil.example" not in printed
    assert "Fix click  title" in printed and "end" in printed
    assert blocks_to_text(blocks) == strip_control(HOSTILE)


@given(st.text())
def test_strip_control_leaves_no_control_character(text):
    cleaned = strip_control(text)
    assert all(ch in "\t\n" or not (ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F) for ch in cleaned)


def test_csv_cells_that_look_like_formulas_are_neutralised():
    for value in ('=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)"):
        assert csv_cell(value) == "'" + value
    assert csv_cell("python") == "python" and csv_cell(-1) == -1


def test_safe_url_links_only_github_pages():
    assert safe_url("https://github.com/a/b/issues/1") == "https://github.com/a/b/issues/1"
    for url in (
        "http://github.com/a/b",
        "https://github.com.evil.example/a",
        "https://evil.example/github.com/a",
        "https://user@github.com/a",
        "https://github.com:8443/a",
        "https://gist.github.com/a",
    ):
        assert safe_url(url) is None, url


@pytest.mark.parametrize(
    "line",
    [
        'GITHUB_TOKEN = "ghp_topsecret1"',
        'Slack_Bot_Token = "xoxb-topsecret2"',
        'MATCHMAKER_SLACK_SIGNING_SECRET = "topsecret3"',
        'database_url = "postgresql://u:topsecret4@h/db"',
        'DATABASE_URL = "sqlite:///topsecret5.db"',
        'matchmaker_secret_key = "topsecret6"',
        'slack_client_secret = "topsecret7"',
    ],
)
def test_secret_names_in_the_toml_file_are_refused_in_any_spelling(tmp_path, monkeypatch, line):
    config = tmp_path / "m.toml"
    config.write_text(line + "\n")
    monkeypatch.setenv("MATCHMAKER_CONFIG", str(config))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    [problem] = caught.value.problems
    assert "secrets are read only from the environment" in problem
    assert "topsecret" not in problem


def test_response_urls_and_rejected_bodies_never_reach_the_logs():
    stream = io.StringIO()
    configure_logging(load_settings(log_level="debug"), stream=stream)
    try:
        logger = logging.getLogger("slack_sdk.webhook")
        logger.debug("Sending a request - url: https://hooks.slack.com/actions/T1/123/abcDEF")
        logger.debug("body: response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1%2F9%2Fxyz")
        logger.info("payload {'response_url': 'https://hooks.slack.com/actions/T1/1/q'}")
    finally:
        reset_logging()
    text = stream.getvalue()
    assert "hooks.slack.com" not in text and "abcDEF" not in text and "xyz" not in text


def test_rich_markup_in_member_and_catalog_text_is_printed_literally(cli_db):
    engine = make_engine(cli_db)
    with Session(engine) as session:
        session.add(Member(team_id="T1", slack_user_id="U1", stack_text="python [/] [bold]x"))
        source = ListSource(url="https://github.com/o/list")
        session.add(source)
        session.flush()
        session.add(
            ListEntry(
                list_id=source.id,
                section="[red]S[/",
                name="[/] \x1b[2Jname",
                url="https://github.com/o/r",
                link_kind="github_repo",
            )
        )
        session.commit()
    engine.dispose()
    members = runner.invoke(app, ["members", "list"])
    assert members.exit_code == 0, members.output
    assert "[/]" in members.output and "[bold]x" in members.output
    shown = runner.invoke(app, ["catalog", "show"])
    assert shown.exit_code == 0, shown.output
    assert "[/] name" in shown.output and "\x1b" not in shown.output


def test_exports_backups_and_databases_are_private(cli_db, tmp_path, monkeypatch):
    with Session(make_engine(cli_db)) as session:
        session.add(Member(team_id="T1", slack_user_id="U1", display_name="=cmd|' /C calc'!A0"))
        session.commit()
    target = tmp_path / "export.csv"
    assert runner.invoke(app, ["members", "export", "-o", str(target)]).exit_code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    [row] = list(csv.DictReader(target.open()))
    assert row["display_name"].startswith("'=")
    if not cli_db.startswith("sqlite"):
        return
    database = Path(cli_db.removeprefix("sqlite:///"))
    fresh = tmp_path / "new-dir" / "sub" / "fresh.db"
    make_engine(f"sqlite:///{fresh}").dispose()
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    assert stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(fresh.parent.parent.stat().st_mode) == 0o700
    assert database.exists()
    backup = tmp_path / "backups" / "copy.db"
    monkeypatch.setenv("DATABASE_URL", cli_db)
    result = runner.invoke(app, ["db", "backup", str(backup)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup.parent.stat().st_mode) == 0o700
