"""The `matchmaker` console script: one typer app, one sub-module per command group.

Command modules are imported only when their command runs: `serve` then loads what it needs
and nothing else (no fake servers, no scipy for `preview`, no PyGithub for `profile`), which
keeps the long-running process small. `--help` lists every command from the table below without
importing any of them; `tests/ops/test_ops_cli_lazy.py` checks the table against the modules.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperGroup

from bot import __version__
from bot.errors import MatchmakerError

HELP = "Match community members with good first issues they can really take."


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives: `module:attribute` is a function (command) or a Typer (group)."""

    module: str
    attribute: str
    help: str
    group: bool = False

    def load(self, name: str) -> Any:
        """Import the module and build the real click command, as `add_typer`/`command` would."""
        target = getattr(importlib.import_module(self.module), self.attribute)
        holder = typer.Typer()
        if self.group:
            holder.add_typer(target, name=name)
        else:
            holder.command(name)(target)
        return typer.main.get_group(holder).commands[name]


# Order as shown by --help (typer lists plain commands first, then groups).
COMMANDS: dict[str, LazyCommand] = {
    "run": LazyCommand(
        "bot.cli.run",
        "run",
        "Run the bot: `serve` when anything is configured, else the offline `demo`.",
    ),
    "demo": LazyCommand(
        "bot.cli.demo",
        "demo",
        "Run the whole pipeline offline on synthetic demo data and print each member's digest.",
    ),
    "preview": LazyCommand(
        "bot.cli.preview",
        "preview",
        "Show the top picks and why, for a hypothetical stack or a real member (nothing is sent).",
    ),
    "db": LazyCommand(
        "bot.cli.db",
        "app",
        "Database: apply migrations, show the schema version, back up SQLite.",
        group=True,
    ),
    "catalog": LazyCommand(
        "bot.cli.catalog",
        "app",
        "Awesome lists: show their entries, add or remove a list, sync them now.",
        group=True,
    ),
    "members": LazyCommand(
        "bot.cli.members",
        "app",
        "Members: list them or export them as CSV/JSON.",
        group=True,
    ),
    "doctor": LazyCommand(
        "bot.cli.doctor",
        "doctor",
        "Check config, database and migrations, GitHub token and budget, Slack tokens and Socket\n"
        "Mode; print a checklist with a fix for each problem. Exit code 1 when a check fails.",
    ),
    "crawl": LazyCommand(
        "bot.cli.crawl",
        "crawl",
        "Crawl GitHub for available beginner issues in the catalog's repositories.",
    ),
    "stats": LazyCommand(
        "bot.cli.stats",
        "stats",
        "Show measured quality per ISO week: picks, clicks, holds, PRs, merges, hit@k.",
    ),
    "digest": LazyCommand(
        "bot.cli.digest",
        "app",
        "Weekly digests: preview who would get what, or send this week's digest now.",
        group=True,
    ),
    "serve": LazyCommand(
        "bot.cli.serve",
        "serve",
        "Run the bot: scheduled crawls and digests, the Slack app and the health server.",
    ),
}


class LazyGroup(TyperGroup):
    """Shows placeholder commands in help; swaps in the real command when one is invoked."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: set[str] = set()

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """Load the command named by `args[0]` (if it is a lazy one) before resolving it."""
        if args:
            self.load(args[0])
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        """Run the command; a `MatchmakerError` becomes its message on stderr and an exit code."""
        try:
            return super().invoke(ctx)
        except MatchmakerError as exc:
            from bot.cli.context import fail

            raise fail(str(exc), code=exc.exit_code) from None

    def load(self, name: str) -> Any:
        """The real command `name`, imported on first use (None for unknown names)."""
        spec = COMMANDS.get(name)
        if spec is not None and name not in self._loaded and name in self.commands:
            self.commands[name] = spec.load(name)
            self._loaded.add(name)
        return self.commands.get(name)


def _placeholder() -> None:
    """A command whose implementation is imported when it runs."""


app = typer.Typer(
    name="matchmaker",
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=LazyGroup,
)
for _name, _spec in COMMANDS.items():
    if _spec.group:
        app.add_typer(typer.Typer(help=_spec.help), name=_name)
    else:
        app.command(_name, help=_spec.help)(_placeholder)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"matchmaker {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Match community members with good first issues they can really take."""


def main() -> None:
    """Entry point of the `matchmaker` console script."""
    app()
