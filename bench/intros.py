"""Intros: a scripted community of two workspaces over 8 weeks — members click Interested,
some mentor, some want buddies, some block others, some never answer — run through the real
people code (offers, buddy rounds, follow-ups, pauses, the people ledger).

Prints figures and ratios; the last line is JSON with members, mentors, intros, repeat_pairs,
max_mentees_per_mentor, optout_violations, cross_workspace, followups_sent, paused.
Pass: intros > 0, repeat_pairs 0, max_mentees_per_mentor ≤ 4, optout_violations 0,
cross_workspace 0, followups_sent > 0.
Usage: uv run python bench/intros.py [--members 320] [--weeks 8] [--seed 7]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, func, select

from bot.config import load_settings
from bot.core.vocabulary import IntroAnswer
from bot.deliver.intros import deliver_pending
from bot.deliver.senders import ConsoleSender
from bot.people import followups, mentors, prefs
from bot.people.run import run_pass
from bot.store import migrate
from bot.store.db import make_engine, session_scope
from bot.store.models import (
    Feedback,
    Intro,
    IntroSide,
    Issue,
    Member,
    PeopleMessage,
    PeoplePrefs,
    Repository,
)

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
TEAMS = ("TALPHA", "TBETA")
TOPICS = ["raft", "key-value", "streaming", "consensus", "storage", "scheduling"]
LEASE = timedelta(minutes=10)


def seed(engine, members: int, rng: random.Random) -> dict[str, dict]:
    """Repositories with issues; members split over two workspaces with their traits."""
    traits: dict[str, dict] = {}
    with Session(engine) as session:
        repos = []
        for r in range(16):
            repo = Repository(
                full_name=f"org{r}/system{r}",
                topics=[TOPICS[r % len(TOPICS)], TOPICS[(r + 1) % len(TOPICS)]],
                pushed_at=START,
            )
            session.add(repo)
            session.flush()
            repos.append(repo)
            for k in range(20):
                session.add(
                    Issue(
                        node_id=f"I_{r}_{k}",
                        repository_id=repo.id,
                        number=k + 1,
                        title=f"Improve <docs> & tests of part {k}",
                        url=f"https://github.com/{repo.full_name}/issues/{k + 1}",
                        crawled_at=START,
                    )
                )
        for n in range(members):
            team = TEAMS[n % 2]
            user = f"U{n:05d}{team[1]}"
            session.add(
                Member(
                    team_id=team,
                    slack_user_id=user,
                    languages={"python": 1.0},
                    topics={TOPICS[n % len(TOPICS)]: 1.0},
                    created_at=START,
                )
            )
            traits[user] = {
                "team": team,
                "mentor": rng.random() < 0.08,
                "buddies": rng.random() < 0.6,
                "answers": rng.random() < 0.75,  # the rest never answer a follow-up
                "accepts": rng.random() < 0.7,  # says yes to a mentor offer
                "leaves_at_week": 4 if rng.random() < 0.1 else None,  # buddies off then
                "home": rng.randrange(16),  # the repository they keep coming back to
            }
        session.commit()
    return traits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=320)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    settings = load_settings()
    tmp = Path(tempfile.mkdtemp(prefix="mm-intros-"))
    engine = make_engine(f"sqlite:///{tmp / 'bench.db'}")
    migrate.upgrade(engine)
    traits = seed(engine, args.members, rng)
    sender = ConsoleSender(io.StringIO())
    groups: list[list[str]] = []

    def open_group(users):  # type: ignore[no-untyped-def]
        groups.append(list(users))
        return "G" + "".join(sorted(users))

    with Session(engine) as session:
        ids = {m.slack_user_id: m.id for m in session.exec(select(Member)).all()}
        index = {r.id: int(r.full_name.split("/")[0][3:]) for r in session.exec(select(Repository))}
        issues_by_repo: dict[int, list[int]] = {}
        for issue in session.exec(select(Issue)).all():
            issues_by_repo.setdefault(index[issue.repository_id], []).append(issue.id)
    # Opt-ins (everything off until said): mentors for their home repository, buddies.
    buddies_on: dict[str, tuple[datetime, datetime | None]] = {}
    blocked: set[frozenset[str]] = set()
    with session_scope(engine) as session:
        for user, t in traits.items():
            member = session.get(Member, ids[user])
            if t["mentor"]:
                scope = [
                    f"org{t['home']}/system{t['home']}",
                    f"org{(t['home'] + 1) % 16}/system{(t['home'] + 1) % 16}",
                ]
                prefs.set_mentor(session, member, True, scope, START)
            if t["buddies"]:
                prefs.set_buddies(session, member, True, START)
                buddies_on[user] = (START, None)
        same_team = {team: [u for u, t in traits.items() if t["team"] == team] for team in TEAMS}
        for users in same_team.values():
            for _ in range(len(users) // 10):  # private do-not-pair entries
                a, b = rng.sample(users, 2)
                prefs.add_nopair(session, session.get(Member, ids[a]), b, START)
                blocked.add(frozenset((a, b)))
    max_mentees = 0
    mentor_ids = [ids[u] for u, t in traits.items() if t["mentor"]]
    for day in range(args.weeks * 7):
        now = START + timedelta(days=day, hours=1)
        week = day // 7
        with session_scope(engine) as session:
            for user, t in traits.items():
                if (
                    t["leaves_at_week"] == week
                    and user in buddies_on
                    and buddies_on[user][1] is None
                ):
                    prefs.set_buddies(session, session.get(Member, ids[user]), False, now)
                    buddies_on[user] = (buddies_on[user][0], now)
        # Interested clicks: about one a week per member, mostly in their home repository.
        for user, t in traits.items():
            if rng.random() > 1 / 7:
                continue
            repo = t["home"] if rng.random() < 0.7 else rng.randrange(16)
            issue_id = rng.choice(issues_by_repo[repo])
            with session_scope(engine) as session:
                session.add(
                    Feedback(
                        member_id=ids[user], issue_id=issue_id, kind="interested", created_at=now
                    )
                )
                mentors.offer_mentor(
                    session, settings, session.get(Member, ids[user]), issue_id, now
                )
        # Offers answered the same day by those who answer.
        with session_scope(engine) as session:
            for intro in session.exec(select(Intro).where(Intro.state == "offered")).all():
                mentee = session.get(Member, intro.member_a_id)
                t = traits[mentee.slack_user_id]
                if t["answers"]:
                    mentors.answer_offer(session, settings, mentee, intro.id, t["accepts"], now)
        run_pass(engine, settings, now)
        deliver_pending(engine, sender, open_group, now=now, lease=LEASE)
        # Follow-ups answered (or ignored) the next day.
        with session_scope(engine) as session:
            asked = session.exec(
                select(IntroSide).where(
                    IntroSide.followup_at.is_not(None),
                    IntroSide.answer.is_(None),
                    IntroSide.ignored.is_(False),
                )
            ).all()
            for side in asked:
                member = session.get(Member, side.member_id)
                if traits[member.slack_user_id]["answers"]:
                    answer = rng.choice(list(IntroAnswer))
                    followups.record_answer(session, member, side.id, answer, now)
            for mentor_id in mentor_ids:
                max_mentees = max(
                    max_mentees, mentors.active_mentees(session, settings, mentor_id, now)
                )
    # Figures, checked against the script's own record of who said what.
    with Session(engine) as session:
        users = {m.id: m for m in session.exec(select(Member)).all()}
        intros = session.exec(
            select(Intro).where(Intro.state.in_(["accepted", "open", "closed"]))
        ).all()
        pair_counts = Counter(i.pair_key for i in intros)
        repeat_pairs = sum(n - 1 for n in pair_counts.values() if n > 1)
        cross = sum(
            1
            for i in intros
            if len({i.team_id, users[i.member_a_id].team_id, users[i.member_b_id].team_id}) > 1
        )
        violations = 0
        for i in intros:
            a, b = users[i.member_a_id].slack_user_id, users[i.member_b_id].slack_user_id
            if frozenset((a, b)) in blocked:
                violations += 1
            if i.kind == "buddy":
                for u in (a, b):
                    on = buddies_on.get(u)
                    if on is None or (on[1] is not None and i.created_at >= on[1]):
                        violations += 1
            elif not traits[b]["mentor"]:
                violations += 1
        sent = Counter(
            kind
            for kind in session.exec(
                select(PeopleMessage.kind).where(PeopleMessage.state == "sent")
            ).all()
        )
        paused = session.exec(
            select(func.count()).select_from(PeoplePrefs).where(PeoplePrefs.paused)
        ).one()
    opened = len(groups)
    print(
        f"members {args.members} in {len(TEAMS)} workspaces, {len(mentor_ids)} mentors, "
        f"{args.weeks} weeks"
    )
    print(
        f"intros opened: {opened} ({sent['group_intro']} group DMs sent), "
        f"by kind {dict(Counter(i.kind for i in intros))}"
    )
    print(f"messages sent by kind: {dict(sent)}")
    print(f"intros per opted-in member: {opened / max(1, len(buddies_on) + len(mentor_ids)):.2f}")
    figures = {
        "members": args.members,
        "mentors": len(mentor_ids),
        "intros": opened,
        "repeat_pairs": repeat_pairs,
        "max_mentees_per_mentor": max_mentees,
        "optout_violations": violations,
        "cross_workspace": cross,
        "followups_sent": sent["followup"],
        "paused": paused,
    }
    ok = (
        opened > 0
        and repeat_pairs == 0
        and max_mentees <= settings.people.max_mentees
        and violations == 0
        and cross == 0
        and sent["followup"] > 0
    )
    figures["pass"] = ok
    print(json.dumps(figures))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
