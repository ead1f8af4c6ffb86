"""`matchmaker preview`: the picks a member would get, with reasons, without Slack."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.table import Table
from rich.text import Text
from sqlmodel import col, func, select

from bot.cli.context import console, database_errors, err_console, fail, ready_engine, settings
from bot.cli.hints import NOTHING_STORED
from bot.cli.links import issue_cell, print_links
from bot.core.vocabulary import Level, parse_level
from bot.match.profile import MemberProfile, profile_from_member, profile_from_text
from bot.match.recommend import Recommendation, rank_profiles, recommend
from bot.match.taxonomy import TaxonomyError, get_taxonomy
from bot.store.db import session_scope
from bot.store.models import Issue, Member
from bot.words import plural


def preview(
    stack: str | None = typer.Option(
        None, "--stack", help='A hypothetical member\'s stack, e.g. "python, postgres".'
    ),
    level: str = typer.Option(
        "first-timer", "--level", help="first-timer | some | experienced (with --stack)."
    ),
    member: str | None = typer.Option(
        None, "--member", help="A real member's Slack user id (U…): their next picks."
    ),
    n: int = typer.Option(5, "--n", min=1, max=20, help="How many picks to show."),
) -> None:
    """Show the top picks and why, for a hypothetical stack or a real member (nothing is sent)."""
    if (stack is None) == (member is None):
        raise fail("give exactly one of --stack or --member")
    try:
        taxonomy = get_taxonomy()
    except TaxonomyError as exc:
        raise fail(f"invalid taxonomy: {exc}", code=2) from None
    current = settings()
    now = datetime.now(UTC)  # the command's one clock reading
    with database_errors(), session_scope(ready_engine()) as session:
        if stack is not None:
            parsed_level = parse_level(level)
            if parsed_level is None:
                names = ", ".join(lv.value for lv in Level)
                raise fail(f"unknown level {level!r}; use one of: {names}")
            profile = profile_from_text(stack, parsed_level.value)
            parsed = taxonomy.parse(stack)
            if parsed.unknown:
                err_console.print(
                    Text(f"ignored (not in the taxonomy): {', '.join(parsed.unknown)}", "yellow")
                )
            if parsed.empty:
                raise fail(f'no known language or topic in {stack!r}; try e.g. "python, postgres"')
            result = rank_profiles(session, current, [profile], n, now=now, spread=False)
            picks, stats = result.picks[0], result.stats
            title = f"Picks for {_describe(profile)}"
        else:
            row = session.exec(
                select(Member).where(Member.slack_user_id == member).order_by(col(Member.id))
            ).first()
            if row is None or row.id is None:
                raise fail(f"no member with Slack id {member!r} (members join via /matchmaker)")
            profile = profile_from_member(row, taxonomy)
            picks = recommend(session, current, [row.id], n, now=now).get(row.id, [])
            stats = None
            title = f"Next picks for {row.display_name or row.slack_user_id}: {_describe(profile)}"
        stored = session.exec(select(func.count()).select_from(Issue)).one()
    _print(title, picks, stats, stored)


def _describe(profile: MemberProfile) -> str:
    taxonomy = get_taxonomy()
    terms = [taxonomy.label(t) for t in [*profile.languages, *profile.topics]]
    inferred = [
        taxonomy.label(t)
        for t in [*profile.inferred_languages, *profile.inferred_topics]
        if not (t in profile.languages or t in profile.topics)
    ]
    text = ", ".join(terms) or "no stack"
    if inferred:
        text += f" (+ {', '.join(inferred[:5])}, {profile.inferred_explanation or 'inferred'})"
    return f"{text} · {profile.level}"


def _print(title: str, picks: list[Recommendation], stats: dict | None, stored: int) -> None:
    if not picks:
        console.print(Text(title, "bold"))
        if stored:
            console.print("No available issue matches yet: widen the stack, or crawl again later.")
        else:
            console.print(NOTHING_STORED, highlight=False, soft_wrap=True)
    else:
        table = Table(title=Text(title), show_lines=True, title_justify="left")
        table.add_column("#", justify="right")
        table.add_column("Issue", overflow="fold", ratio=3)
        table.add_column("Score", justify="right")
        table.add_column("Why", overflow="fold", ratio=2)
        for rec in picks:
            issue = issue_cell(rec.repo_full_name, rec.issue_number, rec.title, rec.url)
            table.add_row(str(rec.rank), issue, f"{rec.score:.2f}", Text(" · ".join(rec.reasons)))
        console.print(table)
        print_links(console, ((rec.rank, rec.url) for rec in picks))
    if stats and stored:
        total = plural(stats["issues_total"], "stored issue")
        console.print(
            Text(
                f"{stats['issues_eligible']} of {total} available"
                f" (assigned {stats['assigned']}, linked PR {stats['linked_pr']}, "
                f"claimed {stats['claimed']}, inactive repo {stats['repo_inactive']}).",
                "dim",
            )
        )
