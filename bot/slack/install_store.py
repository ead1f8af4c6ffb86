"""OAuth installation and state stores in the project's database (multi-workspace HTTP mode)."""

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

from bot.store.db import session_scope
from bot.store.models import SlackInstallation, SlackOAuthState

log = logging.getLogger(__name__)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, default=str))


class SqlInstallationStore(InstallationStore):
    """One installation per (enterprise, team); the newest install replaces the older one."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def logger(self) -> logging.Logger:
        return log

    def save(self, installation: Installation) -> None:
        """Store (or replace) a workspace's installation."""
        enterprise_id = installation.enterprise_id or ""
        team_id = installation.team_id or ""
        data = _jsonable(installation.to_dict_for_copying())
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
            row.bot_token = installation.bot_token
            row.installer_user_id = installation.user_id
            row.is_enterprise_install = bool(installation.is_enterprise_install)
            row.data = data
            row.installed_at = datetime.now(UTC)
            session.add(row)

    def save_bot(self, bot: Bot) -> None:
        """Bots are saved together with their installation."""

    def _row(self, enterprise_id: str | None, team_id: str | None) -> SlackInstallation | None:
        with session_scope(self.engine) as session:
            query = select(SlackInstallation).where(
                SlackInstallation.enterprise_id == (enterprise_id or "")
            )
            if team_id:
                query = query.where(SlackInstallation.team_id == team_id)
            return session.exec(query.order_by(col(SlackInstallation.installed_at).desc())).first()

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The workspace's installation, or None if the app isn't installed there."""
        row = self._row(enterprise_id, None if is_enterprise_install else team_id)
        if row is None or not row.data:
            return None
        return Installation(**row.data)

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
            session.exec(  # type: ignore[call-overload]
                delete(SlackInstallation).where(
                    col(SlackInstallation.enterprise_id) == (enterprise_id or ""),
                    col(SlackInstallation.team_id) == (team_id or ""),
                )
            )

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Same as deleting the installation (one row holds both)."""
        self.delete_installation(enterprise_id=enterprise_id, team_id=team_id)


class SqlOAuthStateStore(OAuthStateStore):
    """One-time OAuth `state` values with an expiry, in the database."""

    def __init__(self, engine: Engine, expiration_seconds: int = 600) -> None:
        self.engine = engine
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return log

    def issue(self, *args: Any, **kwargs: Any) -> str:
        """A new random state value."""
        state = secrets.token_urlsafe(24)
        expires = datetime.now(UTC) + timedelta(seconds=self.expiration_seconds)
        with session_scope(self.engine) as session:
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
