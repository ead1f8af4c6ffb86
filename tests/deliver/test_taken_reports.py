""" "Already taken" scenarios over a crawled fake GitHub (SQLite and PostgreSQL): per member,
per workspace, the hourly limit, and GitHub confirming a report at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import Settings
from bot.core.availability import Policy, Reason, Viewer, issue_reasons, reason_text
from bot.deliver.taken import confirm_report, limit_message
from bot.fakes.github import FakeGitHub
from bot.fakes.github.model import EPOCH
from bot.github.issue_check import check_issue
from bot.match.recommend import recommend
from bot.slack.actions import record_feedback
from bot.store.models import Feedback, Issue, Member, Pick, TakenReport
from tests.github.conftest import crawl_for_everyone, one_issue_world, settings_for

NOW = EPOCH
TEAM_A, TEAM_B = "TA", "TB"
REPOS = 60


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


def _issue_ids(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return sorted(i.id for i in session.exec(select(Issue)).all() if i.id is not None)


def _picks(engine: Engine, settings: Settings, member_id: int, now: datetime) -> set[int]:
    with Session(engine) as session:
        recs = recommend(session, settings, [member_id], n=REPOS, now=now)
    return {r.issue_id for r in recs[member_id]}


def _report(engine: Engine, settings: Settings, user: str, team: str, issue_id: int, now):
    return record_feedback(engine, settings, team, user, issue_id, "pick_taken", now=now)


def test_reports_stay_with_the_reporter_and_their_workspace(
    engine: Engine, crawled: Settings
) -> None:
    settings = crawled
    a = _member(engine, TEAM_A, "UA")
    b = _member(engine, TEAM_A, "UB")
    c = _member(engine, TEAM_B, "UC")
    issues = _issue_ids(engine)
    reported = issues[:50]
    # A reports 50 issues, 10 per hour (the default limit), over five hours
    for k, issue_id in enumerate(reported):
        at = NOW + timedelta(hours=k // 10, minutes=k % 10)
        click = _report(engine, settings, "UA", TEAM_A, issue_id, at)
        assert click is not None and not click.limited
    later = NOW + timedelta(hours=6)
    assert _picks(engine, settings, a, later) == set(issues[50:])  # A never sees them again
    assert _picks(engine, settings, b, later) == set(issues)  # one unconfirmed report each
    assert _picks(engine, settings, c, later) == set(issues)  # another workspace: untouched
    with Session(engine) as session:
        policy = Policy.at(settings, later)
        mine = issue_reasons(session, reported, policy, Viewer(a, TEAM_A))
    assert set(mine.values()) == {Reason.REPORTED_BY_YOU}
    # a second member of A's workspace agrees on 5 of them: hidden there, still not elsewhere
    for issue_id in reported[:5]:
        _report(engine, settings, "UB", TEAM_A, issue_id, later)
    b2 = _member(engine, TEAM_A, "UB2")
    assert _picks(engine, settings, b2, later) == set(issues) - set(reported[:5])
    assert _picks(engine, settings, c, later) == set(issues)


def test_a_report_over_the_hourly_limit_stores_nothing(engine: Engine, crawled: Settings) -> None:
    settings = crawled
    issues = _issue_ids(engine)
    k = settings.match.taken_reports_per_hour
    for n, issue_id in enumerate(issues[:k]):
        click = _report(engine, settings, "UA", TEAM_A, issue_id, NOW + timedelta(minutes=n))
        assert click is not None and not click.limited
    over = _report(engine, settings, "UA", TEAM_A, issues[k], NOW + timedelta(minutes=30))
    assert over is not None and over.limited
    with Session(engine) as session:
        assert (
            session.exec(select(TakenReport).where(TakenReport.issue_id == issues[k])).all() == []
        )
        assert session.exec(select(Feedback).where(Feedback.issue_id == issues[k])).all() == []
        assert session.exec(select(Pick).where(Pick.issue_id == issues[k])).all() == []
    assert f"at most {k} issues" in limit_message(settings)
    # an hour after the first report, there is room again
    again = _report(engine, settings, "UA", TEAM_A, issues[k], NOW + timedelta(minutes=61))
    assert again is not None and not again.limited


@pytest.mark.parametrize("token", [True, False], ids=["graphql", "rest"])
def test_a_report_github_confirms_hides_the_issue_from_everyone_with_its_reason(
    engine: Engine, crawled: Settings, fake: FakeGitHub, token: bool
) -> None:
    settings = crawled if token else settings_for(fake, token=False)
    settings.match = crawled.match
    a = _member(engine, TEAM_A, "UA")
    c = _member(engine, TEAM_B, "UC")
    issues = _issue_ids(engine)
    with Session(engine) as session:
        target = session.get(Issue, issues[0])
        assert target is not None
        number, full = target.number, target.url.split("github.com/")[1].split("/issues")[0]
    # on GitHub, someone got assigned after our crawl
    gh_issue = fake.world.repo(full).issues[number]  # type: ignore[union-attr]
    later = NOW + timedelta(hours=2)
    gh_issue.assignees, gh_issue.assigned_at = ["ann"], NOW + timedelta(hours=1)
    gh_issue.touch(NOW + timedelta(hours=1))
    click = _report(engine, settings, "UA", TEAM_A, issues[0], later)
    assert click is not None and not click.limited
    before = fake.stats.requests

    def checker(engine_: Engine, settings_: Settings, issue_id: int, now: datetime) -> bool:
        return check_issue(engine_, settings_, issue_id, now=now)

    reason = confirm_report(engine, settings, click.member_id, issues[0], later, checker)
    assert reason is Reason.ASSIGNED
    assert "assigned" in reason_text(reason)
    assert fake.stats.requests - before == (1 if token else 2)  # one query / issue + timeline
    with Session(engine) as session:
        (report,) = session.exec(select(TakenReport)).all()
        assert (report.github_reason, report.checked_at) == ("assigned", later)
        reasons = issue_reasons(session, [issues[0]], Policy.at(settings, later), Viewer(c, TEAM_B))
    assert reasons == {issues[0]: Reason.ASSIGNED}
    assert issues[0] not in _picks(engine, settings, c, later)
    assert issues[0] not in _picks(engine, settings, a, later)
