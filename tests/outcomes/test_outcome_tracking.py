"""Outcome tracking end to end against the fake GitHub's scripted timeline (SQLite and
PostgreSQL): every outcome state, a PR that only mentions the issue, a PR by someone else, a
member without a GitHub login, merged PRs the bot did not pick, and the crawl points spent."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.fakes.github import FakeGitHub
from bot.people.outcomes import merged_picks, merged_pr_counts
from bot.store.models import MergedPR, Repository
from tests.outcomes.outcome_world import (
    build_world,
    catalog,
    crawl_at,
    day,
    issue_ids,
    members,
    outcomes,
    pick,
    script,
)


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(build_world()) as server:
        yield server


@pytest.fixture
def world(engine: Engine, fake: FakeGitHub):
    catalog(engine)
    crawl_at(engine, fake, None, day(0))
    people = members(engine)
    issues = issue_ids(engine)
    picks = {n: pick(engine, people["ada"], issues[n], day(0)) for n in range(1, 6)}
    picks["cy"] = pick(engine, people["cy"], issues[1], day(0))
    return people, issues, picks, script(fake.world)


def test_every_outcome_state_as_the_days_pass(engine: Engine, fake: FakeGitHub, world) -> None:
    _people, _issues, picks, timeline = world
    crawl_at(engine, fake, timeline, day(5))
    seen = outcomes(engine)
    assert seen[picks[1]].state == "pr_opened" and seen[picks[1]].pr_opened_at == day(3)
    assert seen[picks[2]].state == "closed_by_other" and seen[picks[2]].closed_at == day(4)
    assert seen[picks[4]].state == "commented" and seen[picks[4]].commented_at == day(1)
    assert seen[picks[5]].state == "none"  # eve's PR is not ada's
    assert picks["cy"] not in seen  # no GitHub login: not followed
    report = crawl_at(engine, fake, timeline, day(10))
    seen = outcomes(engine)
    assert seen[picks[1]].state == "merged"
    assert (seen[picks[1]].pr_opened_at, seen[picks[1]].merged_at) == (day(3), day(9))
    assert seen[picks[1]].pr_url and "/pull/" in seen[picks[1]].pr_url
    # a PR that says "see #3" and merged: opened, never "merged" for the pick
    assert seen[picks[3]].state == "pr_opened"
    assert report.outcome_points >= 1 and report.outcome_points <= 4
    assert report.merged_new == 3  # ada: #1 (picked) and the mention; bo: unpicked, in catalog


def test_merged_prs_in_catalog_repositories_say_whether_they_were_picked(
    engine: Engine, fake: FakeGitHub, world
) -> None:
    people, issues, _picks, timeline = world
    crawl_at(engine, fake, timeline, day(10))
    with Session(engine) as session:
        rows = session.exec(select(MergedPR).order_by(MergedPR.merged_at)).all()
        repos = {r.id: r.full_name for r in session.exec(select(Repository)).all()}
        summary = [(r.member_id, repos[r.repository_id], r.picked) for r in rows]
        assert summary == [
            (people["ada"], "acme/db", False),  # the mention, day 6
            (people["bo"], "acme/other", False),  # day 8, no pick behind it
            (people["ada"], "acme/db", True),  # #1, day 9
        ]
        assert "elsewhere/tool" not in {repos[r.repository_id] for r in rows}
        db_id = next(i for i, name in repos.items() if name == "acme/db")
        assert merged_pr_counts(session, "T1")[(people["ada"], db_id)] == 2
        assert merged_picks(session, "T1") == {(people["ada"], issues[1])}
        assert merged_picks(session, "T2") == set() and merged_pr_counts(session, "T2") == {}


def test_a_second_pass_changes_nothing_and_settled_picks_are_not_fetched_again(
    engine: Engine, fake: FakeGitHub, world
) -> None:
    _people, _issues, picks, timeline = world
    crawl_at(engine, fake, timeline, day(10))
    before = {k: (v.state, v.merged_at) for k, v in outcomes(engine).items()}
    report = crawl_at(engine, fake, timeline, day(11))
    assert {k: (v.state, v.merged_at) for k, v in outcomes(engine).items()} == before
    assert report.merged_new == 0 and report.outcomes_changed == 0
    assert report.outcome_points == 1  # only the members' merged PRs: no picked issue changed
    timeline.comment(day(12), "acme/db", 5, "ada", "Still free?")
    report = crawl_at(engine, fake, timeline, day(12))
    assert report.outcome_points == 2 and outcomes(engine)[picks[5]].state == "commented"
    report = crawl_at(engine, fake, timeline, day(20))  # a week later every open pick is swept
    assert report.outcome_points == 2
    with Session(engine) as session:
        assert len(session.exec(select(MergedPR)).all()) == 3


def test_fake_nodes_query_follows_github(fake: FakeGitHub) -> None:
    issue = fake.world.repo("acme/db").issues[1]  # type: ignore[union-attr]
    query = "{{ nodes(ids: [{}]) {{ id ... on Issue {{ number }} }} }}".format(
        ", ".join(f'"{i}"' for i in (issue.node_id, "bm9wZQ=="))
    )
    headers = {"Authorization": "bearer t"}
    body = httpx.post(f"{fake.base_url}/graphql", json={"query": query}, headers=headers).json()
    assert body["data"]["nodes"][0] == {"id": issue.node_id, "number": 1}
    assert body["data"]["nodes"][1] is None
    assert body["errors"][0]["type"] == "NOT_FOUND" and body["errors"][0]["path"] == ["nodes", 1]
    many = "{{ nodes(ids: [{}]) {{ id }} }}".format(", ".join(['"x"'] * 101))
    body = httpx.post(f"{fake.base_url}/graphql", json={"query": many}, headers=headers).json()
    assert body["errors"][0]["type"] == "ARGUMENT_LIMIT"
    assert "more than 100 node ids; you provided 101" in body["errors"][0]["message"]


def test_the_same_login_in_two_workspaces_is_kept_apart(engine: Engine, fake: FakeGitHub, world):
    people, issues, _picks, timeline = world
    other = members(engine, team_id="T2")  # ada is in T2 too; nothing was picked for her there
    crawl_at(engine, fake, timeline, day(10))
    with Session(engine) as session:
        t1, t2 = merged_pr_counts(session, "T1"), merged_pr_counts(session, "T2")
        assert sum(n for (m, _r), n in t1.items() if m == people["ada"]) == 2
        assert sum(n for (m, _r), n in t2.items() if m == other["ada"]) == 2
        assert merged_picks(session, "T1") == {(people["ada"], issues[1])}
        assert merged_picks(session, "T2") == set()  # T1's pick does not count in T2
        rows = session.exec(select(MergedPR).where(MergedPR.team_id == "T2")).all()
        assert rows and not any(r.picked for r in rows)
