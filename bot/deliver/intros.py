"""The people ledger: offers, group intros, follow-ups and notices, each sent at most once.

`enqueue` writes a `PeopleMessage` under a unique key in the caller's transaction (a second
enqueue of the same key does nothing). `deliver_pending` claims a row, opens the group DM if the
message has several users, posts it tagged with its key, and marks it sent. A row left in
"sending" by a crash is re-claimed after the lease: if the crash came before `chat.postMessage`
(`post_started_at` unset) it is simply sent; otherwise it is first looked up in the channel's
history and posted only if it is not there. When Slack can't tell (no history scope), the row is
marked failed rather than risk a second copy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import and_, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.core.vocabulary import IntroState
from bot.deliver.senders import CannotVerify, Sender, SendError
from bot.store.db import session_scope
from bot.store.models import Intro, Member, PeopleMessage
from bot.store.upsert import insert_for

log = structlog.get_logger(__name__)

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
GROUP_INTRO = "group_intro"  # the kind whose posting opens its intro
MAX_ATTEMPTS = 5

# users -> the channel id of their group DM (`conversations.open` with several users)
GroupOpener = Callable[[Sequence[str]], str]


def slack_group_opener(client: WebClient) -> GroupOpener:
    """Open (or find again: Slack returns the same one) the group DM of `users`."""

    def open_group(users: Sequence[str]) -> str:
        try:
            response = client.conversations_open(users=",".join(users))
        except SlackApiError as exc:
            code = str(exc.response.get("error", "unknown_error"))
            raise SendError(code, permanent=code in ("user_not_found", "invalid_users")) from None
        except OSError as exc:
            raise SendError(f"network: {type(exc).__name__}") from None
        return str(response["channel"]["id"])

    return open_group


def console_group_opener(users: Sequence[str]) -> str:
    """A stand-in group id for the console sender."""
    return "G-" + "-".join(users)


def enqueue(
    session: Session,
    *,
    team_id: str,
    key: str,
    kind: str,
    text: str,
    blocks: list[dict[str, Any]],
    now: datetime,
    member_id: int | None = None,
    intro_id: int | None = None,
    target: str | None = None,
    users: Sequence[str] | None = None,
) -> bool:
    """Queue a message under `key`; False when that key was queued before (nothing written)."""
    table = PeopleMessage.__table__  # type: ignore[attr-defined]
    insert = insert_for(session, PeopleMessage)
    statement = (
        insert.values(
            team_id=team_id,
            dedupe_key=key,
            kind=kind,
            member_id=member_id,
            intro_id=intro_id,
            target=target,
            users=list(users) if users else None,
            text=text,
            blocks=blocks,
            state=PENDING,
            attempts=0,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(table.c.id)
    )
    return session.execute(statement).scalar() is not None


def enqueue_dm(
    session: Session,
    member: Member,
    *,
    key: str,
    kind: str,
    message: tuple[str, list[dict[str, Any]]],
    now: datetime,
    intro_id: int | None = None,
) -> bool:
    """Queue a (text, blocks) message for the member's DM under `key` (see `enqueue`)."""
    text, blocks = message
    return enqueue(
        session,
        team_id=member.team_id,
        key=key,
        kind=kind,
        text=text,
        blocks=blocks,
        now=now,
        member_id=member.id,
        intro_id=intro_id,
        target=member.slack_user_id,
    )


@dataclass
class DeliverReport:
    """What one `deliver_pending` pass did."""

    sent: int = 0
    found: int = 0  # already posted by an earlier, crashed attempt
    failed: int = 0
    retry: int = 0


def _sendable(session: Session, now: datetime, lease: timedelta, team_id: str | None) -> list[int]:
    query = select(PeopleMessage.id).where(
        or_(
            col(PeopleMessage.state) == PENDING,
            and_(col(PeopleMessage.state) == SENDING, col(PeopleMessage.claimed_at) < now - lease),
        )
    )
    if team_id is not None:
        query = query.where(PeopleMessage.team_id == team_id)
    return [int(i) for i in session.exec(query.order_by(col(PeopleMessage.id))).all() if i]


