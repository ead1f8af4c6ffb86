"""Mentor intros: opt-in, the offer after an Interested click, the group DM, the mentee cap,
pausing, do-not-pair and workspaces (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.people import mentors, prefs
from bot.store.db import session_scope
from bot.store.models import Intro, Member, PeopleMessage
from tests.people.people_world import NOW, member
from tests.slack.slack_seed import seed_world


def _mentor(engine, user_id, scope=("org0/db0",), team_id="T1", **fields) -> int:
    member_id = member(engine, user_id, team_id, **fields)
    with session_scope(engine) as session:
        prefs.set_mentor(session, session.get(Member, member_id), True, list(scope), NOW)
    return member_id


def _offer(engine, settings, mentee_id, issue_id, now=NOW):
    with session_scope(engine) as session:
        mentee = session.get(Member, mentee_id)
        intro = mentors.offer_mentor(session, settings, mentee, issue_id, now)
        return intro.id if intro else None


def _answer(engine, settings, mentee_id, intro_id, yes, now=NOW) -> str:
    with session_scope(engine) as session:
        mentee = session.get(Member, mentee_id)
        return mentors.answer_offer(session, settings, mentee, intro_id, yes, now)


def test_no_mentor_until_one_opts_in(engine, settings, outbox):
    issues = seed_world(engine, repos=1)
    mentee = member(engine, "UMENTEE")
    member(engine, "UEXPERT", level="experienced")  # knows the repo but never said yes
    assert _offer(engine, settings, mentee, issues[0]) is None
    outbox.deliver(engine, NOW)
    assert outbox.sender.sent == []


def test_offer_then_yes_opens_a_group_dm_with_the_intro(engine, settings, outbox):
    issues = seed_world(engine, repos=1)
    _mentor(engine, "UMENTOR", languages={"go": 1.0}, level="experienced")
    mentee = member(engine, "UMENTEE", level="first-timer")
    intro_id = _offer(engine, settings, mentee, issues[0])
    assert intro_id is not None
    outbox.deliver(engine, NOW)
    [offer] = outbox.texts_to("UMENTEE")
    assert "Want an intro to <@UMENTOR>, who mentors newcomers in" in offer
    assert "org0/db0" in offer and "Yes, introduce us" in offer
    assert _answer(engine, settings, mentee, intro_id, yes=True) == "opened"
    outbox.deliver(engine, NOW)
    assert outbox.groups == [["UMENTEE", "UMENTOR"]]
    [group] = outbox.texts_to("GMENTEEMENTOR")
    assert "<@UMENTEE>, meet <@UMENTOR>" in group
    assert "Improve docs of module 0.0" in group  # the issue
    assert "<@UMENTEE> (first-timer): Python, databases" in group  # what each said
    assert "<@UMENTOR> (experienced): Go" in group
    assert "first question" in group
    with session_scope(engine) as session:
        intro = session.get(Intro, intro_id)
        assert intro.state == "open" and intro.channel == "GMENTEEMENTOR"


def test_no_thanks_sends_nothing_more_and_never_asks_again_for_that_repo(engine, settings, outbox):
    issues = seed_world(engine, repos=1)
    _mentor(engine, "UMENTOR")
    mentee = member(engine, "UMENTEE")
    intro_id = _offer(engine, settings, mentee, issues[0])
    assert _answer(engine, settings, mentee, intro_id, yes=False) == "declined"
    assert _offer(engine, settings, mentee, issues[1]) is None  # same repository
    outbox.deliver(engine, NOW)
    assert outbox.groups == [] and len(outbox.sender.sent) == 1


def test_merged_prs_are_named_in_the_offer(engine, settings, outbox):
    issues = seed_world(engine, repos=1)
    mentor_id = _mentor(engine, "UMENTOR", scope=(), github_login="Grace")
    with session_scope(engine) as session:
        from bot.store.models import Issue

        done = session.get(Issue, issues[3])
        done.state, done.assignees = "closed", ["grace"]
        done.linked_prs = [{"number": 7, "state": "MERGED", "url": None, "closes": True}]
        session.add(done)
    mentee = member(engine, "UMENTEE")
    assert _offer(engine, settings, mentee, issues[0]) is not None
    outbox.deliver(engine, NOW)
    assert "who has merged 1 PR in" in outbox.texts_to("UMENTEE")[0]
    assert mentor_id


def test_at_most_four_active_mentees_per_mentor(engine, settings, outbox):
    issues = seed_world(engine, repos=1)
    mentor_id = _mentor(engine, "UMENTOR")
    mentees = [member(engine, f"UM{n:03d}") for n in range(6)]
    offers = [_offer(engine, settings, m, issues[0]) for m in mentees]
    assert sum(o is not None for o in offers) == 4
    for mentee, intro_id in zip(mentees[:4], offers[:4], strict=True):
        assert _answer(engine, settings, mentee, intro_id, yes=True) == "opened"
    with session_scope(engine) as session:
        assert mentors.active_mentees(session, settings, mentor_id, NOW) == 4
    # a second mentor takes the fifth
    _mentor(engine, "UOTHER")
    assert _offer(engine, settings, mentees[4], issues[0]) is not None
    # two months on the places are free again
    later = NOW + timedelta(days=settings.people.mentee_active_days + 1)
    with session_scope(engine) as session:
        assert mentors.active_mentees(session, settings, mentor_id, later) == 0


def test_the_cap_is_a_setting(engine, outbox):
    from bot.config.settings import load_settings

    settings = load_settings(people={"max_mentees": 1})
    issues = seed_world(engine, repos=1)
    _mentor(engine, "UMENTOR")
    first, second = member(engine, "UA1"), member(engine, "UA2")
    assert _offer(engine, settings, first, issues[0]) is not None
    assert _offer(engine, settings, second, issues[0]) is None


def test_a_paused_or_retired_mentor_gets_no_mentees(engine, settings):
    issues = seed_world(engine, repos=1)
    mentor_id = _mentor(engine, "UMENTOR")
    with session_scope(engine) as session:
        assert prefs.pause_mentor(session, session.get(Member, mentor_id), NOW) is not None
    assert _offer(engine, settings, member(engine, "UA1"), issues[0]) is None
    with session_scope(engine) as session:
        prefs.set_mentor(session, session.get(Member, mentor_id), True, ["org0/db0"], NOW)
    assert _offer(engine, settings, member(engine, "UA2"), issues[0]) is not None
    with session_scope(engine) as session:
        prefs.set_mentor(session, session.get(Member, mentor_id), False, None, NOW)
    assert _offer(engine, settings, member(engine, "UA3"), issues[0]) is None


def test_a_paused_mentor_refuses_an_offer_accepted_later(engine, settings):
    issues = seed_world(engine, repos=1)
    mentor_id = _mentor(engine, "UMENTOR")
    mentee = member(engine, "UA1")
    intro_id = _offer(engine, settings, mentee, issues[0])
    with session_scope(engine) as session:
        prefs.pause_mentor(session, session.get(Member, mentor_id), NOW)
    assert _answer(engine, settings, mentee, intro_id, yes=True) == "full"


def test_topics_in_scope_match_the_repository_topics(engine, settings):
    issues = seed_world(engine, repos=1)  # topics: database, raft
    _mentor(engine, "UOTHER", scope=("kubernetes", "org9/db9"))
    assert _offer(engine, settings, member(engine, "UA1"), issues[0]) is None
    _mentor(engine, "UMENTOR", scope=("raft",))
    assert _offer(engine, settings, member(engine, "UA2"), issues[0]) is not None


def test_do_not_pair_either_way_blocks_the_mentor(engine, settings):
    issues = seed_world(engine, repos=1)
    mentor_id = _mentor(engine, "UMENTOR")
    mentee = member(engine, "UA1")
    with session_scope(engine) as session:
        prefs.add_nopair(session, session.get(Member, mentor_id), "UA1", NOW)
    assert _offer(engine, settings, mentee, issues[0]) is None
    other = member(engine, "UA2")
    with session_scope(engine) as session:
        prefs.add_nopair(session, session.get(Member, other), "UMENTOR", NOW)
    assert _offer(engine, settings, other, issues[0]) is None
    with session_scope(engine) as session:
        assert prefs.remove_nopair(session, session.get(Member, other), "UMENTOR")
    assert _offer(engine, settings, other, issues[0]) is not None


def test_mentors_of_another_workspace_are_never_offered(engine, settings):
    issues = seed_world(engine, repos=1)
    _mentor(engine, "UMENTOR", team_id="T2")
    assert _offer(engine, settings, member(engine, "UA1", team_id="T1"), issues[0]) is None
    assert _offer(engine, settings, member(engine, "UA2", team_id="T2"), issues[0]) is not None


def test_someone_elses_offer_cannot_be_answered(engine, settings):
    issues = seed_world(engine, repos=1)
    _mentor(engine, "UMENTOR")
    mentee, stranger = member(engine, "UA1"), member(engine, "UA2")
    intro_id = _offer(engine, settings, mentee, issues[0])
    assert _answer(engine, settings, stranger, intro_id, yes=True) == "gone"
    with session_scope(engine) as session:
        assert session.get(Intro, intro_id).state == "offered"


def test_unanswered_offers_lapse_and_free_the_place(engine):
    from bot.config.settings import load_settings

    settings = load_settings(people={"max_mentees": 1})
    issues = seed_world(engine, repos=1)
    _mentor(engine, "UMENTOR")
    first = member(engine, "UA1")
    intro_id = _offer(engine, settings, first, issues[0])
    later = NOW + timedelta(days=settings.people.offer_expires_days + 1)
    with session_scope(engine) as session:
        assert mentors.expire_offers(session, settings, "T1", later) == 1
    assert _answer(engine, settings, first, intro_id, yes=True, now=later) == "gone"
    assert _offer(engine, settings, member(engine, "UA2"), issues[0], now=later) is not None


def test_members_with_merged_prs_are_invited_once(engine, settings, outbox):
    issues = seed_world(engine, repos=1)
    grace = member(engine, "UGRACE", github_login="grace")
    with session_scope(engine) as session:
        from bot.store.models import Issue

        done = session.get(Issue, issues[0])
        done.state, done.claimed_by = "closed", "Grace"
        done.linked_prs = [{"number": 7, "state": "MERGED", "url": None, "closes": False}]
        session.add(done)
        assert mentors.invite_mentors(session, settings, "T1", NOW) == 1
    with session_scope(engine) as session:
        assert mentors.invite_mentors(session, settings, "T1", NOW + timedelta(days=1)) == 0
        assert mentors.invite_mentors(session, settings, "T2", NOW) == 0  # other workspace
    outbox.deliver(engine, NOW)
    [invite] = outbox.texts_to("UGRACE")
    assert "You've merged 1 PR in" in invite and "org0/db0" in invite
    with session_scope(engine) as session:
        assert mentors.accept_invite(session, session.get(Member, grace), 1, NOW) == "org0/db0"
        kinds = session.exec(select(PeopleMessage.kind)).all()
    assert kinds == ["mentor_invite"]


def test_no_mentor_offer_to_someone_already_introduced(engine, settings):
    from bot.people.run import run_pass
    from tests.people.people_world import interested

    issues = seed_world(engine, repos=2)
    mentor_id = _mentor(engine, "UMENTOR", scope=("org0/db0", "org1/db1"))
    mentee = member(engine, "UA1")
    for who in (mentor_id, mentee):
        with session_scope(engine) as session:
            prefs.set_buddies(session, session.get(Member, who), True, NOW)
        interested(engine, who, issues[0])
    run_pass(engine, settings, NOW)  # buddies first
    assert _offer(engine, settings, mentee, issues[4]) is None  # the mentor already knows them
    other = member(engine, "UA2")
    assert _offer(engine, settings, other, issues[4]) is not None
    assert _offer(engine, settings, other, issues[0]) is None  # nor twice for two repositories
