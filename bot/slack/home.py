"""App Home: the member's profile (edit via a modal), the issues held for them, current picks and
history with outcomes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.config.settings import Settings
from bot.core.vocabulary import WEEKDAY_NAMES, Level, PickState
from bot.slack import commands as c
from bot.slack.actions import stored_picks
from bot.slack.blocks import (
    MAX_SECTION_TEXT,
    MAX_VIEW_BLOCKS,
    button,
    context,
    header_block,
    limit_blocks,
    pick_card,
    section,
)
from bot.slack.escape import link, truncate_lines
from bot.slack.handlers import github_summary, pick_line, pick_reasons, stack_summary
from bot.slack.holds import card_notes, holds_lines
from bot.slack.profile import (
    GitHubLookupError,
    describe_schedule,
    find_member,
    get_or_create_member,
    infer_github_stack,
    last_sent_week,
    next_digest,
    parse_stack,
    set_github,
    set_stack,
)
from bot.slack.workers import run_later
from bot.store.db import session_scope
from bot.store.models import Issue, Member, Pick

log = logging.getLogger(__name__)

ACTION_EDIT_PROFILE = "home_edit_profile"
ACTION_HOME_PICKS = "home_get_picks"
PROFILE_MODAL = "profile_modal"
CURRENT_PICKS = 5
HISTORY = 15
CONTRIBUTIONS = 10
_OFF = "off"


def _stack(member: Member | None) -> str:
    return stack_summary(member)


def _github(member: Member | None) -> str:
    return github_summary(member)


def home_view(
    engine: Engine, settings: Settings, team_id: str, user_id: str, *, now: datetime
) -> dict[str, Any]:
    """The Home tab for a user (≤ 100 blocks) as of `now`."""
    blocks: list[dict[str, Any]] = [header_block("Matchmaker")]
    with session_scope(engine) as session:
        member = find_member(session, team_id, user_id)
        profile = [
            f"*Stack:* {_stack(member)}",
            f"*Level:* {member.level if member else 'first-timer'}",
            f"*GitHub:* {_github(member)}",
            f"*Weekly digest:* {describe_schedule(member) if member else 'not set up yet'}",
        ]
        upcoming = (
            next_digest(member, now, last_sent_week=last_sent_week(session, member))
            if member
            else None
        )
        if upcoming is not None:
            profile.append(f"*Next digest:* {upcoming:%a %d %b %H:%M %Z}")
        blocks.append(section("\n".join(profile)))
        blocks.append(
            {
                "type": "actions",
                "block_id": "home_profile",
                "elements": [
                    button("Edit profile", ACTION_EDIT_PROFILE, "edit", style="primary"),
                    button("Get picks now", ACTION_HOME_PICKS, "picks"),
                ],
            }
        )
        if member is None:
            blocks.append(context(f"Tell me what you work with to get picks: {c.USAGE['stack']}"))
            return {"type": "home", "blocks": blocks}
        picks = session.exec(
            select(Pick, Issue)
            .join(Issue, col(Issue.id) == col(Pick.issue_id))
            .where(Pick.member_id == member.id)
            .order_by(col(Pick.created_at).desc(), col(Pick.id).desc())
            .limit(CURRENT_PICKS + HISTORY)
        ).all()
        reasons = pick_reasons(session, settings, member, [p.issue_id for p, _ in picks], now)
        current_ids = [
            p.issue_id
            for p, _ in picks
            if p.state in (PickState.SHOWN, PickState.INTERESTED)
            and reasons.get(p.issue_id) is None
        ][:CURRENT_PICKS]
        cards, states = stored_picks(session, member.id, current_ids, now=now)
        notes = card_notes(session, member, current_ids, now)
        history = [(p, i) for p, i in picks if p.issue_id not in current_ids][:HISTORY]
        held = holds_lines(session, member, now)
        if held:
            blocks.append({"type": "divider"})
            blocks.append(header_block("Held for you"))
            blocks.append(section(truncate_lines("\n".join(held), MAX_SECTION_TEXT)))
            blocks.append(context(f"Nobody else here is offered these. {c.USAGE['release']}"))
        blocks.append({"type": "divider"})
        blocks.append(header_block("Current picks"))
        if not cards:
            blocks.append(context("No open picks. Press *Get picks now* or wait for the digest."))
        for card in cards:
            blocks.extend(
                pick_card(card, state=states.get(card.issue_id), note=notes.get(card.issue_id))
            )
        blocks.append({"type": "divider"})
        blocks.append(header_block("History"))
        if not history:
            blocks.append(context("Nothing yet."))
        else:
            lines = [pick_line(p, i, reasons.get(p.issue_id)) for p, i in history]
            blocks.append(section(truncate_lines("\n".join(lines), MAX_SECTION_TEXT)))
        blocks.extend(contribution_blocks(session, member, now))
    return {"type": "home", "blocks": limit_blocks(blocks, MAX_VIEW_BLOCKS)}


def contribution_blocks(session: Any, member: Member, now: datetime) -> list[dict[str, Any]]:
    """The member's merged PRs in catalog repositories, their streak and celebration setting."""
    from bot.deliver.celebrate import celebrate_enabled, history, merged_dates, streak_months

    assert member.id is not None
    merged = history(session, member.id, CONTRIBUTIONS)
    streak = streak_months(merged_dates(session, member.id), now)
    celebrate = "on" if celebrate_enabled(session, member.id) else "off"
    out: list[dict[str, Any]] = [{"type": "divider"}, header_block("Contributions")]
    if not merged and not member.github_login:
        out.append(context(f"Link your GitHub login to see your merged PRs: {c.USAGE['github']}"))
    elif not merged:
        out.append(context("No merged PR in a catalog project yet. Your first one is celebrated."))
    else:
        lines = [
            f"{when:%d %b %Y} · {link(pr.url, f'{pr.repo}#{pr.number} {pr.title}'.strip())}"
            f" — {'a Matchmaker pick' if pr.picked else 'your own find'}"
            for pr in merged
            for when in (pr.merged_at,)
        ]
        blocks_text = truncate_lines("\n".join(lines), MAX_SECTION_TEXT)
        out.append(section(blocks_text))
        if streak >= 2:
            out.append(context(f":fire: {streak} months in a row with a merged PR."))
    out.append(
        context(
            f"Merge celebrations: *{celebrate}* (`/matchmaker celebrate "
            f"{'off' if celebrate == 'on' else 'on'}`)"
        )
    )
    return out


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def profile_modal(engine: Engine, team_id: str, user_id: str) -> dict[str, Any]:
    """The "Edit profile" modal, pre-filled with the stored profile."""
    with session_scope(engine) as session:
        member = find_member(session, team_id, user_id)
        stack = (member.stack_text if member else None) or ""
        level = member.level if member else "first-timer"
        github = (member.github_login if member else None) or ""
        day = (member.digest_day if member and member.digest_enabled else _OFF) if member else "mon"
        time = member.digest_time if member else "09:00"
        tz = member.timezone if member else "UTC"
    days = [_option(name, key) for key, name in _DAYS.items()]
    levels = [_option(level.value, level.value) for level in Level]

    def text_input(block_id: str, label: str, initial: str, optional: bool = False) -> dict:
        element: dict[str, Any] = {"type": "plain_text_input", "action_id": "value"}
        if initial:
            element["initial_value"] = initial[:3000]
        return {
            "type": "input",
            "block_id": block_id,
            "optional": optional,
            "label": {"type": "plain_text", "text": label},
            "element": element,
        }

    return {
        "type": "modal",
        "callback_id": PROFILE_MODAL,
        "title": {"type": "plain_text", "text": "Your profile"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            text_input("stack", "Stack (languages, topics)", stack),
            {
                "type": "input",
                "block_id": "level",
                "label": {"type": "plain_text", "text": "Level"},
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "options": levels,
                    "initial_option": _option(level, level),
                },
            },
            text_input("github", "GitHub login", github, optional=True),
            {
                "type": "input",
                "block_id": "digest_day",
                "label": {"type": "plain_text", "text": "Weekly digest"},
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "options": days,
                    "initial_option": _option(_DAYS.get(day, "Monday"), day),
                },
            },
            {
                "type": "input",
                "block_id": "digest_time",
                "label": {"type": "plain_text", "text": "At"},
                "element": {"type": "timepicker", "action_id": "value", "initial_time": time},
            },
            text_input("timezone", "Timezone (e.g. Europe/Berlin)", tz),
        ],
    }


