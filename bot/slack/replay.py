"""Replay protection for signed Slack requests, shared by replicas through the database.

Slack signs `v0:{timestamp}:{body}` and we accept a timestamp for 5 minutes, so a captured
request could be sent again within that window. `ReplayGuard.first_time(key, now)` records a key
(the request's signature, or an Events API `event_id`) and is True only the first time; rows are
purged once the window has passed (by each replica at most once a minute, not per request: the
ack path's insert is one autocommitted statement, one round trip).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.store.db import session_scope
from bot.store.models import SlackRequestSeen

WINDOW = timedelta(minutes=5)
# Slack's timestamp may be up to 5 minutes in the past *or* the future of our clock
REMEMBER = WINDOW * 2 + timedelta(minutes=1)
MAX_KEY = 200
PURGE_EVERY = timedelta(minutes=1)


class ReplayGuard:
    """Remembers accepted request keys in `slack_request_seen`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # each statement its own transaction: the ack path's insert is one round trip
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._purged_at: datetime | None = None

    def first_time(self, key: str, now: datetime) -> bool:
        """Record `key`; False when it was already recorded within the window."""
        key = key[:MAX_KEY]
        purge = self._purged_at is None or not (timedelta(0) <= now - self._purged_at < PURGE_EVERY)
        table = SlackRequestSeen.__table__  # type: ignore[attr-defined]
        with self._autocommit.connect() as conn:
            if purge:
                conn.execute(delete(table).where(table.c.expires_at < now))
                self._purged_at = now
            try:
                conn.execute(insert(table).values(key=key, expires_at=now + REMEMBER))
            except IntegrityError:  # recorded before: a replay, unless that record has lapsed
                renewed = conn.execute(
                    update(table)
                    .where(table.c.key == key, table.c.expires_at < now)
                    .values(expires_at=now + REMEMBER)
                )
                return bool(renewed.rowcount)
        return True

    def seen(self, key: str, now: datetime) -> bool:
        """Whether `key` was recorded and is still within the window (records nothing)."""
        with session_scope(self.engine) as session:
            row = session.get(SlackRequestSeen, key[:MAX_KEY])
            return row is not None and row.expires_at >= now
