"""Claim holds: a scripted community of two workspaces over a few weeks — members get picks from
the real ranker, click Interested (some re-checked on the fake GitHub at once), say Not for me,
`/matchmaker release`, answer the halfway nudge with Keep, race each other on one issue, while
strangers take held issues on GitHub and weekly crawls see it.

Everything runs through the real code: the crawl against the fake GitHub over HTTP, the ranker
(`bot.match.recommend`), `bot.deliver.holds`, the holds job and the people ledger.

Prints figures and ratios; the last line is JSON with members, holds, released_by_reason,
nudges_sent, duplicate_nudges, crowded_issues (issues offered to a member while held for
another member of the same workspace), cross_workspace_leaks (pairs hidden by a hold of
another workspace), race_double_holds. Pass: holds > 0, nudges_sent > 0, every other count 0.
Usage: uv run python bench/holds.py [--members 220] [--weeks 4] [--seed 7]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from bot.config import Settings, load_settings
from bot.core.availability import Policy, Reason, Viewer, viewer_exclusions
from bot.deliver import holds
from bot.deliver.senders import ConsoleSender
from bot.fakes.catalog import add_to_catalog as seed_catalog
from bot.fakes.github import FakeGitHub, World
from bot.fakes.github.model import EPOCH
from bot.github.crawl import crawl
from bot.github.issue_check import check_issue
from bot.match.recommend import recommend, record_picks
from bot.schedule.jobs import holds_job
from bot.slack import commands as c
from bot.slack.actions import record_feedback
from bot.slack.handlers import CommandContext
from bot.slack.holds import handle_hold_click, release_reply
from bot.store import migrate
from bot.store.db import make_engine, session_scope
from bot.store.models import Hold, Issue, Member, PeopleMessage

TEAMS = ("TALPHA", "TBETA")
REPOS, ISSUES_PER_REPO = 40, 10
LEASE = timedelta(minutes=10)


def build_world() -> World:
    """Python repositories with beginner issues (the fake GitHub serves them)."""
    world = World()
    for r in range(REPOS):
        repo = world.add_repo(
            f"org{r}/store{r}",
            language="Python",
            languages={"Python": 10_000},
            labels=["good first issue"],
            pushed_at=EPOCH - timedelta(days=1),
        )
        for k in range(ISSUES_PER_REPO):
            created = EPOCH - timedelta(days=10 + k)
            repo.add_issue(
                f"Improve <part> {k} & its tests",
                labels=["good first issue"],
                created_at=created,
                updated_at=created,
            )
    return world


def seed_members(engine, count: int, rng: random.Random) -> dict[int, dict]:  # type: ignore[no-untyped-def]
    """Members split over two workspaces, half with a GitHub login; their traits by id."""
    traits: dict[int, dict] = {}
    with session_scope(engine) as session:
        for n in range(count):
            team = TEAMS[n % 2]
            login = f"dev{n}" if rng.random() < 0.5 else None
            member = Member(
                team_id=team,
                slack_user_id=f"U{n:05d}",
                languages={"python": 1.0},
                github_login=login,
                timezone=rng.choice(["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]),
            )
            session.add(member)
            session.flush()
            assert member.id is not None
            traits[member.id] = {
                "team": team,
                "user": member.slack_user_id,
                "keeps": rng.random() < 0.4,  # answers the nudge with Keep
                "drops": rng.random() < 0.15,  # says Not for me on a held pick later
            }
    return traits


def crowded(offers: list[tuple[str, int, int, datetime]], rows: list[Hold]) -> int:
    """Issues offered to a member while another member of the same workspace held them."""
    spans: dict[tuple[str, int], list[tuple[int, datetime, datetime]]] = {}
    for h in rows:
        end = min(h.released_at or h.expires_at, h.expires_at)
        spans.setdefault((h.team_id, h.issue_id), []).append((h.member_id, h.held_at, end))
    bad = set()
    for team, member_id, issue_id, at in offers:
        for holder, start, end in spans.get((team, issue_id), []):
            if holder != member_id and start <= at < end:
                bad.add((team, issue_id))
    return len(bad)


def leaks(session: Session, settings: Settings, viewers: list[Viewer], now: datetime) -> int:
    """Pairs hidden as HELD_FOR_OTHER without an active hold of another member of the
    viewer's own workspace (a hold leaking across workspaces, or a stale one)."""
    active = {
        (h.team_id, h.issue_id): h.member_id
        for h in session.exec(
            select(Hold).where(Hold.released_at.is_(None), Hold.expires_at > now)  # type: ignore[union-attr,operator]
        ).all()
    }
    team_of = {v.member_id: v.team_id for v in viewers}
    bad = 0
    for (member_id, issue_id), reason in viewer_exclusions(
        session, viewers, Policy.at(settings, now)
    ).items():
        if reason is not Reason.HELD_FOR_OTHER:
            continue
        holder = active.get((team_of[member_id], issue_id))
        if holder is None or holder == member_id:
            bad += 1
    return bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=220)
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="mm-holds-"))
    engine = make_engine(f"sqlite:///{tmp / 'bench.db'}")
    migrate.upgrade(engine)
    world = build_world()
    sender = ConsoleSender(io.StringIO())
    offers: list[tuple[str, int, int, datetime]] = []
    clicks = Counter[str]()
    place_seconds: list[float] = []
    race_double_holds = 0
    leak_count = 0
    with FakeGitHub(world) as fake:
        settings = load_settings(github_api_url=fake.base_url, GITHUB_TOKEN="bench-token")
        # every member may get every issue: only holds keep two members off one issue
        settings.match = settings.match.model_copy(update={"issue_capacity": 1000})
        seed_catalog(engine, [f"org{r}/store{r}" for r in range(REPOS)])
        traits = seed_members(engine, args.members, rng)
        viewers = [Viewer(m, t["team"]) for m, t in traits.items()]
        by_team = {team: [m for m, t in traits.items() if t["team"] == team] for team in TEAMS}

        def checker(engine_, settings_, issue_id, now):  # type: ignore[no-untyped-def]
            return check_issue(engine_, settings_, issue_id, now=now)

        def hold(member_id: int, issue_id: int, now: datetime, recheck: bool) -> holds.HoldResult:
            started = time.perf_counter()
            result = holds.place_hold(
                engine, settings, member_id, issue_id, now, checker if recheck else None
            )
            place_seconds.append(time.perf_counter() - started)
            clicks[result.outcome.value] += 1
            return result

        for day in range(args.weeks * 7):
            morning = EPOCH + timedelta(days=day, hours=1)
            if day % 7 == 0:
                crawl(engine, settings, now=morning)
            # picks on demand for about a quarter of the members, Interested on the first one
            asking = [m for m in traits if rng.random() < 0.25]
            with session_scope(engine) as session:
                picks = recommend(session, settings, asking, n=3, now=morning)
                record_picks(session, [r for recs in picks.values() for r in recs], "on_demand",
                             now=morning)  # fmt: skip
            for member_id, recs in picks.items():
                team = traits[member_id]["team"]
                offers.extend((team, member_id, r.issue_id, morning) for r in recs)
                if recs and rng.random() < 0.6:
                    at = morning + timedelta(minutes=rng.randrange(1, 600))
                    top = recs[0].issue_id
                    record_feedback(
                        engine, settings, team, traits[member_id]["user"], top,
                        "pick_interested", now=at,
                    )  # fmt: skip
                    hold(member_id, top, at, recheck=rng.random() < 0.3)
            # two members of one workspace press Interested on the same free issue at once
            with Session(engine) as session:
                held = {h.issue_id for h in session.exec(select(Hold)).all()}
                free = [i for i in session.exec(select(Issue.id)).all() if i not in held]
            if free:
                issue_id = rng.choice(free)
                team = rng.choice(TEAMS)
                racers = rng.sample(by_team[team], 2)
                barrier = threading.Barrier(2)
                racing_at = morning + timedelta(hours=11)

                def race(
                    member_id: int, issue_id: int, at: datetime, start: threading.Barrier
                ) -> None:
                    start.wait()
                    hold(member_id, issue_id, at, recheck=False)

                threads = [
                    threading.Thread(target=race, args=(m, issue_id, racing_at, barrier))
                    for m in racers
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                with Session(engine) as session:
                    active = session.exec(
                        select(Hold).where(
                            Hold.team_id == team,
                            Hold.issue_id == issue_id,
                            Hold.released_at.is_(None),  # type: ignore[union-attr]
                        )
                    ).all()
                race_double_holds += max(0, len(active) - 1)
            # strangers take a few held issues on GitHub (the next crawl releases those holds)
            with Session(engine) as session:
                active_holds = session.exec(
                    select(Hold, Issue)
                    .join(Issue, Issue.id == Hold.issue_id)  # type: ignore[arg-type]
                    .where(Hold.released_at.is_(None))  # type: ignore[union-attr]
                ).all()
            for _, issue in rng.sample(active_holds, min(3, len(active_holds))):
                full = issue.url.split("github.com/")[1].split("/issues")[0]
                gh = world.repo(full).issues[issue.number]  # type: ignore[union-attr]
                when = morning + timedelta(hours=12)
                gh.assignees, gh.assigned_at = ["stranger"], when
                gh.touch(when)
            # holders change their minds: Not for me, or `/matchmaker release`
            with Session(engine) as session:
                mine = session.exec(select(Hold).where(Hold.released_at.is_(None))).all()  # type: ignore[union-attr]
            evening = morning + timedelta(hours=14)
            for h in mine:
                t = traits[h.member_id]
                if t["drops"] and rng.random() < 0.2:
                    record_feedback(
                        engine, settings, t["team"], t["user"], h.issue_id, "pick_not_for_me",
                        now=evening,
                    )  # fmt: skip
                elif rng.random() < 0.03:
                    ctx = CommandContext(
                        engine=engine, settings=settings, client=None,  # type: ignore[arg-type]
                        team_id=t["team"], user_id=t["user"], recommender=None,  # type: ignore[arg-type]
                        crawler=None, now=evening,  # type: ignore[arg-type]
                    )  # fmt: skip
                    release_reply(c.ReleaseHolds(), ctx)
            # the holds job every 6 hours; nudged members who keep press Keep
            for hours in (3, 9, 15, 21):
                now = EPOCH + timedelta(days=day, hours=hours)
                holds_job(engine, settings, sender, lambda users: "G", now=now)
                with Session(engine) as session:
                    nudged = session.exec(
                        select(Hold).where(
                            Hold.nudged_at == now,
                            Hold.released_at.is_(None),  # type: ignore[union-attr]
                        )
                    ).all()
                for h in nudged:
                    t = traits[h.member_id]
                    action = "hold_keep" if t["keeps"] else "hold_release"
                    assert h.id is not None
                    handle_hold_click(
                        engine, settings, t["team"], t["user"], action, h.id,
                        now + timedelta(minutes=20),
                    )  # fmt: skip
            with Session(engine) as session:
                leak_count += leaks(session, settings, viewers, morning + timedelta(hours=23))
        points = fake.stats.requests
    with Session(engine) as session:
        rows = list(session.exec(select(Hold)).all())
        nudge_rows = session.exec(
            select(PeopleMessage).where(PeopleMessage.kind == holds.NUDGE_KIND)
        ).all()
    end = EPOCH + timedelta(days=args.weeks * 7)
    released = Counter(
        h.release_reason or ("active" if h.expires_at > end else "expired_unswept") for h in rows
    )
    sent_keys = [key for _, key, _ in sender.sent if key.startswith(holds.NUDGE_KIND)]
    duplicates = len(sent_keys) - len(set(sent_keys))
    crowded_issues = crowded(offers, rows)
    interested = sum(clicks.values())
    kept = sum(1 for h in rows if h.keeps)
    print(
        f"members {args.members} in {len(TEAMS)} workspaces, {args.weeks} weeks, "
        f"{len(offers)} picks offered, {interested} Interested clicks"
    )
    print(f"hold attempts by outcome: {dict(clicks)}")
    print(f"holds {len(rows)}, released by reason {dict(released)}, kept {kept}")
    print(
        f"holds per Interested click: {len(rows) / max(1, interested):.2f}; "
        f"nudges per hold: {len(sent_keys) / max(1, len(rows)):.2f}; "
        f"place_hold median {1000 * sorted(place_seconds)[len(place_seconds) // 2]:.1f} ms; "
        f"fake GitHub requests {points}"
    )
    print(f"nudge ledger rows {len(nudge_rows)}, sent {len(sent_keys)}")
    figures = {
        "members": args.members,
        "picks": len(offers),
        "interested": interested,
        "holds": len(rows),
        "released_by_reason": dict(sorted(released.items())),
        "nudges_sent": len(sent_keys),
        "duplicate_nudges": duplicates,
        "crowded_issues": crowded_issues,
        "cross_workspace_leaks": leak_count,
        "race_double_holds": race_double_holds,
    }
    ok = (
        len(rows) > 0
        and len(sent_keys) > 0
        and duplicates == 0
        and crowded_issues == 0
        and leak_count == 0
        and race_double_holds == 0
    )
    figures["pass"] = ok
    print(json.dumps(figures))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
