"""Helpers for crawl tests: catalog rows for a fake world and settings pointing at the fake."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from bot.config import Settings, load_settings
from bot.fakes.catalog import add_to_catalog as seed_catalog
from bot.fakes.github import FakeGitHub


def add_to_catalog(engine: Engine, *full_names: str) -> None:
    """What the catalog stage stores: a list, lower-case Repository rows, active entries."""
    seed_catalog(engine, full_names)


def settings_for(fake: FakeGitHub, *, token: bool = True, **github: Any) -> Settings:
    values: dict[str, Any] = {"github_api_url": fake.base_url}
    if token:
        values["GITHUB_TOKEN"] = "test-token"
    settings = load_settings(**values)
    if github:
        settings.github = settings.github.model_copy(update=github)
    return settings
