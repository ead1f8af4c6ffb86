"""The Slack side of people features: the `mentor`/`buddies`/`intros`/`nopair` replies, the
buttons of offers, invitations, #intros offers and follow-ups, and the mentor offer after an
Interested click. Messages are queued in the people ledger and delivered right away; the
scheduler's people job delivers whatever a crash left behind."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.config.settings import Settings
from bot.core.vocabulary import (
    ANSWER_BUTTONS,
    ANSWER_BY_ACTION,
    INVITE_NO,
    INVITE_YES,
    OFFER_NO,
    OFFER_YES,
    POST_NO,
    POST_YES,
)
from bot.deliver.intros import deliver_pending, slack_group_opener
from bot.deliver.senders import SlackSender
from bot.people import followups, mentors, posts, prefs
from bot.people.messages import mention
from bot.people.outcomes import merged_pr_counts
from bot.slack import people_commands as pc
from bot.slack.handlers import CommandContext, Reply, _member
from bot.slack.profile import find_member, get_or_create_member
from bot.store.db import session_scope
from bot.store.models import Member

log = logging.getLogger(__name__)


def deliver_now(
    engine: Engine, settings: Settings, client: WebClient, team_id: str, now: datetime
) -> None:
    """Send the workspace's queued people messages with the listener's Slack client."""
    web = WebClient(token=client.token, base_url=client.base_url, timeout=30)
    sender = SlackSender(
        client.token or "", client=web, rate_per_s=settings.digest.workspace_rate_per_s
    )
    lease = timedelta(seconds=settings.people.lease_seconds)
    try:
        deliver_pending(
            engine, sender, slack_group_opener(web), now=now, lease=lease, team_id=team_id
        )
    except Exception:  # the people job retries; never break the listener
        log.exception("delivering people messages failed")


# -- commands ------------------------------------------------------------------------------------


def _scope_text(scope: list[str] | None) -> str:
    return ", ".join(f"`{s}`" for s in scope or []) or "the repositories you merged PRs in"


def _show(command: pc.ShowPeople, ctx: CommandContext) -> Reply:
    with session_scope(ctx.engine) as session:
        member = find_member(session, ctx.team_id, ctx.user_id)
        row = prefs.get_prefs(session, member) if member else None
        blocked = prefs.nopair_list(session, member) if member else []
        load = (
            mentors.active_mentees(session, ctx.settings, member.id, ctx.now)
            if member and member.id and row and row.mentor
            else 0
        )
    cap = ctx.settings.people.max_mentees
    if row is None or not row.mentor:
        mentor = "off"
    else:
        state = "paused" if row.mentor_paused else "on"
        mentor = f"{state} for {_scope_text(row.mentor_scope)} ({load} of {cap} mentees)"
    lines = [
        f"*Mentor:* {mentor}",
        f"*Buddies:* {'on' if row and row.buddies else 'off'}",
        f"*Intro post:* {'yes' if row and row.intro_post == 'yes' else 'off'}",
        "*Do-not-pair (only you see this):* "
        + (", ".join(mention(u) for u in blocked) if blocked else "nobody"),
    ]
    if row is not None and row.paused:
        lines.append(
            "*Intros are paused* (unanswered follow-ups). `/matchmaker buddies on` resumes."
        )
    lines.append("Everything is off until you turn it on; `/matchmaker forget` deletes it all.")
    return Reply(text="\n".join(lines))


def _set_mentor(command: pc.SetMentor, ctx: CommandContext) -> Reply:
    cap = ctx.settings.people.max_mentees
    with session_scope(ctx.engine) as session:
        member = _member(session, ctx)
        row = prefs.set_mentor(session, member, command.on, list(command.scope), ctx.now)
        merged = any(m == member.id for m, _ in merged_pr_counts(session, ctx.team_id))
        scope = list(row.mentor_scope or [])
    if not command.on:
        return Reply(text="You're no longer a mentor. Intros already made stay as they are.")
    text = (
        f"You're a mentor for {_scope_text(scope)}. When someone is interested in an issue "
        f"there, I'll offer them an intro to you (at most {cap} mentees at a time). "
        "`/matchmaker mentor pause` stops new ones."
    )
    if not scope and not merged:
        text += (
            " I know no merged PRs of yours yet: name repositories or topics, "
            "e.g. `mentor on etcd-io/etcd, raft`."
        )
    return Reply(text=text)


def _pause_mentor(command: pc.PauseMentor, ctx: CommandContext) -> Reply:
    with session_scope(ctx.engine) as session:
        member = find_member(session, ctx.team_id, ctx.user_id)
        row = prefs.pause_mentor(session, member, ctx.now) if member else None
    if row is None:
        return Reply(text=f"You aren't a mentor. {pc.USAGE['mentor']}")
    return Reply(text="Paused: no new mentees until `/matchmaker mentor on`.")


def _set_buddies(command: pc.SetBuddies, ctx: CommandContext) -> Reply:
    every = ctx.settings.people.buddy_every_weeks
    with session_scope(ctx.engine) as session:
        prefs.set_buddies(session, _member(session, ctx), command.on, ctx.now)
    if command.on:
        return Reply(
            text=f"Buddies on. Every {every} weeks I introduce you to someone in this workspace "
            "who is looking at the same project, in a group DM. `/matchmaker buddies off` stops it."
        )
    return Reply(text="Buddies off: no more buddy intros.")


def _set_intros(command: pc.SetIntros, ctx: CommandContext) -> Reply:
    with session_scope(ctx.engine) as session:
        member = _member(session, ctx)
        if not command.on:
            prefs.set_intro_post(session, member, "no", ctx.now)
            return Reply(text="OK: no intro post about you.")
        if not (member.languages or member.topics):
            return Reply(text="Tell me your stack first: `/matchmaker stack python, raft`.")
        queued = posts.post_intro(session, ctx.settings, member, ctx.now)
    if not ctx.settings.people.intros_channel:
        return Reply(
            text="This workspace has no intros channel configured, so there's nowhere to post."
        )
    if not queued:
        return Reply(text="Your intro was posted before; I post it only once.")
    deliver_now(ctx.engine, ctx.settings, ctx.client, ctx.team_id, ctx.now)
    return Reply(text="Posted your intro in the intros channel.")


def _nopair(command: pc.NoPairCommand, ctx: CommandContext) -> Reply:
    if command.user_id == ctx.user_id:
        return Reply(text="That's you: nobody pairs you with yourself.")
    who = mention(command.user_id)
    with session_scope(ctx.engine) as session:
        member = _member(session, ctx)
        if command.remove:
            done = prefs.remove_nopair(session, member, command.user_id)
            return Reply(
                text=f"Removed {who} from your do-not-pair list."
                if done
                else f"{who} wasn't on your list."
            )
        prefs.add_nopair(session, member, command.user_id, ctx.now)
    return Reply(text=f"Done: I'll never introduce you to {who}. Only you can see this list.")


PEOPLE_HANDLERS: dict[type, Callable[[Any, CommandContext], Reply]] = {
    pc.ShowPeople: _show,
    pc.SetMentor: _set_mentor,
    pc.PauseMentor: _pause_mentor,
    pc.SetBuddies: _set_buddies,
    pc.SetIntros: _set_intros,
    pc.NoPairCommand: _nopair,
}


# -- after an Interested click -----------------------------------------------------------------


def after_interest(
    engine: Engine,
    settings: Settings,
    client: WebClient,
    team_id: str,
    member_id: int,
    issue_id: int,
    now: datetime,
) -> bool:
    """Offer a mentor intro for the issue's repository if a mentor is available; True if one
    was offered (the offer is a DM, sent once)."""
    with session_scope(engine) as session:
        member = session.get(Member, member_id)
        if member is None or member.team_id != team_id:
            return False
        intro = mentors.offer_mentor(session, settings, member, issue_id, now)
    if intro is None:
        return False
    deliver_now(engine, settings, client, team_id, now)
    return True


# -- buttons (listeners: bot.slack.listeners.people_buttons) -------------------------------


BUTTON_ACTION_IDS = (  # the buttons `handle_click` answers
    OFFER_YES.action_id,
    OFFER_NO.action_id,
    INVITE_YES.action_id,
    INVITE_NO.action_id,
    POST_YES.action_id,
    POST_NO.action_id,
    *(b.action_id for b in ANSWER_BUTTONS.values()),
)


def handle_click(
    engine: Engine,
    settings: Settings,
    team_id: str,
    user_id: str,
    action_id: str,
    value: int,
    now: datetime,
) -> str:
    """Record a people button click; returns what the message should say now."""
    with session_scope(engine) as session:
        member = get_or_create_member(session, team_id, user_id)
        if action_id in (OFFER_YES.action_id, OFFER_NO.action_id):
            yes = action_id == OFFER_YES.action_id
            outcome = mentors.answer_offer(session, settings, member, value, yes, now)
            return {
                "opened": OFFER_YES.note,
                "declined": OFFER_NO.note,
                "full": "Sorry, that mentor has no place left right now.",
            }.get(outcome, "That offer isn't open any more.")
        if action_id == INVITE_YES.action_id:
            repo = mentors.accept_invite(session, member, value, now)
            return f"{INVITE_YES.note} Mentoring `{repo}`." if repo else "That repository is gone."
        if action_id == INVITE_NO.action_id:
            return INVITE_NO.note
        if action_id in (POST_YES.action_id, POST_NO.action_id):
            if value != member.id:
                return "That offer wasn't for you."
            if action_id == POST_NO.action_id:
                prefs.set_intro_post(session, member, "no", now)
                return POST_NO.note
            posts.post_intro(session, settings, member, now)
            return POST_YES.note
        answer = ANSWER_BY_ACTION.get(action_id)
        if answer is not None and followups.record_answer(session, member, value, answer, now):
            return ANSWER_BUTTONS[answer].note
    return "That message isn't open any more."
