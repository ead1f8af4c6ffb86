"""`matchmaker digest …`: preview the weekly digest (`--dry-run`) or send it now (admin)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy import select
from sqlmodel import Session, col

from bot.cli.context import console, database_errors, fail, ready_engine, settings
from bot.deliver.digest import DM_HEADER, default_recommender, run_digest
from bot.deliver.render import blocks_to_text
from bot.deliver.select import select_due
from bot.deliver.senders import ConsoleSender, Sender, SlackSender
from bot.schedule.leader import FileLeaderLock, leader_lock_for
from bot.store.models import Member
from bot.words import plural

app = typer.Typer(
    help="Weekly digests: preview who would get what, or send this week's digest now.",
    invoke_without_command=True,
)

SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")
MemberOption = Annotated[
    list[str] | None,
    typer.Option("--member", help="Only this Slack user id (repeatable), e.g. U012ABCDEF."),
]


def _member_ids(values: list[str] | None) -> list[str]:
    """Validated Slack user ids (upper-cased); a bad one is a one-line error."""
    ids = []
    for raw in values or []:
        value = raw.strip().upper()
        if not SLACK_USER_ID.match(value):
            raise fail(f"not a Slack user id: {raw!r} (expected something like U012ABCDEF)")
        ids.append(value)
    return ids


@app.callback()
def digest(
    ctx: typer.Context,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show who would get which picks now; send and store nothing."
    ),
    member: MemberOption = None,
) -> None:
    """Preview (`--dry-run`) or send (`send --now`) the weekly digest."""
    if ctx.invoked_subcommand is not None:
        return
    if not dry_run:
        raise fail(
            "say what to do: `matchmaker digest --dry-run` to preview, "
            "`matchmaker digest send --now` to send"
        )
    _preview(_member_ids(member))


def _preview(slack_ids: list[str]) -> None:
    current = settings()
    now = datetime.now(UTC)
    with database_errors(), Session(ready_engine()) as session:
        if slack_ids:
            found = {
                m.slack_user_id: m
                for m in session.scalars(
                    select(Member).where(col(Member.slack_user_id).in_(slack_ids))
                )
            }
            missing = [s for s in slack_ids if s not in found]
            if missing:
                raise fail(f"unknown member: {', '.join(missing)} (see `matchmaker members list`)")
            due_ids = {d.member_id for d in select_due(session, current, now, record=False)}
            chosen = [(found[s], found[s].id in due_ids) for s in slack_ids]
        else:
            due = select_due(session, current, now, record=False)
            by_id = {m.id: m for m in session.scalars(select(Member))}
            chosen = [(by_id[d.member_id], True) for d in due]
        if not chosen:
            console.print("Nobody is due for a digest right now. Nothing would be sent.")
            return
        recommend = default_recommender()
        member_ids = [m.id for m, _ in chosen if m.id is not None]
        rows = [
            (m.id or 0, m.slack_user_id, m.display_name, m.digest_day, m.digest_time, m.timezone,
             is_due)
            for m, is_due in chosen
        ]  # fmt: skip
        picks = recommend(session, current, member_ids, n=current.digest.picks, now=now)
        session.rollback()  # a preview stores nothing
    from bot.slack.blocks import pick_blocks

    due_count = sum(1 for row in rows if row[-1])
    console.print(f"Dry run: {plural(due_count, 'member')} due now; nothing is sent or stored.\n")
    for member_id, slack_id, name, day, hhmm, tz, is_due in rows:
        when = "due now" if is_due else "not due now"
        console.print(
            f"── {slack_id} ({name or 'no name'}, {when}, {day} {hhmm} {tz}) ──",
            markup=False,
            highlight=False,
        )
        text = blocks_to_text(pick_blocks(picks.get(member_id, []), header=DM_HEADER))
        console.print(text + "\n", markup=False, highlight=False, soft_wrap=True)  # whole URLs


def make_sender() -> Sender:
    """Slack when a bot token is set, else the console (and say so)."""
    current = settings()
    if current.slack_bot_token is None:
        console.print("No SLACK_BOT_TOKEN set: digests are printed here instead of sent.")
        return ConsoleSender()
    return SlackSender.from_settings(current)


@contextlib.contextmanager
def _sole_sender() -> Iterator[None]:
    """Hold the scheduler's leader lock while sending: only one process sends at a time, so
    the workspace rate (`digest.workspace_rate_per_s`) holds across processes."""
    lock = leader_lock_for(ready_engine(), lease_seconds=settings().schedule.leader_lease_seconds)
    if not lock.try_acquire():
        holder = lock.holder() if isinstance(lock, FileLeaderLock) else ""
        raise fail(
            f"another process ({holder or 'a running `matchmaker serve`'}) is sending digests "
            f"now ({lock.description}); its digest tick sends what is due. Run this again "
            "when it has stopped"
        )
    try:
        yield
    finally:
        lock.release()


@app.command()
def send(
    now: bool = typer.Option(
        False,
        "--now",
        help="Send this week's digest to every enabled member now, whatever their day and time "
        "(still at most one per member and week).",
    ),
    member: MemberOption = None,
) -> None:
    """Send digests: those due now, or with `--now` everyone's (admin)."""
    slack_ids = _member_ids(member)
    sender = make_sender()
    with database_errors(), _sole_sender():
        report = run_digest(
            ready_engine(), settings(), sender, now=datetime.now(UTC), force=now, members=slack_ids
        )
    console.print(f"Digest: {report.summary()}.", highlight=False)
    if report.token_error:
        console.print(
            f"Slack refused the bot token ({report.token_error}): nothing more was sent and "
            "the remaining digests stay pending. Fix SLACK_BOT_TOKEN (`matchmaker doctor` "
            "checks it); the next run sends them.",
            highlight=False,
        )
        raise typer.Exit(1)
    if report.failed:
        raise typer.Exit(1)
