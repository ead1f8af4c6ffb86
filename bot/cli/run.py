"""`matchmaker run`: the README's main job — do the right thing for what is configured."""

from __future__ import annotations

from bot.cli.context import console, database_errors, describe_database, engine, settings
from bot.store import migrate


def run() -> None:
    """Run the bot: the offline demo when nothing is configured, else the real service."""
    current = settings()
    with database_errors():
        migrate.upgrade(engine())
    console.print(f"Database ready: {describe_database(current)}.")
    if current.github_token is None:
        console.print("No GITHUB_TOKEN set: using bundled demo data instead of the GitHub API.")
    if current.slack_bot_token is None:
        console.print(
            "No SLACK_BOT_TOKEN set: digests are printed to this console, not sent to Slack."
        )
