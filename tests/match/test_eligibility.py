"""Hard filters: an unavailable issue is never picked, and each rule is counted by its code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session

from bot.config import Settings
from bot.match.eligibility import pair_keys
from bot.match.profile import profile_from_member
from bot.match.recommend import rank_profiles, recommend
from bot.store.models import Issue, Repository
from tests.match.conftest import NOW, World

DAYS = timedelta(days=1)

# rule -> (repository fields, issue fields) that make an otherwise perfect issue unavailable
ISSUE_RULES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "closed": ({}, {"state": "closed"}),
    "pull_request": ({}, {"is_pull_request": True}),
    "locked": ({}, {"locked": True}),
    "repo_archived": ({"archived": True}, {}),
    "repo_disabled": ({"disabled": True}, {}),
    "repo_gone": ({"gone_at": NOW - DAYS, "gone_reason": "NOT_FOUND: deleted"}, {}),
    "repo_inactive": ({"pushed_at": NOW - 400 * DAYS}, {}),
    "assigned": ({}, {"assignees": ["someone"], "assigned_at": NOW - 5 * DAYS}),
    "linked_pr": ({}, {"open_pr_count": 1}),
    "claimed": ({}, {"claimed": True, "claim_text": "I'd like to work on this"}),
}


def _setup(world: World, repo_fields: dict, issue_fields: dict) -> tuple[Issue, Issue]:
    good_repo = world.repo("ok/good")
    bad_repo = world.repo("bad/one", newcomer_share=0.9, **repo_fields)  # would rank first
    good = world.issue(good_repo)
    bad = world.issue(bad_repo, **issue_fields)
    return good, bad


@pytest.mark.parametrize("rule", sorted(ISSUE_RULES))
def test_each_issue_rule_keeps_the_issue_out_and_is_counted(
    rule: str, world: World, session: Session, settings: Settings
) -> None:
    good, _bad = _setup(world, *ISSUE_RULES[rule])
    member = world.member("python")
    session.commit()
    picks = recommend(session, settings, [member.id], n=3, now=NOW)[member.id]
    assert [p.issue_id for p in picks] == [good.id]
    stats = rank_profiles(session, settings, [], now=NOW).stats
    assert stats[rule] == 1
    assert stats["issues_eligible"] == 1


def test_without_the_rule_the_same_issue_would_rank_first(
    world: World, session: Session, settings: Settings
) -> None:
    _good, bad = _setup(world, {}, {})
    member = world.member("python")
    picks = recommend(session, settings, [member.id], n=1, now=NOW)[member.id]
    assert [p.issue_id for p in picks] == [bad.id]


def test_a_stale_assignment_no_longer_blocks_the_issue(
    world: World, session: Session, settings: Settings
) -> None:
    repo = world.repo("ok/repo")
    stale = world.issue(
        repo,
        assignees=["gone"],
        assigned_at=NOW - 200 * DAYS,
        updated_at=NOW - 100 * DAYS,
        last_activity_at=NOW - 100 * DAYS,
    )
    member = world.member("python")
    picks = recommend(session, settings, [member.id], n=1, now=NOW)[member.id]
    assert [p.issue_id for p in picks] == [stale.id]
    strict = settings.model_copy(
        update={"github": settings.github.model_copy(update={"stale_assignment_days": 365})}
    )
    assert recommend(session, strict, [member.id], n=1, now=NOW)[member.id] == []


def test_a_taken_report_hides_the_issue_from_its_reporter_only_until_enough_reporters(
    world: World, session: Session, settings: Settings, picks_for: Callable[..., Any]
) -> None:
    issue = world.issue(world.repo("ok/repo"))
    first, second, colleague = (world.member("python", team_id="T1") for _ in range(3))
    elsewhere = world.member("python", team_id="T2")
    world.report(first, issue)
    assert picks_for(first) == {first.id: []}
    assert picks_for(colleague) == {colleague.id: [issue.id]}  # one unconfirmed report
    world.report(second, issue)  # settings.match.taken_reporters_needed == 2
    assert picks_for(colleague) == {colleague.id: []}
    assert picks_for(elsewhere) == {elsewhere.id: [issue.id]}  # never across workspaces
    stats = rank_profiles(
        session, settings, [profile_from_member(m) for m in (first, colleague)], now=NOW
    ).stats
    assert (stats["reported_by_you"], stats["reported_in_workspace"]) == (1, 1)


def test_workspace_reports_lapse_when_github_shows_activity_after_them(
    world: World, session: Session, picks_for: Callable[..., Any]
) -> None:
    issue = world.issue(world.repo("ok/repo"), last_activity_at=NOW - 2 * DAYS)
    a, b, colleague = (world.member("python", team_id="T1") for _ in range(3))
    world.report(a, issue, at=NOW - DAYS)
    world.report(b, issue, at=NOW - DAYS)
    assert picks_for(colleague) == {colleague.id: []}
    issue.last_activity_at = NOW - timedelta(hours=1)  # a comment after the reports
    session.add(issue)
    session.flush()
    assert picks_for(colleague) == {colleague.id: [issue.id]}
    assert picks_for(a) == {a.id: []}  # the reporter still never gets it


def test_an_issue_already_sent_to_a_member_is_not_sent_again(
    world: World, session: Session, settings: Settings, picks_for: Callable[..., Any]
) -> None:
    repo_a, repo_b = world.repo("a/a"), world.repo("b/b")
    sent, fresh = world.issue(repo_a), world.issue(repo_b)
    member = world.member("python")
    world.pick(member, sent, created_at=NOW - 30 * DAYS)
    assert picks_for(member) == {member.id: [fresh.id]}
    stats = rank_profiles(session, settings, [], now=NOW).stats
    assert stats["issues_eligible"] == 2


def test_not_for_me_removes_the_issue_for_that_member_only(
    world: World, session: Session, picks_for: Callable[..., Any]
) -> None:
    repo = world.repo("a/a")
    issue = world.issue(repo)
    picky, other = world.member("python"), world.member("python")
    world.feedback(picky, issue, "not_for_me")
    assert picks_for(picky) == {picky.id: []}
    assert picks_for(other) == {other.id: [issue.id]}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # pure label logic
@pytest.mark.parametrize(
    ("labels", "level", "allowed"),
    [
        (["good first issue"], "first-timer", True),
        (["help wanted"], "first-timer", False),  # no beginner-sized promise
        (["help wanted"], "some", True),
        (["first-timers-only"], "first-timer", True),
        (["first-timers-only"], "some", False),  # kept for people new to open source
        (["first-timers-only"], "experienced", False),
    ],
)
def test_the_member_level_must_allow_the_issue(
    labels: list[str],
    level: str,
    allowed: bool,
    world: World,
    session: Session,
    settings: Settings,
) -> None:
    issue = world.issue(world.repo("a/a"), labels=labels)
    member = world.member("python", level=level)
    picks = recommend(session, settings, [member.id], now=NOW)[member.id]
    assert [p.issue_id for p in picks] == ([issue.id] if allowed else [])


def test_member_level_rules_are_counted(world: World, session: Session) -> None:
    from bot.config import load_settings

    repo_a, repo_b, repo_c = world.repo("a/a"), world.repo("b/b"), world.repo("c/c")
    sent = world.issue(repo_a)
    rejected = world.issue(repo_b)
    world.issue(repo_c, labels=["help wanted"])
    member = world.member("python")
    world.pick(member, sent)
    world.feedback(member, rejected, "not_for_me")

    stats = rank_profiles(session, load_settings(), [profile_from_member(member)], now=NOW).stats
    assert (stats["already_sent"], stats["not_for_me"], stats["level"]) == (1, 1, 1)
    assert stats["picks"] == 0


def test_repositories_never_crawled_for_activity_are_kept(
    world: World, session: Session, picks_for: Callable[..., Any]
) -> None:
    repo: Repository = world.repo("a/a", pushed_at=None)
    issue = world.issue(repo)
    member = world.member("python")
    assert picks_for(member) == {member.id: [issue.id]}


@given(
    st.lists(st.tuples(st.integers(0, 50), st.integers(0, 30)), max_size=200),
    st.integers(1, 31),
)
def test_pair_keys_are_the_sorted_distinct_pairs(pairs: list[tuple[int, int]], width: int) -> None:
    rows = np.array([r for r, _ in pairs], dtype=np.int32)
    cols = np.array([c % width for _, c in pairs], dtype=np.int32)
    keys = pair_keys(rows, cols, width)
    assert keys.tolist() == sorted({r * width + c % width for r, c in pairs})
