"""Helpers for crawl tests: catalog rows for a fake world and settings pointing at the fake."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from bot.config import Settings, load_settings
from bot.fakes.github import FakeGitHub
from bot.store.db import session_scope
from bot.store.models import ListEntry, ListSource, Repository


def add_to_catalog(engine: Engine, *full_names: str) -> None:
    """What the catalog stage stores: a list, lower-case Repository rows, active entries."""
    with session_scope(engine) as session:
        source = ListSource(url="https://example.invalid/list.md")
        session.add(source)
        session.flush()
        for full_name in full_names:
            repo = Repository(full_name=full_name.lower())
            session.add(repo)
            session.flush()
            session.add(
                ListEntry(
                    list_id=source.id,  # type: ignore[arg-type]
                    repository_id=repo.id,
                    name=full_name,
                    url=f"https://github.com/{full_name}",
                    link_kind="github_repo",
                )
            )


def settings_for(fake: FakeGitHub, *, token: bool = True, **github: Any) -> Settings:
    values: dict[str, Any] = {"github_api_url": fake.base_url}
    if token:
        values["GITHUB_TOKEN"] = "test-token"
    settings = load_settings(**values)
    if github:
        settings.github = settings.github.model_copy(update=github)
    return settings
