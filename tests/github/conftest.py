"""Helpers for crawl tests: catalog rows for a fake world and settings pointing at the fake."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from bot.config import Settings, load_settings
from bot.fakes.catalog import add_to_catalog as seed_catalog
from bot.fakes.github import FakeGitHub, World
from bot.github.crawl import crawl


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


def one_issue_world(repos: int, now: datetime) -> World:
    """`repos` live Python repositories acme/db0… each with one open good-first issue."""
    world = World()
    for r in range(repos):
        repo = world.add_repo(
            f"acme/db{r}",
            language="Python",
            languages={"Python": 10_000},
            labels=["good first issue"],
            pushed_at=now - timedelta(days=1),
        )
        created = now - timedelta(days=20)
        repo.add_issue(
            f"Task {r}", labels=["good first issue"], created_at=created, updated_at=created
        )
    return world


def crawl_for_everyone(engine: Engine, fake: FakeGitHub, repos: int, now: datetime) -> Settings:
    """Catalog and crawl `one_issue_world(repos)` with a token; settings that let every member
    get every issue (capacity 100)."""
    add_to_catalog(engine, *(f"acme/db{r}" for r in range(repos)))
    settings = settings_for(fake)
    settings.match = settings.match.model_copy(update={"issue_capacity": 100})
    report = crawl(engine, settings, now=now)
    assert report.repos_failed == 0 and report.issues_available == repos
    return settings
