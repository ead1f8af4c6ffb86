"""Claim holds over a crawled fake GitHub (SQLite and PostgreSQL): created after Interested,
shown to the holder, hidden from the rest of the workspace only, released by Not for me, by
`release`, by someone else taking it on GitHub, at expiry; the halfway nudge (once, across a
crash), Keep and Release; concurrent clicks; no GitHub login; forget."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import Settings
from bot.core.availability import Policy, Reason, Viewer, issue_reasons
from bot.deliver import holds
from bot.deliver import intros as ledger
from bot.deliver.holds import HoldOutcome, KeepOutcome
from bot.fakes.github import FakeGitHub
from bot.fakes.github.model import EPOCH, Comment, LinkedPR
from bot.github.crawl import crawl
from bot.github.issue_check import check_issue
from bot.match.recommend import recommend
from bot.schedule.jobs import holds_job
from bot.slack.actions import record_feedback
from bot.slack.profile import forget_member
from bot.store.db import session_scope
from bot.store.models import Hold, Issue, Member, PeopleMessage
from tests.github.conftest import crawl_for_everyone, one_issue_world, settings_for
from tests.people.people_world import LEASE, Outbox

NOW = EPOCH
DAY = timedelta(days=1)
TEAM_A, TEAM_B = "TA", "TB"
REPOS = 6


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(one_issue_world(REPOS, NOW)) as server:
        yield server


@pytest.fixture
def crawled(engine: Engine, fake: FakeGitHub) -> Settings:
    return crawl_for_everyone(engine, fake, REPOS, NOW)


def checker(engine: Engine, settings: Settings, issue_id: int, now: datetime) -> bool:
    return check_issue(engine, settings, issue_id, now=now)


def _member(engine: Engine, team: str, user: str, login: str | None = None) -> int:
    with Session(engine) as session:
        member = Member(team_id=team, slack_user_id=user, stack_text="python", github_login=login)
        member.languages = {"python": 1.0}
        session.add(member)
        session.commit()
        assert member.id is not None
        return member.id


def _issue(engine: Engine, n: int = 0) -> tuple[int, str, int]:
    """(issue id, repository full name, number) of the n-th stored issue."""
    with Session(engine) as session:
        issue = sorted(session.exec(select(Issue)).all(), key=lambda i: i.id or 0)[n]
        full = issue.url.split("github.com/")[1].split("/issues")[0]
        assert issue.id is not None
        return issue.id, full, issue.number


def _picks(engine: Engine, settings: Settings, member_id: int, now: datetime) -> set[int]:
    with Session(engine) as session:
        recs = recommend(session, settings, [member_id], n=REPOS, now=now)
    return {r.issue_id for r in recs[member_id]}


def _reason(engine: Engine, settings: Settings, member_id: int, team: str, issue_id: int, now):
    with Session(engine) as session:
        reasons = issue_reasons(
            session, [issue_id], Policy.at(settings, now), Viewer(member_id, team)
        )
    return reasons[issue_id]


def _holds(engine: Engine) -> list[Hold]:
    with Session(engine) as session:
        return list(session.exec(select(Hold).order_by(Hold.id)).all())


def _click(engine, settings, team, user, issue_id, action, now):  # type: ignore[no-untyped-def]
    return record_feedback(engine, settings, team, user, issue_id, action, now=now)


def test_a_hold_hides_the_issue_in_its_workspace_only(engine: Engine, crawled: Settings) -> None:
    settings = crawled
    a, b = _member(engine, TEAM_A, "UA"), _member(engine, TEAM_A, "UB")
    c = _member(engine, TEAM_B, "UC")
    issue_id, _, _ = _issue(engine)
    result = holds.place_hold(engine, settings, a, issue_id, NOW, checker)
    assert result.outcome is HoldOutcome.HELD and result.checked
    assert result.expires_at == NOW + 7 * DAY
    (hold,) = _holds(engine)
    assert (hold.team_id, hold.member_id, hold.held_at) == (TEAM_A, a, NOW)
    later = NOW + DAY
    assert _reason(engine, settings, b, TEAM_A, issue_id, later) is Reason.HELD_FOR_OTHER
    assert _reason(engine, settings, a, TEAM_A, issue_id, later) is None  # the holder sees it
    assert _reason(engine, settings, c, TEAM_B, issue_id, later) is None  # another workspace
    assert issue_id not in _picks(engine, settings, b, later)
    assert issue_id in _picks(engine, settings, c, later)
    with Session(engine) as session:
        assert holds.held_until(session, a, [issue_id], later) == {issue_id: NOW + 7 * DAY}
        assert [h.issue_id for h in holds.active_holds(session, a, later)] == [issue_id]
        assert holds.held_until(session, b, [issue_id], later) == {}
        assert holds.holds_placed(session, TEAM_A, NOW, later) == 1
        assert holds.holds_placed(session, TEAM_B, NOW, later) == 0
    again = holds.place_hold(engine, settings, a, issue_id, later, None)
    assert again.outcome is HoldOutcome.ALREADY_YOURS and len(_holds(engine)) == 1
    # C's hold in workspace B is independent of A's
    assert holds.place_hold(engine, settings, c, issue_id, later, None).outcome is HoldOutcome.HELD
    loser = holds.place_hold(engine, settings, b, issue_id, later, None)
    assert loser.outcome is HoldOutcome.HELD_BY_OTHER


@pytest.mark.parametrize("token", [True, False], ids=["graphql", "rest"])
def test_interested_on_an_issue_github_shows_taken_holds_nothing(
    engine: Engine, crawled: Settings, fake: FakeGitHub, token: bool
) -> None:
    settings = crawled if token else settings_for(fake, token=False)
    settings.match = crawled.match
    a, b = _member(engine, TEAM_A, "UA"), _member(engine, TEAM_A, "UB")
    issue_id, full, number = _issue(engine)
    gh = fake.world.repo(full).issues[number]  # type: ignore[union-attr]
    gh.assignees, gh.assigned_at = ["ann"], NOW + DAY  # someone got assigned after our crawl
    gh.touch(NOW + DAY)
    before = fake.stats.requests
    result = holds.place_hold(engine, settings, a, issue_id, NOW + 2 * DAY, checker)
    assert result.outcome is HoldOutcome.TAKEN and result.reason is Reason.ASSIGNED
    assert fake.stats.requests - before == (1 if token else 2)  # one query / issue + timeline
    assert _holds(engine) == []
    assert _reason(engine, settings, b, TEAM_A, issue_id, NOW + 2 * DAY) is Reason.ASSIGNED


def test_the_members_own_assignment_keeps_the_hold_without_a_login_it_does_not(
    engine: Engine, crawled: Settings, fake: FakeGitHub
) -> None:
    settings = crawled
    ann = _member(engine, TEAM_A, "UA", login="Ann")
    nobody = _member(engine, TEAM_B, "UN")  # no GitHub login
    issue_id, full, number = _issue(engine)
    gh = fake.world.repo(full).issues[number]  # type: ignore[union-attr]
    gh.assignees, gh.assigned_at = ["ann"], NOW + DAY
    gh.touch(NOW + DAY)
    at = NOW + 2 * DAY
    assert (
        holds.place_hold(engine, settings, ann, issue_id, at, checker).outcome is HoldOutcome.HELD
    )
    result = holds.place_hold(engine, settings, nobody, issue_id, at, checker)
    assert result.outcome is HoldOutcome.TAKEN  # without a login, every assignee is someone else
    assert holds.release_taken(engine, settings, at) == 0  # Ann's own assignment: still held


def test_not_for_me_and_already_taken_release_the_clickers_hold(
    engine: Engine, crawled: Settings
) -> None:
    settings = crawled
    a, b = _member(engine, TEAM_A, "UA"), _member(engine, TEAM_A, "UB")
    first, _, _ = _issue(engine, 0)
    second, _, _ = _issue(engine, 1)
    holds.place_hold(engine, settings, a, first, NOW, None)
    holds.place_hold(engine, settings, a, second, NOW, None)
    _click(engine, settings, TEAM_A, "UB", first, "pick_not_for_me", NOW + DAY)  # not A's hold
    assert _reason(engine, settings, b, TEAM_A, first, NOW + DAY) is Reason.HELD_FOR_OTHER
    _click(engine, settings, TEAM_A, "UA", first, "pick_not_for_me", NOW + DAY)
    _click(engine, settings, TEAM_A, "UA", second, "pick_taken", NOW + DAY)
    released = {h.issue_id: h.release_reason for h in _holds(engine)}
    assert released == {first: "not_for_me", second: "taken"}
    assert all(h.active_key is None and h.released_at == NOW + DAY for h in _holds(engine))
    assert _reason(engine, settings, b, TEAM_A, first, NOW + DAY) is None
    d = _member(engine, TEAM_A, "UD")
    assert first in _picks(engine, settings, d, NOW + DAY)


def test_release_all_or_one(engine: Engine, crawled: Settings) -> None:
    settings = crawled
    a = _member(engine, TEAM_A, "UA")
    ids = [_issue(engine, n)[0] for n in range(3)]
    for issue_id in ids:
        holds.place_hold(engine, settings, a, issue_id, NOW, None)
    with session_scope(engine) as session:
        issue = holds.find_issue(session, "ACME/db1", 1)
        assert issue is not None and issue.id in ids
        assert holds.release_holds(session, a, NOW + DAY, issue_id=issue.id) == [issue.id]
        assert sorted(holds.release_holds(session, a, NOW + DAY)) == sorted(
            i for i in ids if i != issue.id
        )
        assert holds.release_holds(session, a, NOW + DAY) == []
        assert holds.active_holds(session, a, NOW + DAY) == []
    assert {h.release_reason for h in _holds(engine)} == {"released"}


@pytest.mark.parametrize(
    "taker", ["assignee", "claim", "pr"], ids=["assigned", "claim-comment", "linked-pr"]
)
def test_a_crawl_showing_someone_else_on_it_releases_the_hold(
    engine: Engine, crawled: Settings, fake: FakeGitHub, taker: str
) -> None:
    settings = crawled
    a = _member(engine, TEAM_A, "UA", login="ann")
    b = _member(engine, TEAM_A, "UB")
    issue_id, full, number = _issue(engine)
    holds.place_hold(engine, settings, a, issue_id, NOW, None)
    gh = fake.world.repo(full).issues[number]  # type: ignore[union-attr]
    when = NOW + 2 * DAY
    if taker == "assignee":
        gh.assignees, gh.assigned_at = ["bob"], when
    elif taker == "claim":
        gh.comments.append(Comment("bob", "I'd like to work on this, can you assign me?", when))
    else:
        gh.linked_prs.append(LinkedPR(7, author="bob", created_at=when))
    gh.touch(when)
    report = crawl(engine, settings, now=when + DAY)
    assert report.repos_failed == 0
    assert holds.release_taken(engine, settings, when + DAY) == 1
    (hold,) = _holds(engine)
    assert (hold.release_reason, hold.released_at) == ("taken", when + DAY)
    assert _reason(engine, settings, b, TEAM_A, issue_id, when + DAY) is not Reason.HELD_FOR_OTHER


def test_the_holders_own_pull_request_seen_by_a_crawl_keeps_the_hold(
    engine: Engine, crawled: Settings, fake: FakeGitHub
) -> None:
    settings = crawled
    a = _member(engine, TEAM_A, "UA", login="Ann")
    b = _member(engine, TEAM_A, "UB", login="bob")
    issue_id, full, number = _issue(engine)
    holds.place_hold(engine, settings, a, issue_id, NOW, None)
    gh = fake.world.repo(full).issues[number]  # type: ignore[union-attr]
    when = NOW + 2 * DAY
    gh.linked_prs.append(LinkedPR(7, author="ann", created_at=when))  # "Fixes #n" by Ann
    gh.linked_prs.append(LinkedPR(8, closes=False, author="ann", created_at=when))  # a mention
    gh.touch(when)
    assert crawl(engine, settings, now=when + DAY).repos_failed == 0
    assert holds.release_taken(engine, settings, when + DAY) == 0  # her own PRs: still held
    (hold,) = _holds(engine)
    assert hold.released_at is None
    assert _reason(engine, settings, b, TEAM_A, issue_id, when + DAY) is not None


def test_expiry_ends_the_hold_silently(engine: Engine, crawled: Settings) -> None:
    settings = crawled
    a, b = _member(engine, TEAM_A, "UA"), _member(engine, TEAM_A, "UB")
    issue_id, _, _ = _issue(engine)
    holds.place_hold(engine, settings, a, issue_id, NOW, None)
    end = NOW + 7 * DAY
    assert _reason(engine, settings, b, TEAM_A, issue_id, end - timedelta(minutes=1)) is not None
    assert _reason(engine, settings, b, TEAM_A, issue_id, end) is None  # before any job ran
    with session_scope(engine) as session:  # the nudge was due halfway: mark it sent
        session.execute(update(Hold).values(nudged_at=NOW + 4 * DAY))
    outbox = Outbox()
    holds_job(engine, settings, outbox.sender, outbox.open_group, now=end)
    (hold,) = _holds(engine)
    assert (hold.release_reason, hold.released_at, hold.active_key) == ("expired", end, None)
    assert outbox.sender.sent == []  # silently
    # the key is free again: B can hold it now
    assert holds.place_hold(engine, settings, b, issue_id, end, None).outcome is HoldOutcome.HELD


def test_an_expired_unreleased_hold_does_not_block_a_new_one(
    engine: Engine, crawled: Settings
) -> None:
    settings = crawled
    a, b = _member(engine, TEAM_A, "UA"), _member(engine, TEAM_A, "UB")
    issue_id, _, _ = _issue(engine)
    holds.place_hold(engine, settings, a, issue_id, NOW, None)
    result = holds.place_hold(engine, settings, b, issue_id, NOW + 8 * DAY, None)
    assert result.outcome is HoldOutcome.HELD
    assert [h.release_reason for h in _holds(engine)] == ["expired", None]


def _nudges(engine: Engine) -> list[PeopleMessage]:
    with Session(engine) as session:
        return list(
            session.exec(select(PeopleMessage).where(PeopleMessage.kind == holds.NUDGE_KIND)).all()
        )


def test_the_halfway_nudge_is_sent_once_and_keep_extends(engine: Engine, crawled: Settings) -> None:
    settings = crawled
    a = _member(engine, TEAM_A, "UA")
    issue_id, _, _ = _issue(engine)
    holds.place_hold(engine, settings, a, issue_id, NOW, None)
    outbox = Outbox()
    holds_job(engine, settings, outbox.sender, outbox.open_group, now=NOW + 3 * DAY)
    assert outbox.texts_to("UA") == []  # not halfway yet
    half = NOW + timedelta(days=3.5)
    for at in (half, half + timedelta(minutes=30), half + DAY):
        holds_job(engine, settings, outbox.sender, outbox.open_group, now=at)
    (text,) = outbox.texts_to("UA")
    assert text.startswith("Still on acme/db")
    (message,) = _nudges(engine)
    (hold,) = _holds(engine)
    assert message.dedupe_key == f"hold_nudge:{hold.id}:0" and message.state == "sent"
    actions = [e["action_id"] for e in message.blocks[1]["elements"]]  # type: ignore[index]
    assert actions == ["hold_keep", "hold_release"]
    # Keep: a new full period from the click, and a new nudge at its halfway point
    keep_at = half + DAY
    with session_scope(engine) as session:
        member = session.get(Member, a)
        assert member is not None and hold.id is not None
        kept = holds.keep_hold(session, settings, member, hold.id, keep_at)
        assert kept == holds.KeepResult(KeepOutcome.KEPT, keep_at + 7 * DAY)
        again = holds.keep_hold(session, settings, member, hold.id, keep_at)
        assert again.outcome is KeepOutcome.LIMIT  # hold_max_keeps = 1
    holds_job(engine, settings, outbox.sender, outbox.open_group, now=keep_at + 3 * DAY)
    assert len(outbox.texts_to("UA")) == 1
    holds_job(engine, settings, outbox.sender, outbox.open_group, now=keep_at + 4 * DAY)
    assert len(outbox.texts_to("UA")) == 2
    second = [m for m in _nudges(engine) if m.dedupe_key.endswith(":1")]
    assert len(second) == 1
    actions = [e["action_id"] for e in second[0].blocks[1]["elements"]]  # type: ignore[index]
    assert actions == ["hold_release"]  # no more Keep
    assert _reason(engine, settings, a, TEAM_A, issue_id, keep_at + 6 * DAY) is None
    b = _member(engine, TEAM_A, "UB")
    assert _reason(engine, settings, b, TEAM_A, issue_id, keep_at + 6 * DAY) is not None


@pytest.mark.parametrize("where", ["before_post", "after_post"])
def test_a_crash_around_the_nudge_never_sends_it_twice(
    engine: Engine, crawled: Settings, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    settings = crawled
    a = _member(engine, TEAM_A, "UA")
    issue_id, _, _ = _issue(engine)
    holds.place_hold(engine, settings, a, issue_id, NOW, None)
    outbox = Outbox()
    half = NOW + 4 * DAY
    real_send, real_finish = outbox.sender.send, ledger._finish

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("killed")

    if where == "before_post":  # claimed, post started, the process died inside the call
        monkeypatch.setattr(outbox.sender, "send", crash)
    else:  # posted, the process died before the ledger was marked
        monkeypatch.setattr(ledger, "_finish", crash)
    with pytest.raises(RuntimeError):
        holds_job(engine, settings, outbox.sender, outbox.open_group, now=half)
    monkeypatch.setattr(outbox.sender, "send", real_send)
    monkeypatch.setattr(ledger, "_finish", real_finish)
    (message,) = _nudges(engine)
    assert message.state == "sending"
    # another replica's run inside the lease: waits; after it: sends or finds it, once
    holds_job(engine, settings, outbox.sender, outbox.open_group, now=half + timedelta(minutes=1))
    holds_job(engine, settings, outbox.sender, outbox.open_group, now=half + LEASE * 2)
    holds_job(engine, settings, outbox.sender, outbox.open_group, now=half + DAY)
    assert len(outbox.texts_to("UA")) == 1
    assert [m.state for m in _nudges(engine)] == ["sent"]


def test_the_release_button_and_someone_elses_hold(engine: Engine, crawled: Settings) -> None:
    settings = crawled
    a, b = _member(engine, TEAM_A, "UA"), _member(engine, TEAM_A, "UB")
    issue_id, _, _ = _issue(engine)
    holds.place_hold(engine, settings, a, issue_id, NOW, None)
    (hold,) = _holds(engine)
    assert hold.id is not None
    with session_scope(engine) as session:
        other = session.get(Member, b)
        owner = session.get(Member, a)
        assert other is not None and owner is not None
        assert holds.release_by_id(session, other, hold.id, NOW + DAY) is None
        assert holds.keep_hold(session, settings, other, hold.id, NOW + DAY).outcome is (
            KeepOutcome.GONE
        )
        assert holds.release_by_id(session, owner, hold.id, NOW + DAY) == issue_id
        assert holds.release_by_id(session, owner, hold.id, NOW + DAY) is None
    assert _holds(engine)[0].release_reason == "released"
    assert _reason(engine, settings, b, TEAM_A, issue_id, NOW + DAY) is None


def test_concurrent_interested_clicks_make_exactly_one_hold(
    engine: Engine, crawled: Settings
) -> None:
    settings = crawled
    members = [_member(engine, TEAM_A, f"U{k}") for k in range(4)]
    for n in range(3):
        issue_id, _, _ = _issue(engine, n)
        barrier = threading.Barrier(len(members))
        results: list[HoldOutcome] = []

        def click(member_id: int, issue_id: int, barrier: threading.Barrier, out: list) -> None:
            barrier.wait()
            out.append(holds.place_hold(engine, settings, member_id, issue_id, NOW, None).outcome)

        threads = [
            threading.Thread(target=click, args=(m, issue_id, barrier, results)) for m in members
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == sorted([HoldOutcome.HELD] + [HoldOutcome.HELD_BY_OTHER] * 3)
    assert len(_holds(engine)) == 3


def test_forget_deletes_the_members_holds(engine: Engine, crawled: Settings) -> None:
    settings = crawled
    a, b = _member(engine, TEAM_A, "UA"), _member(engine, TEAM_A, "UB")
    issue_id, _, _ = _issue(engine)
    holds.place_hold(engine, settings, a, issue_id, NOW, None)
    holds_job(engine, settings, Outbox().sender, None, now=NOW + 4 * DAY)  # a nudge was sent
    with session_scope(engine) as session:
        member = session.get(Member, a)
        assert member is not None
        counts = forget_member(session, member)
    assert counts["holds"] == 1 and _holds(engine) == [] and _nudges(engine) == []
    assert _reason(engine, settings, b, TEAM_A, issue_id, NOW + 4 * DAY) is None


def test_holds_off_with_zero_days(engine: Engine, crawled: Settings) -> None:
    settings = crawled
    settings.match = settings.match.model_copy(update={"hold_days": 0})
    a = _member(engine, TEAM_A, "UA")
    issue_id, _, _ = _issue(engine)
    assert holds.place_hold(engine, settings, a, issue_id, NOW, None).outcome is HoldOutcome.OFF
    assert _holds(engine) == []


def test_the_channel_post_and_the_ranker_leave_out_held_issues(
    engine: Engine, crawled: Settings
) -> None:
    from bot.deliver.channel import community_picks

    settings = crawled
    a, b = _member(engine, TEAM_A, "UA"), _member(engine, TEAM_A, "UB")
    held, _, _ = _issue(engine, 0)
    holds.place_hold(engine, settings, a, held, NOW, None)
    with Session(engine) as session:
        content = community_picks(session, settings, "2026-W48", NOW + DAY, recommend)
        picked = {item["issue_id"] for item in content}
        recs = recommend(session, settings, [a, b], n=REPOS, now=NOW + DAY)
    assert picked and held not in picked
    assert held in {r.issue_id for r in recs[a]}  # the holder is still offered it
    assert held not in {r.issue_id for r in recs[b]}
    with Session(engine) as session:
        assert holds.held_issue_ids(session, NOW + DAY) == {held}
        assert holds.held_issue_ids(session, NOW + DAY, TEAM_B) == set()
        assert holds.held_issue_ids(session, NOW + 8 * DAY) == set()