def _claim(session: Session, message_id: int, now: datetime, lease: timedelta) -> bool:
    result = session.execute(
        update(PeopleMessage)
        .where(
            col(PeopleMessage.id) == message_id,
            or_(
                col(PeopleMessage.state) == PENDING,
                and_(
                    col(PeopleMessage.state) == SENDING,
                    col(PeopleMessage.claimed_at) < now - lease,
                ),
            ),
        )
        .values(state=SENDING, claimed_at=now, attempts=col(PeopleMessage.attempts) + 1)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _finish(
    engine: Engine, message: PeopleMessage, state: str, now: datetime, **values: Any
) -> None:
    with session_scope(engine) as session:
        values.update(state=state, claimed_at=None)
        if state == SENT:
            values.update(sent_at=now, error=None)
        session.execute(
            update(PeopleMessage)
            .where(col(PeopleMessage.id) == message.id, col(PeopleMessage.state) == SENDING)
            .values(**values)
        )
        if state == SENT and message.kind == GROUP_INTRO and message.intro_id is not None:
            session.execute(
                update(Intro)
                .where(
                    col(Intro.id) == message.intro_id,
                    col(Intro.state) == IntroState.ACCEPTED.value,
                )
                .values(state=IntroState.OPEN.value, opened_at=now, channel=values.get("channel"))
            )


def _mark(engine: Engine, message: PeopleMessage, **values: Any) -> None:
    """Record progress of a claimed row in its own transaction (visible after a crash)."""
    with session_scope(engine) as session:
        session.execute(
            update(PeopleMessage).where(col(PeopleMessage.id) == message.id).values(**values)
        )


def _deliver_one(
    engine: Engine,
    sender: Sender,
    opener: GroupOpener,
    message_id: int,
    *,
    now: datetime,
    lease: timedelta,
    report: DeliverReport,
) -> None:
    with session_scope(engine) as session:
        before = session.get(PeopleMessage, message_id)
        if before is None:
            return
        was_sending = before.state == SENDING
        if not _claim(session, message_id, now, lease):
            return
        session.refresh(before)
        message = before
    try:
        channel = message.channel or message.target
        if not channel and message.users:
            channel = opener(message.users)
            _mark(engine, message, channel=channel)
        if not channel:
            _finish(engine, message, FAILED, now, error="no_target")
            report.failed += 1
            return
        if was_sending and message.post_started_at is not None:  # it may have been posted
            try:
                found = sender.find_sent(channel, message.dedupe_key)
            except CannotVerify as exc:  # never risk a second copy
                _finish(engine, message, FAILED, now, error=f"unverifiable: {exc}"[:500])
                report.failed += 1
                return
            if found is not None:
                _finish(engine, message, SENT, now, channel=found.channel, slack_ts=found.ts)
                report.found += 1
                return
        _mark(engine, message, post_started_at=now)
        sent = sender.send(
            channel, blocks=message.blocks or [], text=message.text, key=message.dedupe_key
        )
    except SendError as exc:
        if exc.ambiguous:  # it may have been posted: resolved after the lease by find_sent
            report.retry += 1
            return
        if exc.permanent or message.attempts >= MAX_ATTEMPTS:
            _finish(engine, message, FAILED, now, error=exc.reason[:500])
            report.failed += 1
        else:
            _finish(engine, message, PENDING, now, error=exc.reason[:500])
            report.retry += 1
        return
    _finish(engine, message, SENT, now, channel=sent.channel, slack_ts=sent.ts)
    report.sent += 1


def deliver_pending(
    engine: Engine,
    sender: Sender,
    opener: GroupOpener,
    *,
    now: datetime,
    lease: timedelta,
    team_id: str | None = None,
) -> DeliverReport:
    """Send every queued people message (of one workspace, or all) once."""
    report = DeliverReport()
    with session_scope(engine) as session:
        ids = _sendable(session, now, lease, team_id)
    for message_id in ids:
        _deliver_one(engine, sender, opener, message_id, now=now, lease=lease, report=report)
    if ids:
        log.info("people_messages_delivered", **report.__dict__)
    return report
