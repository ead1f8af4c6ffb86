"""The token crawl against the fake GitHub: every availability signal, incremental re-crawl,
vanished issues, faults, resumption, dry run. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.fakes.github import Comment, FakeGitHub, LinkedPR, World
from bot.fakes.github.model import EPOCH
from bot.github.client import GitHubClient
from bot.github.crawl import CrawlTargetError, crawl
from bot.github.persist import CrawlStore
from bot.store.models import CrawlRun, Issue, Repository
from tests.github.conftest import add_to_catalog, settings_for

NOW = EPOCH
FIRST_TIMER = "FIRST_TIME_CONTRIBUTOR"
DAY = timedelta(days=1)
# Tests of API behaviour (faults, budgets) need not run on both databases.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
REPOS = ("acme/db", "acme/old", "acme/kinds", "acme/many", "acme/quiet")


def build_world() -> World:
    world = World()
    db = world.add_repo(
        "acme/db",
        language="Go",
        languages={"Go": 50_000, "Shell": 500},
        topics=["raft", "storage"],
        labels=["good first issue", "bug"],
        license="Apache-2.0",
        contributing_path=".github/CONTRIBUTING.md",
        pushed_at=NOW - DAY,
    )
    created = NOW - 30 * DAY
    base = {"labels": ["good first issue"], "created_at": created, "updated_at": created}
    db.add_issue("Free task", **base)  # 1
    db.add_issue("Assigned task", assignees=["ann"], assigned_at=NOW - 3 * DAY, **base)  # 2
    db.add_issue("Has a closing PR", linked_prs=[LinkedPR(101, closes=True)], **base)  # 3
    db.add_issue("Mentioned by a PR", linked_prs=[LinkedPR(102, closes=False)], **base)  # 4
    db.add_issue(
        "Claimed in a comment",
        comments=[Comment("newbie", "Hi! Can I take this?", NOW - 2 * DAY)],
        **base,
    )  # 5
    db.add_issue("Locked", locked=True, **base)  # 6
    db.add_issue("Tracking: good first issues", pinned=True, **base)  # 7
    db.add_issue("Old merged PR", linked_prs=[LinkedPR(103, state="MERGED")], **base)  # 8
    db.add_issue(
        "Maintainer replied",
        comments=[
            Comment(
                "acme",
                "Happy to review a PR",
                created + 10 * timedelta(hours=1),
                association="MEMBER",
            )
        ],
        **base,
    )  # 9
    db.add_issue("A bug, not for beginners", labels=["bug"])  # 10
    db.add_issue(
        "Closed beginner task",
        state="closed",
        labels=["good first issue"],
        created_at=created,
        updated_at=created,
        linked_prs=[LinkedPR(104, state="MERGED", association=FIRST_TIMER)],
    )
    db.add_issue(
        "Stale claim",
        comments=[Comment("ghost", "I'd like to work on this", NOW - 200 * DAY)],
        **base,
    )  # 12
    world.add_repo("acme/old", archived=True, pushed_at=NOW - 800 * DAY, labels=["easy"])
    world.repo("acme/old").add_issue("Archived task", labels=["easy"])
    kinds = world.add_repo("acme/kinds", labels=["E-easy", "Good-First-Issue", "kind/gfi"])
    kinds.add_issue("Rust-style label", labels=["E-easy"])
    kinds.add_issue("Dashed label", labels=["Good-First-Issue"])
    kinds.add_issue("Project-specific label", labels=["kind/gfi"])
    many = world.add_repo("acme/many", labels=["help wanted"])
    for n in range(60):
        opened = created + n * timedelta(minutes=1)
        many.add_issue(f"Task {n}", labels=["help wanted"], created_at=opened)
    world.add_repo("acme/quiet", labels=["bug"], contributing_path=None)
    return world


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(build_world()) as server:
        yield server


@pytest.fixture
def listed(engine: Engine) -> Engine:
    add_to_catalog(engine, *REPOS)
    return engine


def run(engine: Engine, fake: FakeGitHub, **options: object):
    settings = settings_for(fake, extra_labels={"acme/kinds": ["kind/gfi"]}, issues_per_page=25)
    return crawl(engine, settings, now=NOW, **options)  # type: ignore[arg-type]


def issues_of(engine: Engine, repo: str) -> dict[int, Issue]:
    with Session(engine) as session:
        repo_id = session.exec(select(Repository.id).where(Repository.full_name == repo)).one()
        rows = session.exec(select(Issue).where(Issue.repository_id == repo_id)).all()
        return {row.number: row for row in rows}


def repo_row(engine: Engine, repo: str) -> Repository:
    with Session(engine) as session:
        return session.exec(select(Repository).where(Repository.full_name == repo)).one()


def test_every_availability_signal_is_stored(listed: Engine, fake: FakeGitHub) -> None:
    report = run(listed, fake)
    assert report.status == "ok" and report.repos_done == len(REPOS)
    issues = issues_of(listed, "acme/db")
    assert 10 not in issues and 11 not in issues  # not beginner / not open
    free = issues[1]
    assert (free.assignees, free.open_pr_count, free.claimed, free.locked) == ([], 0, False, False)
    assert issues[2].assignees == ["ann"] and issues[2].assigned_at == NOW - 3 * DAY
    assert issues[3].open_pr_count == 1 and issues[3].linked_prs[0]["closes"] is True
    assert issues[4].open_pr_count == 1 and issues[4].linked_prs[0]["number"] == 102
    assert issues[5].claimed and issues[5].claim_text == "Hi! Can I take this?"
    assert issues[5].claimed_by == "newbie"
    assert issues[6].locked
    assert issues[7].pinned
    assert issues[8].open_pr_count == 0 and issues[8].linked_prs[0]["state"] == "MERGED"
    assert not issues[12].claimed and issues[12].claim_text  # stale claim kept for explanation
    assert free.labels == ["good first issue"] and free.url.endswith("/acme/db/issues/1")


def test_repository_fields(listed: Engine, fake: FakeGitHub) -> None:
    run(listed, fake)
    db = repo_row(listed, "acme/db")
    assert db.languages == {"Go": 50_000, "Shell": 500} and db.primary_language == "Go"
    assert db.topics == ["raft", "storage"] and db.license == "Apache-2.0"
    assert db.has_contributing and db.beginner_labels == ["good first issue"]
    assert db.pushed_at == NOW - DAY and not db.archived
    assert db.maintainer_response_hours == 10.0
    assert db.newcomer_share == 1.0
    old = repo_row(listed, "acme/old")
    assert old.archived and old.pushed_at == NOW - 800 * DAY
    assert not repo_row(listed, "acme/quiet").has_contributing


@SQLITE_ONLY
def test_label_variants_and_per_repo_extras(listed: Engine, fake: FakeGitHub) -> None:
    run(listed, fake)
    assert sorted(repo_row(listed, "acme/kinds").beginner_labels) == sorted(
        ["E-easy", "Good-First-Issue", "kind/gfi"]
    )
    assert sorted(issues_of(listed, "acme/kinds")) == [1, 2, 3]


@SQLITE_ONLY
def test_paginates_fully(listed: Engine, fake: FakeGitHub) -> None:
    run(listed, fake)
    assert sorted(issues_of(listed, "acme/many")) == list(range(1, 61))


def test_first_crawl_is_cheap_and_unchanged_recrawl_costs_almost_nothing(
    listed: Engine, fake: FakeGitHub
) -> None:
    first = run(listed, fake)
    assert first.requests <= 7  # 6 queries + the free GET /rate_limit the plan starts from
    before = {n: i.crawled_at for n, i in issues_of(listed, "acme/db").items()}
    fake.stats.reset()
    again = run(listed, fake)
    assert again.repos_unchanged == len(REPOS) and again.issues_seen == 0
    assert fake.stats.graphql_requests == 1 and fake.stats.points <= 5
    assert fake.stats.by_path["GET /rate_limit"] == 1  # not counted by GitHub
    assert {n: i.crawled_at for n, i in issues_of(listed, "acme/db").items()} == before


def test_a_change_recrawls_only_that_repository(listed: Engine, fake: FakeGitHub) -> None:
    run(listed, fake)
    issue = fake.world.repo("acme/db").issues[1]
    issue.comments.append(Comment("eager", "/assign", NOW - timedelta(hours=1)))
    issue.touch(NOW - timedelta(hours=1))
    fake.stats.reset()
    report = run(listed, fake)
    assert report.repos_unchanged == len(REPOS) - 1
    assert issues_of(listed, "acme/db")[1].claimed
    issue_queries = [q for q in fake.stats.queries if q.startswith("query Issues")]
    assert len(issue_queries) == 1 and "acme" in issue_queries[0]
    assert '"many"' not in issue_queries[0]


def test_vanished_issues_are_rechecked_not_deleted(listed: Engine, fake: FakeGitHub) -> None:
    run(listed, fake)
    repo = fake.world.repo("acme/db")
    repo.issues[1].state = "closed"
    repo.issues[1].touch(NOW)
    repo.issues[2].labels = ["bug"]
    repo.issues[2].touch(NOW)
    del repo.issues[3]  # deleted or transferred away
    report = run(listed, fake)
    issues = issues_of(listed, "acme/db")
    assert (issues[1].state, issues[2].state, issues[3].state) == ("closed", "unlabelled", "gone")
    assert issues[2].labels == ["bug"]
    assert report.issues_rechecked == 3 and report.issues_closed == 3
    assert issues[4].state == "open"


def test_partial_graphql_error_fails_one_repo_which_is_retried_next_run(
    listed: Engine, fake: FakeGitHub
) -> None:
    fake.faults.add("graphql_partial", path="/graphql")  # hits the first query (metadata)
    report = run(listed, fake)
    assert report.repos_failed == 1 and report.status == "partial"
    (failed,) = report.failures
    assert repo_row(listed, failed).crawl_error
    assert report.repos_done == len(REPOS) - 1
    fake.stats.reset()
    retry = run(listed, fake)
    assert retry.repos_failed == 0 and repo_row(listed, failed).crawl_error is None
    assert retry.repos_unchanged == len(REPOS) - 1
    with Session(listed) as session:
        runs = session.exec(select(CrawlRun).order_by(CrawlRun.id)).all()
    assert [r.status for r in runs] == ["partial", "ok"]


@SQLITE_ONLY
def test_server_errors_shrink_batches_and_nothing_is_lost(listed: Engine, fake: FakeGitHub) -> None:
    settings = settings_for(fake, issues_per_page=25, max_query_points=3, concurrency=1)
    client = GitHubClient(fake.base_url, "t", max_attempts=2, sleep=lambda _s: None)
    fake.faults.add("502", times=2, path="/graphql")  # the whole first metadata batch fails
    report = crawl(listed, settings, now=NOW, client=client)
    assert report.repos_failed == 0 and report.repos_done == len(REPOS)
    assert len(issues_of(listed, "acme/many")) == 60


@SQLITE_ONLY
def test_transient_faults_do_not_change_the_result(listed: Engine, fake: FakeGitHub) -> None:
    settings = settings_for(fake, issues_per_page=25)
    client = GitHubClient(fake.base_url, "t", sleep=lambda _s: None)
    kinds = ["500", "429", "secondary", "reset", "slow_body"]
    for kind in kinds:
        fake.faults.add(kind, path="/graphql", retry_after=0, delay=0.1)
    report = crawl(listed, settings, now=NOW, client=client)
    assert report.status == "ok" and len(issues_of(listed, "acme/db")) == 10
    assert sorted(kind for kind, _ in fake.faults.fired) == sorted(kinds)
    assert client.usage.retries == 4  # slow_body succeeds without a retry


@SQLITE_ONLY
def test_rate_limited_crawl_stops_cleanly_and_keeps_data(listed: Engine, fake: FakeGitHub) -> None:
    run(listed, fake)
    fake.world.repo("acme/db").issues[1].touch(NOW)
    fake.faults.add("403_rate_limit", times=10, path="/graphql", retry_after=7200)
    report = run(listed, fake)
    assert report.stopped and "rate limit" in report.stopped
    assert issues_of(listed, "acme/db")[1].state == "open"  # nothing deleted


@SQLITE_ONLY
def test_budget_share_is_respected(listed: Engine, fake: FakeGitHub) -> None:
    fake.limits["graphql"] = 10
    settings = settings_for(fake, max_budget_share=0.5)
    report = crawl(listed, settings, now=NOW)
    assert fake.stats.points <= 5
    assert report.stopped and "budget" in report.stopped


def test_a_killed_crawl_resumes_where_it_stopped(
    listed: Engine, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved: list[str] = []
    original = CrawlStore.save_repo

    def dying_save(self: CrawlStore, target, values) -> None:  # type: ignore[no-untyped-def]
        if "crawl_fingerprint" in values and len(saved) == 2:
            raise KeyboardInterrupt  # the process is killed here
        original(self, target, values)
        if "crawl_fingerprint" in values:
            saved.append(target.full_name)

    monkeypatch.setattr(CrawlStore, "save_repo", dying_save)
    with pytest.raises(KeyboardInterrupt):
        run(listed, fake)
    monkeypatch.setattr(CrawlStore, "save_repo", original)
    fake.stats.reset()
    report = run(listed, fake)  # the pass resumes: the two saved repositories cost nothing
    assert report.repos_done == len(REPOS) - 2 and report.repos_unchanged == 0
    assert (report.pass_done, report.pass_total) == (len(REPOS), len(REPOS))
    assert not any(f'"{n.split("/")[1]}"' in q for q in fake.stats.queries for n in saved)
    with Session(listed) as session:
        statuses = [r.status for r in session.exec(select(CrawlRun).order_by(CrawlRun.id))]
    assert statuses == ["failed", "ok"]


def test_dry_run_stores_nothing(listed: Engine, fake: FakeGitHub) -> None:
    report = run(listed, fake, dry_run=True)
    assert report.issues_seen > 60 and report.dry_run
    assert issues_of(listed, "acme/db") == {}
    assert repo_row(listed, "acme/db").crawled_at is None
    with Session(listed) as session:
        assert session.exec(select(CrawlRun)).all() == []


@SQLITE_ONLY
def test_one_repository_only(listed: Engine, fake: FakeGitHub) -> None:
    report = run(listed, fake, repo="ACME/kinds")
    assert report.repos_total == 1 and issues_of(listed, "acme/db") == {}
    assert len(issues_of(listed, "acme/kinds")) == 3
    with pytest.raises(CrawlTargetError, match="not in the catalog"):
        run(listed, fake, repo="acme/unknown")


def test_deleted_repository_is_marked_gone_not_failed(listed: Engine, fake: FakeGitHub) -> None:
    """Issue 16, finding 3: NOT_FOUND (confirmed by a REST 404) marks the repository."""
    run(listed, fake)
    del fake.world.repos["acme/quiet"]
    report = run(listed, fake)
    assert report.failures == {} and report.repos_gone == 1 and report.status == "ok"
    row = repo_row(listed, "acme/quiet")
    assert row.gone_at == NOW and row.crawl_error is None
    assert "NOT_FOUND" in (row.gone_reason or "") and "Could not resolve" in row.gone_reason
    again = run(listed, fake)  # still gone: stays marked, since the first time it was seen
    assert again.status == "ok" and repo_row(listed, "acme/quiet").gone_at == NOW


@SQLITE_ONLY
def test_a_repository_that_comes_back_is_no_longer_gone(listed: Engine, fake: FakeGitHub) -> None:
    quiet = fake.world.repos.pop("acme/quiet")
    run(listed, fake)
    assert repo_row(listed, "acme/quiet").gone_at is not None
    fake.world.repos["acme/quiet"] = quiet
    run(listed, fake)
    row = repo_row(listed, "acme/quiet")
    assert row.gone_at is None and row.gone_reason is None


@SQLITE_ONLY
def test_not_found_that_rest_does_not_confirm_stays_a_transient_failure(
    listed: Engine, fake: FakeGitHub
) -> None:
    del fake.world.repos["acme/quiet"]
    fake.faults.add("500", times=50, path="/repos/acme/quiet")
    report = run(listed, fake)
    assert list(report.failures) == ["acme/quiet"] and report.repos_gone == 0
    row = repo_row(listed, "acme/quiet")
    assert row.gone_at is None and "Could not resolve" in (row.crawl_error or "")


@SQLITE_ONLY
def test_partial_errors_never_mark_a_repository_gone(listed: Engine, fake: FakeGitHub) -> None:
    fake.faults.add("graphql_partial", path="/graphql")
    report = run(listed, fake)
    (failed,) = report.failures
    assert repo_row(listed, failed).gone_at is None and report.repos_gone == 0


@SQLITE_ONLY
def test_a_renamed_repository_that_github_resolves_is_crawled_not_gone(
    listed: Engine, fake: FakeGitHub
) -> None:
    import dataclasses

    old = fake.world.repos.pop("acme/quiet")
    fake.world.repos["acme/quiet"] = dataclasses.replace(old, name="calm")  # old name redirects
    report = run(listed, fake)
    assert report.failures == {} and report.repos_gone == 0
    assert repo_row(listed, "acme/quiet").gone_at is None
