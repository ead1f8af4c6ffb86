"""`matchmaker run`: the README's main job — the real service when configured, else the demo."""

from __future__ import annotations

from bot.cli.context import console, settings
from bot.config import Settings


def nothing_configured(current: Settings) -> bool:
    """True on a fresh clone: no GitHub token, no Slack tokens, no external database."""
    return (
        current.github_token is None
        and current.slack_bot_token is None
        and current.slack_app_token is None
        and current.database_url is None
    )


def run() -> None:
    """Run the bot: `serve` when anything is configured, else the offline `demo`."""
    current = settings()
    if nothing_configured(current):
        console.print(
            "Nothing configured (no GITHUB_TOKEN, no Slack tokens, no DATABASE_URL): running the "
            "offline demo on bundled synthetic data with console delivery. "
            "Set tokens (see .env.example) to run the real bot."
        )
        from bot.cli.demo import demo

        demo(
            out_dir=current.data_dir.parent / "demo-output",
            seed=7,
            picks=3,
            to_slack="",
            verbose=False,
        )
        return
    from bot.cli.serve import serve

    serve()
