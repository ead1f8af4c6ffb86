"""The optional weekly channel post: the community's best picks, unlike this week's DMs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from bot.config import Settings
from bot.deliver.due import Slot, due_slot, weekly_slot
from bot.deliver.holds import held_issue_ids
from bot.deliver.picks import Recommender
from bot.deliver.select import CHANNEL, DM, channel_key
from bot.store.models import Delivery, Pick


def channel_slot(settings: Settings, now: datetime) -> Slot | None:
    """This week's channel-post slot, or None when no channel is configured."""
    if not settings.digest.channel:
        return None
    digest = settings.digest
    return weekly_slot(now, digest.channel_day, digest.channel_time, settings.timezone)


def channel_due(session: Session, settings: Settings, now: datetime, *, force: bool) -> Slot | None:
    """The slot if the channel post is due now and not yet in the ledger."""
    slot = channel_slot(settings, now)
    if slot is None:
        return None
    if not force:
        digest = settings.digest
        catch_up = timedelta(hours=digest.catch_up_hours)
        slot = due_slot(now, digest.channel_day, digest.channel_time, settings.timezone, catch_up)
        if slot is None:
            return None
    key = channel_key(settings.digest.channel, slot.week)
    exists = session.scalar(select(col(Delivery.id)).where(col(Delivery.dedupe_key) == key))
    return None if exists else slot


def community_picks(
    session: Session, settings: Settings, week: str, now: datetime, recommender: Recommender
) -> list[dict[str, Any]]:
    """The issues most members would like, preferring ones no member got by DM this week.

    Each issue's score is summed over the members it was recommended to, so the post favours
    what fits the community's stacks; DM picks of the same week only fill remaining places.
    Issues under an active claim hold are left out (the channel's readers include the holder's
    workspace).
    """
    by_member = recommender(session, settings, None, n=10, now=now)
    totals: dict[int, float] = {}
    best: dict[int, Any] = {}
    for recs in by_member.values():
        for rec in recs:
            totals[rec.issue_id] = totals.get(rec.issue_id, 0.0) + float(rec.score)
            if rec.issue_id not in best or rec.score > best[rec.issue_id].score:
                best[rec.issue_id] = rec
    in_dms = set(
        session.scalars(
            select(col(Pick.issue_id))
            .join(Delivery, col(Delivery.id) == col(Pick.delivery_id))
            .where(col(Delivery.week) == week, col(Delivery.kind) == DM)
        )
    )
    held = held_issue_ids(session, now)  # a post everyone sees: no issue someone holds
    ranked = sorted(
        (i for i in totals if i not in held), key=lambda issue_id: (-totals[issue_id], issue_id)
    )
    ordered = [i for i in ranked if i not in in_dms] + [i for i in ranked if i in in_dms]
    chosen = _one_per_repo_first(ordered, best, settings.digest.channel_picks)
    return [
        {"issue_id": i, "score": totals[i], "reasons": list(best[i].reasons or [])[:3]}
        for i in chosen
    ]


def _one_per_repo_first(ordered: Iterable[int], best: dict[int, Any], limit: int) -> list[int]:
    chosen: list[int] = []
    seen_repos: set[str] = set()
    rest: list[int] = []
    for issue_id in ordered:
        repo = getattr(best[issue_id], "repo_full_name", "")
        if repo in seen_repos:
            rest.append(issue_id)
            continue
        seen_repos.add(repo)
        chosen.append(issue_id)
        if len(chosen) == limit:
            return chosen
    return (chosen + rest)[:limit]


__all__ = ["CHANNEL", "channel_due", "channel_slot", "community_picks"]
