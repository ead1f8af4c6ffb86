"""The ranker's inputs kept in memory (bot/match/inputs): reused between picks, reloaded after a
crawl or a GitHub re-check writes issues, recomputed after "already taken" reports, never stale
for a member's own feedback; SQLite and PostgreSQL, over a crawled fake GitHub."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import Settings
from bot.core.availability import Reason
from bot.core.generation import ISSUES, REPORTS, SCOPES, generation, has_pending_writes
from bot.deliver.taken import confirm_report
from bot.fakes.github import FakeGitHub
from bot.fakes.github.model import EPOCH
from bot.github.crawl import crawl
from bot.github.issue_check import check_issue
from bot.match.inputs import CACHE
from bot.match.recommend import recommend
from bot.slack.actions import record_feedback
from bot.store.models import Issue, Member
from tests.github.conftest import crawl_for_everyone, one_issue_world

NOW = EPOCH
TEAM, OTHER_TEAM = "TA", "TB"
REPOS = 12


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(one_issue_world(REPOS, NOW)) as server:
        yield server


@pytest.fixture
def crawled(engine: Engine, fake: FakeGitHub) -> Settings:
    return crawl_for_everyone(engine, fake, REPOS, NOW)


def _member(engine: Engine, team: str, user: str) -> int:
    with Session(engine) as session:
        member = Member(team_id=team, slack_user_id=user, stack_text="python")
        member.languages = {"python": 1.0}
        session.add(member)
        session.commit()
        assert member.id is not None
        return member.id


def _picks(engine: Engine, settings: Settings, member_id: int, now: datetime) -> set[int]:
    with Session(engine) as session:
        recs = recommend(session, settings, [member_id], n=REPOS, now=now)
    return {r.issue_id for r in recs[member_id]}


def _issue(engine: Engine, issue_id: int) -> tuple[str, int]:
    with Session(engine) as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        return issue.url.split("github.com/")[1].split("/issues")[0], issue.number


def _all_issue_ids(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return sorted(i for i in session.exec(select(Issue.id)).all() if i is not None)


def test_picks_reuse_the_loaded_inputs_until_a_crawl_writes_issues(
    engine: Engine, crawled: Settings, fake: FakeGitHub
) -> None:
    member = _member(engine, TEAM, "UA")
    issues = _all_issue_ids(engine)
    loads = CACHE.loads
    assert _picks(engine, crawled, member, NOW + timedelta(hours=1)) == set(issues)
    assert _picks(engine, crawled, member, NOW + timedelta(hours=2)) == set(issues)
    assert CACHE.loads == loads + 1  # the second call reused the first one's inputs
    # on GitHub the first issue gets closed; the next crawl writes that
    full, number = _issue(engine, issues[0])
    gh_issue = fake.world.repo(full).issues[number]  # type: ignore[union-attr]
    gh_issue.state = "closed"
    gh_issue.touch(NOW + timedelta(hours=3))
    before = generation_of(engine)
    crawl(engine, crawled, now=NOW + timedelta(hours=4))
    assert generation_of(engine)[SCOPES.index(ISSUES)] > before[SCOPES.index(ISSUES)]
    assert _picks(engine, crawled, member, NOW + timedelta(hours=5)) == set(issues[1:])
    assert CACHE.loads == loads + 2


def test_a_github_recheck_after_a_report_hides_the_issue_from_a_member_with_warm_inputs(
    engine: Engine, crawled: Settings, fake: FakeGitHub
) -> None:
    reporter = _member(engine, TEAM, "UA")
    other = _member(engine, OTHER_TEAM, "UC")
    issues = _all_issue_ids(engine)
    later = NOW + timedelta(hours=2)
    assert issues[0] in _picks(engine, crawled, other, later)  # inputs loaded and kept
    full, number = _issue(engine, issues[0])
    gh_issue = fake.world.repo(full).issues[number]  # type: ignore[union-attr]
    gh_issue.assignees, gh_issue.assigned_at = ["ann"], NOW + timedelta(hours=1)
    gh_issue.touch(NOW + timedelta(hours=1))
    click = record_feedback(engine, crawled, TEAM, "UA", issues[0], "pick_taken", now=later)
    assert click is not None and click.member_id == reporter

    def checker(engine_: Engine, settings_: Settings, issue_id: int, now: datetime) -> bool:
        return check_issue(engine_, settings_, issue_id, now=now)

    assert confirm_report(engine, crawled, reporter, issues[0], later, checker) is Reason.ASSIGNED
    assert issues[0] not in _picks(engine, crawled, other, later)  # another workspace too


def test_reports_of_a_workspace_hide_the_issue_there_without_reloading_the_issues(
    engine: Engine, crawled: Settings
) -> None:
    ann, bob, cat = (_member(engine, TEAM, u) for u in ("UA", "UB", "UC"))
    elsewhere = _member(engine, OTHER_TEAM, "UD")
    issues = _all_issue_ids(engine)
    later = NOW + timedelta(hours=1)
    assert _picks(engine, crawled, cat, later) == set(issues)
    loads = CACHE.loads
    reports_before = generation_of(engine)[SCOPES.index(REPORTS)]
    for user in ("UA", "UB"):  # match.taken_reporters_needed = 2
        click = record_feedback(engine, crawled, TEAM, user, issues[3], "pick_taken", now=later)
        assert click is not None and not click.limited
    assert generation_of(engine)[SCOPES.index(REPORTS)] > reports_before
    assert _picks(engine, crawled, cat, later) == set(issues) - {issues[3]}
    assert _picks(engine, crawled, elsewhere, later) == set(issues)
    for reporter in (ann, bob):
        assert issues[3] not in _picks(engine, crawled, reporter, later)
    assert CACHE.loads == loads  # only the per-workspace answer was recomputed


def test_a_members_feedback_counts_at_once_with_warm_inputs(
    engine: Engine, crawled: Settings
) -> None:
    member = _member(engine, TEAM, "UA")
    issues = _all_issue_ids(engine)
    later = NOW + timedelta(hours=1)
    assert _picks(engine, crawled, member, later) == set(issues)
    loads = CACHE.loads
    click = record_feedback(engine, crawled, TEAM, "UA", issues[5], "pick_not_for_me", now=later)
    assert click is not None
    assert issues[5] not in _picks(engine, crawled, member, later)
    assert CACHE.loads == loads  # member-side data is read per call, never cached


def test_a_session_sees_its_uncommitted_issues_and_nobody_else_does(
    engine: Engine, crawled: Settings
) -> None:
    member = _member(engine, TEAM, "UA")
    issues = _all_issue_ids(engine)
    later = NOW + timedelta(hours=1)
    assert _picks(engine, crawled, member, later) == set(issues)
    with Session(engine) as session:
        closing = session.get(Issue, issues[0])
        assert closing is not None
        closing.state = "closed"  # e.g. a crawl in progress, not committed yet
        session.add(closing)
        session.flush()
        assert has_pending_writes(session, ISSUES)
        mine = recommend(session, crawled, [member], n=REPOS, now=later)[member]
        assert {r.issue_id for r in mine} == set(issues[1:])
        session.rollback()
    assert _picks(engine, crawled, member, later) == set(issues)


def test_concurrent_picks_load_the_inputs_once(engine: Engine, crawled: Settings) -> None:
    members = [_member(engine, TEAM, f"U{i}") for i in range(6)]
    loads = CACHE.loads
    later = NOW + timedelta(hours=1)
    results: list[set[int]] = []
    threads = [
        threading.Thread(target=lambda m=m: results.append(_picks(engine, crawled, m, later)))
        for m in members
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == len(members) and all(r == results[0] for r in results)
    assert CACHE.loads == loads + 1


def generation_of(engine: Engine) -> tuple[int, ...]:
    with Session(engine) as session:
        return generation(session)


def test_a_load_takes_the_cached_table_out_of_cyclic_gc_for_one_generation_at_most() -> None:
    import gc
    import weakref

    from bot.match.inputs import settle_heap

    class Node:
        pass

    node = Node()
    node.self = node  # type: ignore[attr-defined]  # a reference cycle: only cyclic GC frees it
    gone = weakref.ref(node)
    settle_heap()  # a load: everything alive (the table, this cycle) is frozen
    assert gc.get_freeze_count() > 0
    del node
    gc.collect()
    assert gone() is not None  # frozen: a full collection skips it (and the table)
    settle_heap()  # the next load: last generation's garbage is collected
    assert gone() is None
