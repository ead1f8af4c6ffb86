"""`matchmaker preview`: picks with reasons for a hypothetical stack or a real member."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session
from typer.testing import CliRunner

from bot.cli.app import app
from tests.match.conftest import World

runner = CliRunner()


@pytest.fixture
def stored(cli_db: str, session: Session, world: World) -> World:
    # the CLI reads the machine's clock: the repositories are active as of then
    active = {"pushed_at": datetime.now(UTC) - timedelta(days=1)}
    pg = world.repo(
        "acme/pgkit",
        topics=["postgresql"],
        section="Databases",
        maintainer_response_hours=30,
        **active,
    )
    world.issue(pg, title="Document the [bold]--dry-run[/] flag")
    go = world.repo(
        "acme/raftd", primary_language="Go", languages={"Go": 1}, topics=["raft"], **active
    )
    world.issue(go, title="Add a Raft snapshot test")
    world.member("golang, raft", slack_user_id="UGOPHER", display_name="Gopher")
    session.commit()
    return world


def test_preview_for_a_stack_shows_the_matching_pick_and_why(stored: World) -> None:
    result = runner.invoke(app, ["preview", "--stack", "python, postgres", "--n", "5"])
    assert result.exit_code == 0, result.output
    assert "acme/pgkit#" in result.output
    assert "[bold]--dry-run[/]" in result.output  # titles are shown verbatim, not as markup
    assert "acme/raftd" not in result.output
    assert "Python · PostgreSQL" in result.output
    assert "maintainers reply in ~30 hours" in result.output


def test_preview_for_a_real_member(stored: World) -> None:
    result = runner.invoke(app, ["preview", "--member", "UGOPHER"])
    assert result.exit_code == 0, result.output
    assert "Gopher" in result.output
    assert "acme/raftd#" in result.output
    assert "Go · Raft" in result.output


def test_preview_without_matching_issues_says_so(stored: World) -> None:
    result = runner.invoke(app, ["preview", "--stack", "haskell"])
    assert result.exit_code == 0
    assert "No available issue matches yet" in result.output


SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # input handling only


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["preview"], "exactly one of --stack or --member"),
        (["preview", "--stack", "go", "--member", "U1"], "exactly one of --stack or --member"),
        (["preview", "--stack", "go", "--level", "guru"], "unknown level 'guru'"),
        (["preview", "--stack", "banana bread"], "no known language or topic"),
        (["preview", "--member", "UNOBODY"], "no member with Slack id 'UNOBODY'"),
    ],
)
def test_bad_input_is_one_clear_line(stored: World, args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


@SQLITE_ONLY
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(min_size=1, max_size=60))
def test_any_typed_stack_gives_a_table_or_a_clear_error(stored: World, text: str) -> None:
    if text.startswith("-"):
        return  # typer reads it as an option
    result = runner.invoke(app, ["preview", "--stack", text])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
