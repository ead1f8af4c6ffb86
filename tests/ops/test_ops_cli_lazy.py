"""The CLI imports a command's implementation only when it runs (idle `serve` memory)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.cli.app import COMMANDS, app

ROOT = Path(__file__).resolve().parents[2]
# Never needed by an idle `serve` (PyGithub only for GitHub App auth / profile inference;
# alembic runs in a short-lived child at start-up).
NOT_FOR_SERVE = ("sklearn", "github", "graphql", "aiohttp", "alembic", "bot.fakes")
# Needed once digests are ranked, but not to parse the command line.
HEAVY = (*NOT_FOR_SERVE, "scipy", "numpy", "bot.match", "slack_bolt")


def loaded_after(statement: str) -> list[str]:
    """Top-level packages and `bot.*` modules loaded by `statement` in a fresh interpreter."""
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def heavy_in(modules: list[str], heavy: tuple[str, ...] = HEAVY) -> list[str]:
    return sorted({m for m in modules for h in heavy if m == h or m.startswith(h + ".")})


@pytest.mark.parametrize("name", list(COMMANDS))
def test_help_shown_without_importing_matches_the_command_itself(name: str) -> None:
    placeholder = typer.main.get_group(app).commands[name]
    assert placeholder.help == COMMANDS[name].load(name).help


def test_importing_the_cli_loads_no_command_module() -> None:
    modules = loaded_after("import bot.cli.app")
    commands = {spec.module for spec in COMMANDS.values()}
    assert not commands & set(modules)
    assert heavy_in(modules) == []


def test_serve_imports_only_what_an_idle_server_needs() -> None:
    modules = loaded_after("from bot.cli.app import COMMANDS; COMMANDS['serve'].load('serve')")
    assert "bot.cli.serve" in modules
    assert heavy_in(modules, NOT_FOR_SERVE) == []
    assert not {"bot.cli.demo", "bot.cli.preview", "bot.cli.doctor"} & set(modules)


# What an idle single-workspace `serve` imports: the command, the Socket Mode Slack app, the
# picks warm-up and the digest's ranker.
SERVE_IDLE = (
    "from bot.cli.app import COMMANDS; COMMANDS['serve'].load('serve')\n"
    "import bot.slack.runner, bot.match.inputs, bot.match.recommend"
)
# Loaded by an idle `serve` before: cryptography (OAuth token encryption, ~8 MB) and markdown_it
# (the crawl's approachability features).
NOT_IDLE = (*NOT_FOR_SERVE, "cryptography", "_cffi_backend", "markdown_it")


def test_idle_serve_with_its_slack_app_and_ranker_loads_no_crawl_or_oauth_module() -> None:
    modules = loaded_after(SERVE_IDLE)
    assert {"bot.slack.app", "bot.match.inputs", "bot.match.features", "numpy"} <= set(modules)
    assert heavy_in(modules, NOT_IDLE) == []


def test_a_lazy_group_parses_its_own_commands_and_options() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["db", "--help"])
    assert result.exit_code == 0
    assert "upgrade" in result.output and "backup" in result.output
    result = runner.invoke(app, ["members", "export", "--format", "xml"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
