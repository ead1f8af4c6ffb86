"""The no-token crawl: REST search with several repo: qualifiers, paced, budget-aware."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from bot.fakes.github import FakeGitHub, LinkedPR
from bot.fakes.github.search import parse_query
from bot.github.crawl import crawl
from bot.github.rest_crawl import build_searches
from tests.github.conftest import add_to_catalog, settings_for
from tests.github.test_crawl_graphql import (
    NOW,
    REPOS,
    SQLITE_ONLY,
    build_world,
    issues_of,
    repo_row,
)


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(build_world(), anonymous_limits={"core": 5000, "search": 5000}) as server:
        yield server


@pytest.fixture
def listed(engine: Engine) -> Engine:
    add_to_catalog(engine, *REPOS)
    return engine


def run(engine: Engine, fake: FakeGitHub, **github: object):
    options = {"extra_labels": {"acme/kinds": ["kind/gfi"]}, "search_per_minute": 60_000}
    settings = settings_for(fake, token=False, **{**options, **github})
    return crawl(engine, settings, now=NOW)


def test_search_crawl_stores_issues_with_signals(listed: Engine, fake: FakeGitHub) -> None:
    report = run(listed, fake)
    assert report.mode == "rest" and report.status == "ok"
    issues = issues_of(listed, "acme/db")
    assert sorted(issues) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 12]
    assert issues[2].assignees == ["ann"] and issues[2].assigned_at is not None
    assert issues[4].open_pr_count == 1
    assert issues[5].claimed and issues[5].claim_text == "Hi! Can I take this?"
    assert issues[6].locked and issues[7].pinned
    assert len(issues_of(listed, "acme/many")) == 60
    assert sorted(issues_of(listed, "acme/kinds")) == [1, 2, 3]
    db = repo_row(listed, "acme/db")
    assert db.beginner_labels == ["good first issue"] and db.primary_language == "Go"
    assert repo_row(listed, "acme/old").archived


@SQLITE_ONLY
def test_search_queries_batch_repositories_and_stay_under_256_chars(
    listed: Engine, fake: FakeGitHub
) -> None:
    report = run(listed, fake)
    searches = [p for p in fake.stats.by_path if p == "GET /search/issues"]
    assert searches and fake.stats.search_requests < len(REPOS) * 3
    assert report.estimated_seconds is not None
    assert fake.stats.search_requests >= 1


@SQLITE_ONLY
def test_searches_are_paced(listed: Engine, fake: FakeGitHub) -> None:
    started = time.monotonic()
    run(listed, fake, search_per_minute=600)  # one search per 0.1 s
    elapsed = time.monotonic() - started
    assert elapsed >= (fake.stats.search_requests - 1) * 0.1


def test_details_are_skipped_when_the_budget_is_spent_but_stored_values_stay(
    listed: Engine, fake: FakeGitHub
) -> None:
    run(listed, fake)
    assert issues_of(listed, "acme/db")[5].claimed
    issue = fake.world.repo("acme/db").issues[5]
    issue.title = "Claimed in a comment (edited)"
    issue.touch(NOW)
    fake.anonymous_limits["core"] = 4  # new budget bucket below
    fake.reset_budgets()
    run(listed, fake)
    again = issues_of(listed, "acme/db")[5]
    assert again.title.endswith("(edited)") and again.claimed  # claim kept, not re-fetched
    assert fake.budget("core", authenticated=False).used <= 2  # half of 4


def test_vanished_issue_is_rechecked(listed: Engine, fake: FakeGitHub) -> None:
    run(listed, fake)
    fake.world.repo("acme/db").issues[1].state = "closed"
    report = run(listed, fake)
    assert issues_of(listed, "acme/db")[1].state == "closed"
    assert report.issues_closed == 1


def test_a_repository_answering_404_is_marked_gone(listed: Engine, fake: FakeGitHub) -> None:
    """Issue 16, finding 3 (REST mode): a 404 on the repository marks it gone with a reason."""
    del fake.world.repos["acme/quiet"]
    report = run(listed, fake)
    assert report.repos_gone == 1 and "acme/quiet" not in report.failures
    row = repo_row(listed, "acme/quiet")
    assert row.gone_at == NOW and "404" in (row.gone_reason or "") and row.crawl_error is None


@SQLITE_ONLY
def test_a_failed_search_fails_only_its_repositories(listed: Engine, fake: FakeGitHub) -> None:
    fake.faults.add("500", times=20, path="/search/issues")
    settings = settings_for(fake, token=False, search_per_minute=60_000)
    from bot.github.client import GitHubClient

    client = GitHubClient(fake.base_url, None, sleep=lambda _s: None, max_attempts=2)
    report = crawl(listed, settings, now=NOW, client=client)
    assert report.repos_failed >= 1 and report.status in ("partial", "failed")


labels = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz -:/", min_size=1, max_size=25),
    min_size=1,
    max_size=20,
    unique=True,
)
repos = st.lists(
    st.from_regex(r"[a-z][a-z0-9-]{0,20}/[a-z][a-z0-9._-]{0,25}", fullmatch=True),
    min_size=1,
    max_size=60,
    unique=True,
)


@settings(max_examples=40, deadline=None)
@given(repos, labels)
def test_searches_cover_every_repo_and_label_within_githubs_limits(
    names: list[str], wanted: list[str]
) -> None:
    searches = build_searches(names, wanted)
    covered = set()
    for query, chunk in searches:
        assert len(query) <= 256
        assert sum(query.split().count(op) for op in ("AND", "OR", "NOT")) <= 5
        assert parse_query(query).repos() == [r.lower() for r in chunk]
        for label in wanted:
            if f'"{label}"' in query:
                covered |= {(repo, label) for repo in chunk}
    assert covered == {(r, label) for r in names for label in wanted}


def test_search_query_shape() -> None:
    ((query, chunk),) = build_searches(["a/b", "c/d"], ["good first issue", "E-easy"])
    assert query == 'is:issue is:open label:"good first issue","E-easy" (repo:a/b OR repo:c/d)'
    assert chunk == ["a/b", "c/d"]
    ((single, _),) = build_searches(["a/b"], ["easy"])
    assert single == 'is:issue is:open label:"easy" repo:a/b'
    assert parse_qs(urlsplit("/x?q=" + query).query)["q"][0].startswith("is:issue")


def test_search_requests_ask_for_advanced_search(listed: Engine, fake: FakeGitHub) -> None:
    seen: list[dict[str, list[str]]] = []
    original = fake.rest.handle  # type: ignore[union-attr]

    def spy(path, query, headers):  # type: ignore[no-untyped-def]
        if path == "/search/issues":
            seen.append(query)
        return original(path, query, headers)

    fake.rest.handle = spy  # type: ignore[union-attr,method-assign]
    run(listed, fake)
    assert seen and all(q.get("advanced_search") == "true" for q in seen)
    assert all(" OR " in q["q"] for q in seen if q["q"].count("repo:") > 1)


def test_busy_timeline_is_read_to_its_newest_page(listed: Engine, fake: FakeGitHub) -> None:
    """250 old merged cross-references, then an open PR: it is on the third page."""
    start = NOW - timedelta(days=400)
    old = [
        LinkedPR(500 + n, state="MERGED", closes=False, created_at=start + timedelta(hours=n))
        for n in range(250)
    ]
    newest = LinkedPR(999, state="OPEN", closes=False, created_at=NOW - timedelta(days=1))
    busy = fake.world.repo("acme/quiet").add_issue(
        "Busy beginner task", labels=["good first issue"], linked_prs=[*old, newest]
    )
    run(listed, fake)
    stored = issues_of(listed, "acme/quiet")[busy.number]
    assert stored.open_pr_count == 1
    assert fake.stats.by_path[f"GET /repos/acme/quiet/issues/{busy.number}/timeline"] >= 2