_DAYS = {**WEEKDAY_NAMES, _OFF: "Off"}


def _value(values: dict[str, Any], block_id: str) -> str:
    item = (values.get(block_id) or {}).get("value") or {}
    if "selected_option" in item:
        return str((item.get("selected_option") or {}).get("value") or "")
    if "selected_time" in item:
        return str(item.get("selected_time") or "")
    return str(item.get("value") or "").strip()


def save_profile(
    engine: Engine,
    team_id: str,
    user_id: str,
    values: dict[str, Any],
    *,
    now: datetime,
    settings: Settings | None = None,
    executor: Executor | None = None,
    on_inferred: Callable[[], None] | None = None,
) -> dict[str, str]:
    """Validate and store a profile modal submission; returns errors by block_id (empty = ok).

    With `settings` and `executor`, the stack of a linked GitHub login whose inference is
    missing, failed or stale is inferred on `executor` (the modal must be acked within 3 s),
    then `on_inferred()` runs (e.g. to refresh the Home tab).
    """
    errors: dict[str, str] = {}
    stack_text = _value(values, "stack")
    stack = parse_stack(stack_text) if stack_text else None
    if not stack_text or stack is None or stack.empty:
        errors["stack"] = "Name at least one language or topic I know, e.g. python, raft."
    level = c.normalize_level(_value(values, "level"))
    if level is None:
        errors["level"] = "Pick a level."
    github_raw = _value(values, "github")
    github = c.parse_github_login(github_raw) if github_raw else None
    if github_raw and github is None:
        errors["github"] = "That isn't a GitHub login."
    day = _value(values, "digest_day") or "mon"
    if day not in _DAYS:
        errors["digest_day"] = "Pick a day or Off."
    time = c.parse_time(_value(values, "digest_time") or "09:00")
    if time is None:
        errors["digest_time"] = "Pick a time."
    tz = c.parse_timezone(_value(values, "timezone") or "UTC")
    if tz is None:
        errors["timezone"] = "Use a timezone name like Europe/Berlin or UTC."
    if errors:
        return errors
    assert stack is not None and level is not None and time is not None and tz is not None
    with session_scope(engine) as session:
        member = get_or_create_member(session, team_id, user_id)
        set_stack(member, stack_text, stack.languages, stack.topics)
        member.level = level
        set_github(member, github)
        needs_inference = False  # a new login, or one whose inference is missing/failed/old
        if settings is not None and github:
            from bot.match.profile import inference_is_fresh

            needs_inference = not inference_is_fresh(member, settings, now)
        member.digest_enabled = day != _OFF
        if day != _OFF:
            member.digest_day = day
        member.digest_time = time
        member.timezone = tz
        member.updated_at = now
        session.add(member)
    if needs_inference and settings is not None and executor is not None and github:
        infer = partial(
            infer_in_background, engine, settings, team_id, user_id, github, on_inferred, now=now
        )
        run_later(executor, infer, "github inference")
    return {}


def infer_in_background(
    engine: Engine,
    settings: Settings,
    team_id: str,
    user_id: str,
    login: str,
    on_done: Callable[[], None] | None = None,
    *,
    now: datetime,
) -> None:
    """Infer `login`'s stack and store it on the member (if the login is still theirs); a
    GitHub failure is stored as the inference's `error` and shown on the Home tab. Runs on the
    Slack pool (`run_later`), which logs whatever else goes wrong."""
    try:
        inferred: dict[str, Any] = infer_github_stack(login, settings, now)
    except GitHubLookupError as exc:
        inferred = {"login": login, "error": str(exc)}
    with session_scope(engine) as session:
        member = find_member(session, team_id, user_id)
        if member is None or (member.github_login or "").lower() != login.lower():
            return  # unlinked or changed meanwhile
        if "error" in inferred and member.inferred:
            inferred = {**member.inferred, "error": inferred["error"]}
        member.inferred = inferred
        session.add(member)
    if on_done is not None:
        on_done()
