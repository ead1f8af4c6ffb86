"""recommend(): stack fit, diversity, spreading across members, feedback, reasons, determinism."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from bot.config import Settings
from bot.match.recommend import Recommendation, recommend, record_picks
from bot.store.models import Issue, Pick
from tests.match.conftest import NOW, World

GO = {"primary_language": "Go", "languages": {"Go": 50_000}}


def _recs(session: Session, settings: Settings, member: Any, n: int = 3) -> list[Recommendation]:
    return recommend(session, settings, [member.id], n, now=NOW)[member.id]


def test_picks_follow_the_members_stack(
    world: World, session: Session, picks_for: Callable[..., Any]
) -> None:
    py = world.issue(world.repo("py/db", section="Databases", topics=["postgresql"]))
    go = world.issue(world.repo("go/raft", section="Locking", topics=["raft"], **GO))
    pythonista, gopher = world.member("python, pg"), world.member("golang, raft")
    nobody = world.member("cobol")  # nothing in the taxonomy: everything fits a little
    result = picks_for(pythonista, gopher)
    assert result == {pythonista.id: [py.id], gopher.id: [go.id]}
    assert sorted(picks_for(nobody)[nobody.id]) == sorted([py.id, go.id])


def test_an_off_stack_issue_is_not_offered(
    world: World, session: Session, picks_for: Callable[..., Any]
) -> None:
    world.issue(world.repo("go/raft", topics=["raft"], **GO))
    member = world.member("python, postgres")
    assert picks_for(member) == {member.id: []}


def test_one_issue_per_repository(
    world: World, session: Session, picks_for: Callable[..., Any]
) -> None:
    big = world.repo("big/repo", newcomer_share=0.9)
    small = world.repo("small/repo")
    big_issues = [world.issue(big) for _ in range(3)]
    other = world.issue(small)
    member = world.member("python")
    picks = picks_for(member)[member.id]
    assert picks == [big_issues[0].id, other.id]


def test_two_members_with_the_same_stack_get_different_issues(
    world: World, session: Session, picks_for: Callable[..., Any]
) -> None:
    issues = [world.issue(world.repo(f"r/{i}")) for i in range(6)]
    a, b = world.member("python"), world.member("python")
    result = picks_for(a, b)
    assert len(result[a.id]) == len(result[b.id]) == 3
    assert not set(result[a.id]) & set(result[b.id])
    assert set(result[a.id]) | set(result[b.id]) == {i.id for i in issues}


def test_issues_are_shared_when_there_are_not_enough(
    world: World, session: Session, picks_for: Callable[..., Any]
) -> None:
    only = world.issue(world.repo("r/only"))
    a, b = world.member("python"), world.member("python")
    assert picks_for(a, b) == {a.id: [only.id], b.id: [only.id]}


def test_an_issue_picked_for_someone_this_week_goes_to_others_last(
    world: World, session: Session, picks_for: Callable[..., Any]
) -> None:
    best = world.issue(world.repo("r/best", newcomer_share=0.9))
    second = world.issue(world.repo("r/second"))
    earlier, later = world.member("python"), world.member("python")
    world.pick(earlier, best, created_at=NOW - timedelta(days=2))
    assert picks_for(later, n=1) == {later.id: [second.id]}
    # a month later the earlier pick no longer counts against the issue
    session.exec(select(Pick)).one().created_at = NOW - timedelta(days=30)
    session.flush()
    assert picks_for(later, n=1) == {later.id: [best.id]}


def test_not_for_me_lowers_that_repository_and_topic_in_the_next_picks(
    world: World, session: Session, settings: Settings, picks_for: Callable[..., Any]
) -> None:
    kv = world.repo("kv/store", section="Databases › Key-Value Databases")
    kv_issues = [world.issue(kv), world.issue(kv)]
    kv2 = world.repo("kv/other", section="Databases › Key-Value Databases")
    kv2_issue = world.issue(kv2)
    queue = world.issue(world.repo("mq/broker", section="Queues"))
    member = world.member("python")
    before = picks_for(member, n=1)[member.id]
    assert before == [kv_issues[0].id]
    world.feedback(member, kv_issues[0], "not_for_me")
    after = picks_for(member, n=1)[member.id]
    # not the other issue of the same repo, and key-value stores in general dropped below queues
    assert after == [queue.id]
    assert kv_issues[1].id not in after and kv2_issue.id not in after


def test_interested_feedback_raises_similar_repositories(
    world: World, session: Session, picks_for: Callable[..., Any]
) -> None:
    queue = world.issue(world.repo("mq/broker", section="Queues"))  # wins ties: lower id
    liked_repo = world.repo("kv/liked", section="Databases › Key-Value Databases")
    liked = world.issue(liked_repo)
    similar = world.issue(world.repo("kv/similar", section="Databases › Key-Value Databases"))
    member = world.member("python")
    assert picks_for(member, n=1)[member.id] == [queue.id]
    world.pick(member, liked)
    world.feedback(member, liked, "interested")
    assert picks_for(member, n=1)[member.id] == [similar.id]


def test_reasons_name_the_real_top_factors(
    world: World, session: Session, settings: Settings
) -> None:
    raft = world.repo(
        "go/raft", section="Locking", topics=["raft"], maintainer_response_hours=3, **GO
    )
    raft_issue = world.issue(raft)
    slow = world.repo("py/slow", topics=[], maintainer_response_hours=24 * 40, newcomer_share=0.5)
    slow_issue = world.issue(slow)
    member = world.member("python, raft")
    recs = {r.issue_id: r for r in _recs(session, settings, member)}
    assert recs[raft_issue.id].reasons[0] == "Raft"
    assert "Python" not in recs[raft_issue.id].reasons
    assert "maintainers reply in ~3 hours" in recs[raft_issue.id].reasons
    assert recs[slow_issue.id].reasons[0] == "Python"
    assert "Raft" not in recs[slow_issue.id].reasons
    assert "newcomer-friendly repo" in recs[slow_issue.id].reasons
    assert not any("reply" in reason for reason in recs[slow_issue.id].reasons)
    signals = recs[raft_issue.id].signals
    assert signals["maintainer_response_hours"] == 3
    assert signals["language"] == "Go"
    assert {"age_days", "comments", "approachability", "stack_fit"} <= set(signals)


def test_the_specific_term_is_named_not_its_parent(
    world: World, session: Session, settings: Settings
) -> None:
    world.issue(world.repo("pg/ext", topics=["postgresql"], section="Databases"))
    member = world.member("python, postgres")
    (rec,) = _recs(session, settings, member)
    assert rec.reasons[:2] == ["Python", "PostgreSQL"]
    assert "databases" not in rec.reasons


def test_recommendations_are_deterministic(
    world: World, session: Session, settings: Settings
) -> None:
    for i in range(8):  # identical issues: every score ties
        world.issue(world.repo(f"same/{i}"))
    members = [world.member("python") for _ in range(3)]
    ids = [m.id for m in members]
    first = recommend(session, settings, ids, 2, now=NOW)
    again = recommend(session, settings, list(reversed(ids)), 2, now=NOW)
    assert first == again
    issues = session.exec(select(Issue).order_by(Issue.id)).all()
    assert [r.issue_id for r in first[ids[0]]] == [issues[0].id, issues[3].id]


def test_record_picks_stores_them_and_they_are_not_picked_again(
    world: World, session: Session, settings: Settings
) -> None:
    issues = [world.issue(world.repo(f"r/{i}")) for i in range(4)]
    member = world.member("python")
    recs = _recs(session, settings, member, n=2)
    assert record_picks(session, recs, "on_demand", now=NOW) == 2
    rows = session.exec(select(Pick).where(Pick.member_id == member.id).order_by(Pick.rank)).all()
    assert [(p.issue_id, p.rank, p.source, p.state, p.created_at) for p in rows] == [
        (recs[0].issue_id, 1, "on_demand", "shown", NOW),
        (recs[1].issue_id, 2, "on_demand", "shown", NOW),
    ]
    assert rows[0].reasons == recs[0].reasons
    assert record_picks(session, recs, "digest", now=NOW) == 0  # already stored
    session.commit()
    nxt = _recs(session, settings, member, n=2)
    assert {r.issue_id for r in nxt} == {i.id for i in issues} - {r.issue_id for r in recs}


def test_approachability_is_stored_on_the_issue(
    world: World, session: Session, settings: Settings
) -> None:
    issue = world.issue(world.repo("r/a"))
    member = world.member("python")
    (rec,) = _recs(session, settings, member)
    session.refresh(issue)
    assert issue.approachability is not None
    assert rec.signals["approachability"] == round(issue.approachability, 4)


def test_an_inferred_stack_fills_in_but_never_overrides_what_was_typed(
    world: World, session: Session, settings: Settings
) -> None:
    py = world.issue(world.repo("py/a", newcomer_share=0.9))
    go = world.issue(world.repo("go/a", **GO))
    inferred = {"languages": {"python": 1.0}, "explanation": "inferred from 3 public repos"}
    typed_go = world.member("go", github_login="gopher", inferred=inferred)
    blank = world.member("", github_login="pythonista", inferred=inferred)
    recs = recommend(session, settings, [typed_go.id, blank.id], 2, now=NOW)
    assert recs[typed_go.id][0].issue_id == go.id
    assert [r.issue_id for r in recs[blank.id]] == [py.id]
    assert recs[blank.id][0].reasons[0] == "Python (from your GitHub)"


def test_no_members_or_no_issues_give_empty_results(
    world: World, session: Session, settings: Settings
) -> None:
    assert recommend(session, settings, [], now=NOW) == {}
    member = world.member("python")
    assert recommend(session, settings, None, now=NOW) == {member.id: []}


def test_without_the_model_approachability_is_neutral_and_not_stored(
    world: World, session: Session, settings: Settings, monkeypatch: Any
) -> None:
    monkeypatch.setattr("bot.match.approachability_adapter._scorer", lambda: None)
    issue = world.issue(world.repo("r/a"))
    member = world.member("python")
    (rec,) = _recs(session, settings, member)
    assert rec.signals["approachability"] == 0.5
    assert issue.approachability is None


def test_why_says_the_reporter_is_new_too_and_the_card_gets_the_repository_rules(
    world: World, session: Session, settings: Settings
) -> None:
    rules = {"contributing": True, "assign_first": True, "ai_policy": "restricted"}
    strict = world.repo("go/strict", topics=[], rules=rules)
    by_newcomer = world.issue(strict, author_association="FIRST_TIME_CONTRIBUTOR")
    by_member = world.issue(world.repo("py/plain", topics=[]), author_association="MEMBER")
    member = world.member("python")
    recs = {r.issue_id: r for r in _recs(session, settings, member)}
    assert "the reporter is new here too" in recs[by_newcomer.id].reasons
    assert "the reporter is new here too" not in recs[by_member.id].reasons
    assert recs[by_newcomer.id].signals["expects"] == rules
    assert "expects" not in recs[by_member.id].signals
