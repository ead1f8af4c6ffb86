"""A scripted outcome world (import as `tests.outcomes.outcome_world`): one catalog repository
with five picked issues and what happens to each over ten days, members with and without a
GitHub login, and helpers to crawl at a given day."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import Settings
from bot.fakes.github import FakeGitHub, World
from bot.fakes.github.model import EPOCH
from bot.fakes.github.timeline import Timeline
from bot.github.crawl import crawl
from bot.store.db import session_scope
from bot.store.models import Issue, Member, Pick, PickOutcome
from tests.github.conftest import add_to_catalog, settings_for

START = EPOCH
GFI = ["good first issue"]


def day(n: float) -> datetime:
    return START + timedelta(days=n)


def build_world() -> World:
    world = World()
    db = world.add_repo("acme/db", language="Go", labels=GFI, pushed_at=START)
    for n in range(1, 8):
        db.add_issue(
            f"Task {n} with <b>html</b> & stuff", labels=GFI, created_at=START - timedelta(days=30)
        )
    world.add_repo("acme/other", language="Go", labels=GFI, pushed_at=START)
    world.add_repo("elsewhere/tool", language="Go")  # not in the catalog
    for login in ("ada", "Bo", "zed", "eve"):
        world.add_user(login)
    return world


def script(world: World) -> Timeline:
    """What happens to acme/db #1-#5 after the picks of day 0."""
    t = Timeline(world)
    pr1 = t.open_pr(day(3), "acme/db", 1, "ada")  # ada's PR for #1 on day 3 ...
    t.merge(day(9), "acme/db", pr1)  # ... merges on day 9
    t.taken_by_other(day(2), day(4), "acme/db", 2, "zed")  # someone else takes #2
    mention = t.open_pr(
        day(5), "acme/db", 3, "ada", closes=False, title="See #3: <b>docs</b> & <!channel>"
    )  # "see #3", not "fixes #3"
    t.merge(day(6), "acme/db", mention)
    t.comment(day(1), "acme/db", 4, "ada", "I'd like to try this one")
    t.open_pr(day(2), "acme/db", 5, "eve")  # a PR by someone else, still open
    bo = t.open_pr(day(1), "acme/other", None, "Bo", title="Unpicked docs fix")
    t.merge(day(8), "acme/other", bo)  # a contribution the bot did not pick
    away = t.open_pr(day(1), "elsewhere/tool", None, "Bo")
    t.merge(day(2), "elsewhere/tool", away)  # not a catalog repository: not counted
    return t


def members(engine: Engine, team_id: str = "T1") -> dict[str, int]:
    """ada and bo have GitHub logins, cy has none."""
    out = {}
    with session_scope(engine) as session:
        for name, login in (("ada", "ada"), ("bo", "bo"), ("cy", None)):
            row = Member(
                slack_user_id=f"U{name.upper()}",
                team_id=team_id,
                github_login=login,
                created_at=START - timedelta(days=1),
                languages={"go": 1.0},
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            out[name] = row.id
    return out


def issue_ids(engine: Engine) -> dict[int, int]:
    with Session(engine) as session:
        return {i.number: i.id for i in session.exec(select(Issue)).all() if i.id}  # type: ignore[misc]


def pick(engine: Engine, member_id: int, issue_id: int, at: datetime, rank: int = 1) -> int:
    with session_scope(engine) as session:
        row = Pick(member_id=member_id, issue_id=issue_id, created_at=at, rank=rank)
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def settings(fake: FakeGitHub) -> Settings:
    return settings_for(fake)


def crawl_at(engine: Engine, fake: FakeGitHub, timeline: Timeline | None, when: datetime):
    if timeline is not None:
        timeline.advance(when)
    return crawl(engine, settings(fake), now=when)


def catalog(engine: Engine) -> None:
    add_to_catalog(engine, "acme/db", "acme/other")


def outcomes(engine: Engine) -> dict[int, PickOutcome]:
    with Session(engine) as session:
        return {o.pick_id: o for o in session.exec(select(PickOutcome)).all()}
