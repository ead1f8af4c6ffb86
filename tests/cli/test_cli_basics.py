"""The command line: help lists every command, --version works."""

from __future__ import annotations

from typer.testing import CliRunner

from bot import __version__
from bot.cli.app import app

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"matchmaker {__version__}"


def test_help_lists_every_command_with_one_line_help() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    commands = app.registered_commands + app.registered_groups
    assert commands
    for command in app.registered_groups:
        assert command.name in result.output
        assert command.typer_instance.info.help, f"{command.name} has no help"
    for command in app.registered_commands:
        name = command.name or command.callback.__name__.replace("_", "-")
        assert name in result.output
        assert command.help or command.callback.__doc__, f"{name} has no help"


def test_unknown_command_is_a_usage_error_not_a_traceback() -> None:
    result = runner.invoke(app, ["frobnicate"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
