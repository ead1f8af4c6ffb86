"""A fake GitHub (REST + GraphQL) on 127.0.0.1 for tests, the demo and benchmarks.

from bot.fakes.github import FakeGitHub, World
world = World()
repo = world.add_repo("acme/db", language="Go", labels=["good first issue"])
repo.add_issue("Fix typo", labels=["good first issue"])
with FakeGitHub(world) as fake:
    ...  # point clients at fake.base_url
"""

from bot.fakes.github.faults import KINDS as FAULT_KINDS
from bot.fakes.github.faults import Faults
from bot.fakes.github.model import Comment, Issue, LinkedPR, Repo, User, World
from bot.fakes.github.server import FakeGitHub, Stats

__all__ = [
    "FAULT_KINDS",
    "Comment",
    "FakeGitHub",
    "Faults",
    "Issue",
    "LinkedPR",
    "Repo",
    "Stats",
    "User",
    "World",
]
