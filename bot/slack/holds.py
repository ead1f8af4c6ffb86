"""The Slack side of claim holds: card notes, the halfway nudge, Keep/Release clicks and
`/matchmaker release`.

Dates are Slack date tokens (`<!date^…>`), shown in each reader's own Slack timezone; the
fallback text uses the member's stored timezone.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config.settings import Settings
from bot.core.availability import reason_text
from bot.core.vocabulary import HOLD_KEEP, HOLD_RELEASE
from bot.deliver import holds
from bot.deliver.taken import IssueChecker
from bot.slack import commands as c
from bot.slack.blocks import CardNote, button, context, section
from bot.slack.escape import link, mrkdwn_escape
from bot.slack.handlers import CommandContext, Reply
from bot.slack.profile import find_member, get_or_create_member
from bot.store.db import session_scope
from bot.store.models import Hold, Issue, Member, Repository

log = logging.getLogger(__name__)

INTERESTED_NOTE = ":raised_hands: You're interested. Say hi on the issue before you start!"
JUST_TAKEN = (
    ":hourglass: Someone in the community just took this one; I won't hold it for you. "
    "Your next picks will have others."
)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def slack_date(when: datetime, timezone: str | None) -> str:
    """`when` as a Slack date token (each reader's timezone), the fallback in `timezone`."""
    local = when.astimezone(_zone(timezone))
    fallback = f"{local:%a %d %b %H:%M} {local.tzname() or ''}".strip()
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def held_note(expires_at: datetime, timezone: str | None) -> CardNote:
    """The card of a held pick: held until when, with a "Not for me" button that releases it."""
    until = slack_date(expires_at, timezone)
    text = (
        f"{INTERESTED_NOTE}\n:lock: *Held for you until {until}*: nobody else here is offered "
        "it meanwhile. Not for you after all? Release it:"
    )
    return CardNote(text, not_for_me=True)


def interest_note(result: holds.HoldResult, timezone: str | None) -> CardNote | None:
    """The card note after an Interested click's hold attempt (None: the plain note)."""
    if result.outcome in (holds.HoldOutcome.HELD, holds.HoldOutcome.ALREADY_YOURS):
        assert result.expires_at is not None
        return held_note(result.expires_at, timezone)
    if result.outcome is holds.HoldOutcome.TAKEN and result.reason is not None:
        where = "GitHub shows" if result.checked else "The last crawl shows"
        return CardNote(
            f":no_entry: {where} it's taken: {reason_text(result.reason)}. "
            "I didn't hold it for you."
        )
    if result.outcome is holds.HoldOutcome.HELD_BY_OTHER:
        return CardNote(JUST_TAKEN)
    return None


def card_notes(
    session: Session, member: Member | None, issue_ids: list[int], now: datetime
) -> dict[int, CardNote]:
    """Notes for the picks of `issue_ids` the member holds (for re-rendered cards, App Home)."""
    if member is None:
        return {}
    until = holds.held_until(session, member.id, issue_ids, now)
    return {i: held_note(e, member.timezone) for i, e in until.items()}


def hold_after_interest(
    engine: Engine,
    settings: Settings,
    member_id: int,
    issue_id: int,
    now: datetime,
    checker: IssueChecker | None,
) -> CardNote | None:
    """After an Interested click: re-check on GitHub, hold the issue if it is free, and the
    card note saying what happened (None: holds off, or nothing to say)."""
    try:
        result = holds.place_hold(engine, settings, member_id, issue_id, now, checker)
    except Exception:  # the click is recorded; a hold failure never breaks the listener
        log.exception("placing a hold failed")
        return None
    with session_scope(engine) as session:
        member = session.get(Member, member_id)
        timezone = member.timezone if member else None
    return interest_note(result, timezone)


def _issue_label(issue: Issue, repo: Repository) -> str:
    return link(issue.url, f"{repo.full_name}#{issue.number} {issue.title or ''}".strip())


def nudge_message(
    hold: Hold, issue: Issue, repo: Repository, member: Member, *, can_keep: bool
) -> tuple[str, list[dict[str, Any]]]:
    """The halfway DM: "Still on <issue>?" with Keep (while allowed) and Release buttons."""
    until = slack_date(hold.expires_at, member.timezone)
    text = f"Still on {_issue_label(issue, repo)}? I'm holding it for you until {until}."
    value = str(hold.id)
    elements = [button(HOLD_RELEASE.label, HOLD_RELEASE.action_id, value)]
    if can_keep:
        text += " *Keep it* holds it for another full period from now."
        elements.insert(0, button(HOLD_KEEP.label, HOLD_KEEP.action_id, value, style="primary"))
    else:
        text += " It can't be kept longer; after that others can get it."
    blocks = [
        section(text),
        {"type": "actions", "block_id": f"hold:{hold.id}", "elements": elements},
        context("If someone else takes it on GitHub, I release it and tell nobody."),
    ]
    fallback = f"Still on {mrkdwn_escape(repo.full_name)}#{issue.number}?"
    return fallback, blocks


def handle_hold_click(
    engine: Engine,
    settings: Settings,
    team_id: str,
    user_id: str,
    action_id: str,
    hold_id: int,
    now: datetime,
) -> str:
    """A Keep or Release click on a nudge; what the message should say now."""
    with session_scope(engine) as session:
        member = get_or_create_member(session, team_id, user_id)
        if action_id == HOLD_KEEP.action_id:
            kept = holds.keep_hold(session, settings, member, hold_id, now)
            if kept.outcome is holds.KeepOutcome.KEPT:
                assert kept.expires_at is not None
                return HOLD_KEEP.note.format(until=slack_date(kept.expires_at, member.timezone))
            if kept.outcome is holds.KeepOutcome.LIMIT:
                assert kept.expires_at is not None
                until = slack_date(kept.expires_at, member.timezone)
                return f"It's already been kept as long as it can: it's yours until {until}."
            return "That hold has ended already."
        if action_id == HOLD_RELEASE.action_id:
            released = holds.release_by_id(session, member, hold_id, now)
            return HOLD_RELEASE.note if released is not None else "That hold has ended already."
    return "That message isn't open any more."


def release_reply(command: c.ReleaseHolds, ctx: CommandContext) -> Reply:
    """`/matchmaker release [owner/repo#N]`."""
    with session_scope(ctx.engine) as session:
        member = find_member(session, ctx.team_id, ctx.user_id)
        if member is None or member.id is None:
            return Reply(text="You hold no issues.")
        if command.repo is None:
            released = holds.release_holds(session, member.id, ctx.now)
            if not released:
                return Reply(text="You hold no issues. Press *Interested* on a pick to hold it.")
            noun = "issue" if len(released) == 1 else "issues"
            return Reply(
                text=f"Released {len(released)} {noun}: others in the community can get them now."
            )
        name = mrkdwn_escape(f"{command.repo}#{command.number}")
        issue = holds.find_issue(session, command.repo, command.number)
        if issue is None or issue.id is None:
            return Reply(text=f"I don't know {name}. {c.USAGE['release']}")
        if not holds.release_holds(session, member.id, ctx.now, issue_id=issue.id):
            return Reply(text=f"You don't hold {name}. `/matchmaker release` releases all yours.")
    return Reply(text=f"Released {name}: others in the community can get it now.")


def holds_lines(session: Session, member: Member, now: datetime) -> list[str]:
    """One line per active hold of the member (App Home, status)."""
    if member.id is None:
        return []
    lines = []
    for hold in holds.active_holds(session, member.id, now):
        issue = session.get(Issue, hold.issue_id)
        repo = session.get(Repository, issue.repository_id) if issue else None
        if issue is None or repo is None:
            continue
        until = slack_date(hold.expires_at, member.timezone)
        lines.append(f"• {_issue_label(issue, repo)}: held for you until {until}")
    return lines
