"""Issue 16, finding 3: a pick whose repository was deleted after the ledger row was written
is replaced before sending, and never posted."""

from __future__ import annotations

import contextlib

from sqlalchemy import select
from sqlmodel import Session

from bot.store.models import Issue, Pick, Repository
from tests.deliver.conftest import MONDAY_9_UTC, members_at, seed_issues, seed_members
from tests.deliver.test_digest import Crash, crash_at, run, simple_recommend


def without_gone(session, settings, member_ids=None, n=3, *, now=None):
    """The stand-in matcher, minus issues of gone repositories (as the real matcher does)."""
    gone = set(session.scalars(select(Repository.id).where(Repository.gone_at.is_not(None))))
    picks = simple_recommend(session, settings, member_ids, n + 10, now=now)
    by_issue = {i.id: i.repository_id for i in session.scalars(select(Issue))}
    return {
        m: [r for r in recs if by_issue[r.issue_id] not in gone][:n] for m, recs in picks.items()
    }


def test_picks_of_a_repository_deleted_before_sending_are_replaced(engine, settings, slack, sender):
    seed_issues(engine)
    seed_members(engine, members_at(1))
    with contextlib.suppress(Crash):  # the ledger row is written, nothing sent yet
        run(engine, settings, sender, on_step=crash_at("ledger"), recommender=without_gone)
    with Session(engine) as session:
        first = session.scalars(select(Pick).order_by(Pick.rank)).first()
        issue = session.get(Issue, first.issue_id)
        repo = session.get(Repository, issue.repository_id)
        repo.gone_at, repo.gone_reason = MONDAY_9_UTC, "NOT_FOUND: deleted"
        session.commit()
        gone_urls = [
            i.url for i in session.scalars(select(Issue).where(Issue.repository_id == repo.id))
        ]
    report = run(engine, settings, sender, recommender=without_gone)
    assert report.sent == 1 and report.substituted >= 1
    blocks = str(slack.posts()[0]["blocks"])
    assert not any(url in blocks for url in gone_urls)


def test_the_availability_rule_refuses_issues_of_gone_repositories():
    from bot.config import load_settings
    from bot.core.availability import Policy, Reason, code_reason, issue_columns, reason_codes

    issue = Issue(node_id="I", repository_id=1, number=1, title="t", url="u")
    repos = [Repository(full_name="a/b"), Repository(full_name="a/c", gone_at=MONDAY_9_UTC)]
    codes = reason_codes(
        issue_columns([issue, issue], repos), Policy.at(load_settings(), MONDAY_9_UTC)
    )
    assert [code_reason(int(c)) for c in codes] == [None, Reason.REPO_GONE]
