"""The availability module: its SQL and NumPy forms agree on every issue, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlmodel import Session

from bot.config import load_settings
from bot.core import availability as av
from bot.store.models import Hold, Issue, Member, Repository

NOW = datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # a European DST change, on purpose
DAY = timedelta(days=1)
POLICY = av.Policy.at(load_settings(), NOW)

maybe_time = st.one_of(
    st.none(),
    st.sampled_from([NOW - 1000 * DAY, NOW - 366 * DAY, NOW - 61 * DAY, NOW - 59 * DAY, NOW]),
)
issues = st.fixed_dictionaries(
    {
        "state": st.sampled_from(["open", "closed", "unlabelled", "gone"]),
        "is_pull_request": st.booleans(),
        "locked": st.booleans(),
        "assignees": st.sampled_from([None, [], ["ann"], ["ann", "bob"]]),
        "assigned_at": maybe_time,
        "updated_at": maybe_time,
        "last_activity_at": maybe_time,
        "open_pr_count": st.sampled_from([0, 0, 1, 3]),
        "claimed": st.booleans(),
    }
)
repos = st.fixed_dictionaries(
    {"archived": st.booleans(), "disabled": st.booleans(), "pushed_at": maybe_time}
)


def test_every_reason_has_a_rule_and_user_facing_text() -> None:
    assert [rule.reason for rule in av.RULES] == list(av.Reason)
    assert all(av.reason_text(reason) for reason in av.Reason)
    assert av.reason_text("no-such-reason") == ""


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.tuples(repos, issues), min_size=1, max_size=12))
def test_sql_and_numpy_give_the_same_first_reason(session: Session, rows) -> None:
    session.execute(delete(Issue))
    session.execute(delete(Repository))
    stored = []
    for n, (repo_values, issue_values) in enumerate(rows):
        repo = Repository(full_name=f"o/r{n}", **repo_values)
        session.add(repo)
        session.flush()
        issue = Issue(
            node_id=f"I{n}",
            repository_id=repo.id,
            number=n + 1,
            title="t",
            url="u",
            crawled_at=NOW,
            **issue_values,
        )
        session.add(issue)
        session.flush()
        stored.append((issue, repo))
    by_sql = dict(
        session.execute(
            select(Issue.id, av.reason_case(POLICY)).join(
                Repository, Repository.id == Issue.repository_id
            )
        ).all()
    )
    columns = av.issue_columns([i for i, _ in stored], [r for _, r in stored])
    by_numpy = {
        issue.id: (reason.value if (reason := av.code_reason(int(code))) else None)
        for (issue, _), code in zip(stored, av.reason_codes(columns, POLICY), strict=True)
    }
    assert by_sql == by_numpy
    available = set(
        session.scalars(
            select(Issue.id)
            .join(Repository, Repository.id == Issue.repository_id)
            .where(av.available_clause(POLICY))
        )
    )
    assert available == {i for i, reason in by_numpy.items() if reason is None}
    session.rollback()


def test_a_stale_assignment_counts_as_free_and_a_fresh_one_as_taken(session: Session) -> None:
    repo = Repository(full_name="o/r", pushed_at=NOW)
    session.add(repo)
    session.flush()
    fresh = Issue(
        node_id="A", repository_id=repo.id, number=1, title="t", url="u",
        assignees=["ann"], assigned_at=NOW - 5 * DAY,
    )  # fmt: skip
    stale = Issue(
        node_id="B", repository_id=repo.id, number=2, title="t", url="u",
        assignees=["ann"], assigned_at=NOW - 90 * DAY, updated_at=NOW - 80 * DAY,
    )  # fmt: skip
    session.add_all([fresh, stale])
    session.flush()
    reasons = av.issue_reasons(session, [fresh.id, stale.id], POLICY)  # type: ignore[list-item]
    assert reasons == {fresh.id: av.Reason.ASSIGNED, stale.id: None}


holds = st.lists(
    st.fixed_dictionaries(
        {
            "issue": st.integers(0, 2),
            "holder": st.integers(0, 3),  # members 0, 1 in workspace TA; 2, 3 in TB
            "expires": st.sampled_from([-DAY, timedelta(0), DAY, 7 * DAY]),
            "released": st.booleans(),
        }
    ),
    max_size=8,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=holds)
def test_held_for_other_agrees_in_sql_and_in_viewer_pairs(session: Session, rows) -> None:
    """The viewer rule over SQL (`reason_case` per viewer) and over pairs (the ranker's
    `viewer_exclusions`) hide the same (member, issue) pairs; only the holder's workspace."""
    for model in (Hold, Issue, Member, Repository):
        session.execute(delete(model))
    repo = Repository(full_name="o/r", pushed_at=NOW)
    session.add(repo)
    session.flush()
    issue_ids = []
    for n in range(3):
        issue = Issue(node_id=f"I{n}", repository_id=repo.id, number=n + 1, title="t", url="u")
        session.add(issue)
        session.flush()
        issue_ids.append(issue.id)
    members = []
    for n in range(4):
        member = Member(team_id="TA" if n < 2 else "TB", slack_user_id=f"U{n}")
        session.add(member)
        session.flush()
        members.append(member)
    for k, row in enumerate(rows):
        holder = members[row["holder"]]
        session.add(
            Hold(
                team_id=holder.team_id,
                issue_id=issue_ids[row["issue"]],
                member_id=holder.id,
                held_at=NOW - DAY,
                expires_at=NOW + row["expires"],
                released_at=NOW - DAY if row["released"] else None,
                active_key=None if row["released"] else f"k{k}",  # uniqueness is not tested here
            )
        )
    session.flush()
    viewers = [av.Viewer(m.id, m.team_id) for m in members]  # type: ignore[arg-type]
    by_sql = {}
    for viewer in viewers:
        for issue_id, reason in av.issue_reasons(session, issue_ids, POLICY, viewer).items():
            if reason is not None:
                by_sql[(viewer.member_id, issue_id)] = reason
    assert by_sql == av.viewer_exclusions(session, viewers, POLICY)
    expected = {
        (m.id, issue_ids[row["issue"]])
        for row in rows
        if not row["released"] and row["expires"] > timedelta(0)
        for m in members
        if m.team_id == members[row["holder"]].team_id and m.id != members[row["holder"]].id
    }
    assert set(by_sql) == expected
    assert set(by_sql.values()) <= {av.Reason.HELD_FOR_OTHER}
    session.rollback()
