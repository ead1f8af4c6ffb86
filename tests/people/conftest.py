"""Fixtures for people tests: default settings and an outbox that records what was sent."""

from __future__ import annotations

import pytest

from bot.config.settings import Settings, load_settings
from tests.people.people_world import Outbox


@pytest.fixture
def outbox() -> Outbox:
    """A console sender recording messages and the group DMs it opened."""
    return Outbox()


@pytest.fixture
def settings() -> Settings:
    """Default settings (4 mentees per mentor, buddies every 2 weeks, …)."""
    return load_settings()
