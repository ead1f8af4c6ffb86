"""The `matchmaker` console script: one typer app, one sub-module per command group."""

from __future__ import annotations

import typer

from bot import __version__
from bot.cli import catalog, db, members
from bot.cli import digest as digest_cli
from bot.cli.crawl import crawl
from bot.cli.demo import demo
from bot.cli.doctor import doctor
from bot.cli.preview import preview
from bot.cli.run import run
from bot.cli.serve import serve

app = typer.Typer(
    name="matchmaker",
    help="Match community members with good first issues they can really take.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("run")(run)
app.command("demo")(demo)
app.command("preview")(preview)
app.add_typer(db.app, name="db")
app.add_typer(catalog.app, name="catalog")
app.add_typer(members.app, name="members")
app.command("doctor")(doctor)
app.command("crawl")(crawl)
app.add_typer(digest_cli.app, name="digest")
app.command("serve")(serve)


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
