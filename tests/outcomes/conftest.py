"""Fixtures for outcome tests: an outbox that records what was sent."""

from __future__ import annotations

import pytest

from tests.people.people_world import Outbox


@pytest.fixture
def outbox() -> Outbox:
    """A console sender recording messages (and the group DMs it was asked to open)."""
    return Outbox()
