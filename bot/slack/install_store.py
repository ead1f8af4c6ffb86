"""OAuth installation and state stores in the project's database (multi-workspace HTTP mode).

Installations are found only by an exact (enterprise id, team id) match; a lookup without a
team id finds nothing, so a request can never borrow another workspace's token. Tokens are
stored encrypted (`TokenBox`); the `data` JSON never holds a token. Expired OAuth states are
purged whenever a new one is issued.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.slack.token_box import TokenBox
from bot.store.db import session_scope
from bot.store.models import SlackInstallation, SlackOAuthState

log = logging.getLogger(__name__)

_TOKEN_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, default=str))


class SqlInstallationStore(InstallationStore):
    """One installation per (enterprise, team); the newest install replaces the older one."""

    def __init__(self, engine: Engine, box: TokenBox) -> None:
        self.engine = engine
        self.box = box

    @property
    def logger(self) -> logging.Logger:
        return log

    def save(self, installation: Installation) -> None:
        """Store (or replace) a workspace's installation; ValueError without a team id."""
        enterprise_id = installation.enterprise_id or ""
        team_id = installation.team_id or ""
        if not team_id:
            raise ValueError("installations without a workspace (org-wide) are not supported")
        data = _jsonable(installation.to_dict_for_copying())
        tokens = {k: data.pop(k, None) for k in _TOKEN_FIELDS}
        bot_tokens = {k: v for k, v in tokens.items() if k.startswith("bot_") and v}
        with session_scope(self.engine) as session:
            row = session.exec(
                select(SlackInstallation).where(
                    SlackInstallation.enterprise_id == enterprise_id,
                    SlackInstallation.team_id == team_id,
                )
            ).first() or SlackInstallation(enterprise_id=enterprise_id, team_id=team_id)
            row.team_name = installation.team_name
            row.app_id = installation.app_id
            row.bot_user_id = installation.bot_user_id
            row.bot_token = self.box.seal(json.dumps(bot_tokens)) if bot_tokens else None
            row.installer_user_id = installation.user_id
            row.is_enterprise_install = bool(installation.is_enterprise_install)
            row.data = data
            row.installed_at = datetime.now(UTC)
            session.add(row)

    def save_bot(self, bot: Bot) -> None:
        """Bots are saved together with their installation."""

    def _row(self, enterprise_id: str | None, team_id: str | None) -> SlackInstallation | None:
        if not team_id:
            return None
        with session_scope(self.engine) as session:
            query = select(SlackInstallation).where(
                SlackInstallation.enterprise_id == (enterprise_id or ""),
                SlackInstallation.team_id == team_id,
            )
            return session.exec(query).first()

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The workspace's installation (exact match), or None if the app isn't installed there.

        `is_enterprise_install` is ignored: org-wide installs are never stored.
        """
        row = self._row(enterprise_id, team_id)
        if row is None or not row.data:
            return None
        data = dict(row.data)
        if row.bot_token:
            plain = self.box.open(row.bot_token)
            if plain is None:
                log.error(
                    "cannot decrypt the token of workspace %s: check MATCHMAKER_SECRET_KEY", team_id
                )
                return None
            data.update(json.loads(plain))
        return Installation(**data)

    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        """The bot token etc. for a workspace."""
        installation = self.find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return installation.to_bot() if installation else None

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """Forget a workspace (app uninstalled / tokens revoked)."""
        with session_scope(self.engine) as session:
            session.exec(
                delete(SlackInstallation).where(
                    col(SlackInstallation.enterprise_id) == (enterprise_id or ""),
                    col(SlackInstallation.team_id) == (team_id or ""),
                )
            )

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Same as deleting the installation (one row holds both)."""
        self.delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    def rotate(self) -> tuple[int, int]:
        """Re-encrypt every stored token with the first key; (rewritten, unreadable) counts."""
        rewritten = unreadable = 0
        with session_scope(self.engine) as session:
            for row in session.exec(select(SlackInstallation)):
                if not row.bot_token:
                    continue
                sealed = self.box.reseal(row.bot_token)
                if sealed is None:
                    unreadable += 1
                    continue
                row.bot_token = sealed
                session.add(row)
                rewritten += 1
        return rewritten, unreadable


class SqlOAuthStateStore(OAuthStateStore):
    """One-time OAuth `state` values with an expiry, in the database."""

    def __init__(self, engine: Engine, expiration_seconds: int = 600) -> None:
        self.engine = engine
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return log

    def issue(self, *args: Any, **kwargs: Any) -> str:
        """A new random state value (expired ones are purged first)."""
        state = secrets.token_urlsafe(24)
        now = datetime.now(UTC)
        with session_scope(self.engine) as session:
            session.exec(delete(SlackOAuthState).where(col(SlackOAuthState.expires_at) <= now))
            expires = now + timedelta(seconds=self.expiration_seconds)
            session.add(SlackOAuthState(state=state, expires_at=expires))
        return state

    def consume(self, state: str) -> bool:
        """True once for a state that was issued and hasn't expired; it can't be reused."""
        with session_scope(self.engine) as session:
            query = select(SlackOAuthState).where(SlackOAuthState.state == state)
            row = session.exec(query).first()
            if row is None:
                return False
            session.delete(row)
            return row.expires_at > datetime.now(UTC)
