"""#intros: a member's one short intro post in the configured intros channel (opt-in)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.config.settings import Settings
from bot.deliver.intros import enqueue
from bot.people import messages
from bot.people.prefs import get_prefs, set_intro_post
from bot.store.models import Member


def offer_blocks(
    session: Session, settings: Settings, member: Member, *, first_stack: bool
) -> list[dict[str, Any]]:
    """The "post an intro?" offer for a member who just set their stack for the first time
    (nothing when no intros channel is configured or they answered before)."""
    if not settings.people.intros_channel or not first_stack:
        return []
    prefs = get_prefs(session, member)
    if prefs is not None and prefs.intro_post is not None:
        return []
    return messages.intro_post_offer(member)


def post_intro(session: Session, settings: Settings, member: Member, now: datetime) -> bool:
    """Queue the member's intro post (once ever); False without a channel or if queued before."""
    channel = settings.people.intros_channel
    set_intro_post(session, member, "yes", now)
    if not channel:
        return False
    text, blocks = messages.intro_post(member)
    return enqueue(
        session,
        team_id=member.team_id,
        key=f"intro_post:{member.id}",
        kind="intro_post",
        text=text,
        blocks=blocks,
        now=now,
        member_id=member.id,
        target=channel,
    )
