"""`matchmaker members list|export`: who uses the bot, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlmodel import Session, col, select

from bot.cli.context import console, database_errors, fail, plain, ready_engine
from bot.sanitize import csv_cell
from bot.store.files import write_private
from bot.store.models import Member
from bot.words import plural

app = typer.Typer(help="Members: list them or export them as CSV/JSON.", no_args_is_help=True)


class Format(StrEnum):
    """Export formats."""

    csv = "csv"
    json = "json"


def load_members() -> list[dict[str, Any]]:
    """Every member as a dict of its columns, oldest first."""
    with database_errors(), Session(ready_engine()) as session:
        return [m.model_dump() for m in session.exec(select(Member).order_by(col(Member.id))).all()]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def to_json(rows: list[dict[str, Any]]) -> str:
    """Members as a JSON array (datetimes in ISO 8601)."""
    return json.dumps(rows, default=_plain, indent=2, ensure_ascii=False) + "\n"


def to_csv(rows: list[dict[str, Any]]) -> str:
    """Members as CSV with a header; nested values (languages, topics) as JSON text."""
    columns = list(Member.model_fields)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                key: csv_cell(
                    json.dumps(value, ensure_ascii=False)
                    if isinstance(value, dict | list)
                    else _plain(value)
                )
                for key, value in row.items()
                if key in columns
            }
        )
    return out.getvalue()


@app.command("list")
def list_members() -> None:
    """Show members: Slack user, stack, level, GitHub login and digest schedule."""
    rows = load_members()
    if not rows:
        console.print("No members yet: they appear when someone uses /matchmaker in Slack.")
        return
    table = Table("id", "slack user", "name", "level", "stack", "github", "digest")
    for row in rows:
        digest = (
            f"{row['digest_day']} {row['digest_time']} {row['timezone']}"
            + (f" every {row['digest_every_weeks']} wk" if row["digest_every_weeks"] > 1 else "")
            if row["digest_enabled"]
            else "off"
        )
        table.add_row(
            str(row["id"]),
            plain(row["slack_user_id"]),
            plain(row["display_name"]),
            plain(row["level"]),
            plain(row["stack_text"]),
            plain(row["github_login"]),
            plain(digest),
        )
    console.print(table)
    console.print(f"{plural(len(rows), 'member')}.")


@app.command("export")
def export(
    fmt: Annotated[Format, typer.Option("--format", "-f", help="csv or json.")] = Format.csv,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Export every member with all stored fields."""
    rows = load_members()
    data = to_csv(rows) if fmt is Format.csv else to_json(rows)
    if output is None:
        typer.echo(data, nl=False)
        return
    try:
        write_private(output, data)  # 0600: members' data
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc.strerror or exc}") from None
    typer.echo(f"Wrote {plural(len(rows), 'member')} to {output} ({fmt.value}).", err=True)
