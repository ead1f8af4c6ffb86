"""`matchmaker stats`: the community's own quality numbers per ISO week (picks, Interested
clicks, holds, PRs opened, merged, hit@1/hit@3 within 30 and 60 days, pick->merge time)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer
from rich.table import Table

from bot.cli.context import console, database_errors, ready_engine
from bot.match.quality import overall_hit, weekly_quality
from bot.store.db import session_scope


def _pct(value: float) -> str:
    return f"{value:.0%}"


def stats(
    team: str | None = typer.Option(
        None, "--team", help="One workspace (Slack team id T…); default: every workspace."
    ),
    weeks: int = typer.Option(8, "--weeks", min=1, max=104, help="How many ISO weeks back."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object instead of a table."),
) -> None:
    """Show measured quality per ISO week: picks, clicks, holds, PRs, merges, hit@k."""
    now = datetime.now(UTC)  # the command's one clock reading
    with database_errors(), session_scope(ready_engine()) as session:
        rows = weekly_quality(session, team, now, weeks)
    if as_json:
        payload = {
            "team": team,
            "weeks": [row.as_dict() for row in rows],
            "hit_at_1_30d": overall_hit(rows, "hit@1/30d"),
            "hit_at_3_60d": overall_hit(rows, "hit@3/60d"),
        }
        console.print_json(json.dumps(payload, default=str))
        return
    table = Table(title=f"Quality ({'workspace ' + team if team else 'all workspaces'})")
    for name in ("week", "picks", "interested", "holds", "PRs opened", "merged"):
        table.add_column(name, justify="right" if name != "week" else "left")
    for name in ("hit@1 30d/60d", "hit@3 30d/60d", "pick→merge"):
        table.add_column(name, justify="right")
    for row in rows:
        median = f"{row.median_days_to_merge:g} d" if row.median_days_to_merge is not None else "–"
        open_mark = "" if row.mature.get("60d") else " *"
        table.add_row(
            row.week,
            str(row.picks),
            str(row.interested),
            str(row.holds),
            str(row.prs_opened),
            str(row.merged),
            f"{_pct(row.hit['hit@1/30d'])}/{_pct(row.hit['hit@1/60d'])}{open_mark}",
            f"{_pct(row.hit['hit@3/30d'])}/{_pct(row.hit['hit@3/60d'])}{open_mark}",
            median,
        )
    console.print(table)
    console.print(
        "hit@k: share of members with a GitHub login whose top-k picks of the week led to a "
        "merged PR within 30/60 days. * = window not over yet. Holds: started that week."
    )
