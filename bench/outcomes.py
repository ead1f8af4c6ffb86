"""Outcomes: a scripted 8-week community on the 135-repository synthetic demo world, through
the real crawl (with outcome tracking), weekly digests, the daily people pass and the people
ledger, with time passed in.

Members with a GitHub login act on some of their picks (comment, open a PR, get it merged or
not); others take some picked issues first; a few members merge PRs the bot never picked; some
PRs only mention their issue. Ground truth is the fake GitHub's own record of merges.
Members who act on a pick first press Interested, through the Slack listener's own path (the
click is recorded, GitHub is re-checked through the fake, and the issue is held if still
free); the holds job (expiry, taken-by-someone-else, halfway nudges) runs four times a day.

Prints figures and ratios; the last line is JSON with members, picks, holds, prs_opened, merged,
merged_detected, merged_opted_in, celebrations, false_celebrations, duplicate_celebrations,
crowded_issues, hit_at_3, outcome_points, seed_crawl_points, seed_recrawl_points, pass.
`holds` counts the stored holds; `crowded_issues` counts the issues whose stored pick for a
member was made while another member of the same workspace held the issue (from the stored
picks and holds, not from any counter of the code under test).
Pass: merged_detected == merged, celebrations == merged_opted_in, no false or duplicate
celebration, crowded_issues == 0, seed re-crawl within its budget goal (≤ 5 points).
Usage: uv run python bench/outcomes.py [--members 240] [--weeks 8] [--seed 7]
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.config import Settings, load_settings
from bot.deliver.celebrate import CELEBRATE_DM, set_celebrate
from bot.deliver.digest import run_digest
from bot.deliver.intros import deliver_pending
from bot.deliver.senders import ConsoleSender
from bot.fakes.catalog import add_to_catalog
from bot.fakes.github import FakeGitHub
from bot.fakes.github.demo_repos import DEMO_REPOS, SEED_LIST
from bot.fakes.github.timeline import Timeline
from bot.fakes.github.world import demo_world
from bot.github.crawl import crawl
from bot.github.issue_check import check_issue
from bot.match.quality import overall_hit, weekly_quality
from bot.people.run import run_pass
from bot.schedule.jobs import holds_job
from bot.slack.actions import record_feedback
from bot.slack.holds import hold_after_interest
from bot.store import migrate
from bot.store.db import make_engine, session_scope
from bot.store.models import (
    Hold,
    Member,
    MergedPR,
    PeopleMessage,
    Pick,
    PickOutcome,
    Repository,
)

START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # a Monday (the demo world's week)
TEAMS = ("TALPHA", "TBETA")
LANGUAGES = ("go", "rust", "java", "python", "c++", "scala")
LEVELS = ("first-timer", "first-timer", "some", "experienced")
SEED_RECRAWL_GOAL = 5  # points of an unchanged re-crawl (bench/crawl_cost.py's target)
HOLDS_JOB_HOURS = (4, 11, 16, 22)  # the holds job's runs each day (after the crawl at 3:00)


def recheck(engine: Engine, settings: Settings, issue_id: int, now: datetime) -> bool:
    """The Interested click's GitHub re-check, against the fake GitHub."""
    return check_issue(engine, settings, issue_id, now=now)


def crowded(picks: list[tuple[str, int, int, datetime]], holds: list[Hold]) -> int:
    """Issues picked for a member while another member of the same workspace held them;
    `picks` are (team, member id, issue id, picked at)."""
    spans: dict[tuple[str, int], list[tuple[int, datetime, datetime]]] = {}
    for h in holds:
        end = min(h.released_at or h.expires_at, h.expires_at)
        spans.setdefault((h.team_id, h.issue_id), []).append((h.member_id, h.held_at, end))
    bad = set()
    for team, member_id, issue_id, at in picks:
        for holder, start, end in spans.get((team, issue_id), []):
            if holder != member_id and start <= at < end:
                bad.add((team, issue_id))
    return len(bad)


def seed_members(engine, count: int, rng: random.Random, world) -> dict[int, dict]:  # type: ignore[no-untyped-def]
    """Members over two workspaces; ~60% with a GitHub login, half of those opted in."""
    traits: dict[int, dict] = {}
    with session_scope(engine) as session:
        for n in range(count):
            login = f"member{n:03d}-gh" if rng.random() < 0.6 else None
            member = Member(
                team_id=TEAMS[n % 2],
                slack_user_id=f"U{n:05d}",
                github_login=login,
                languages={rng.choice(LANGUAGES): 1.0, rng.choice(LANGUAGES): 0.5},
                level=rng.choice(LEVELS),
                created_at=START - timedelta(days=1),
            )
            session.add(member)
            session.flush()
            assert member.id is not None
            opted = bool(login) and rng.random() < 0.5
            if opted:
                set_celebrate(session, member, True, START)
            if login:
                world.add_user(login)
            traits[member.id] = {
                "login": login,
                "opted": opted,
                "user": member.slack_user_id,
                "team": member.team_id,
                "eager": rng.random(),  # how likely they act on a pick
            }
    return traits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=240)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    rng = random.Random(args.seed)
    world = demo_world(seed=args.seed)
    timeline = Timeline(world)
    sender = ConsoleSender(io.StringIO())
    truth: dict[tuple[int, str, int], datetime] = {}  # (member, repo, PR number) -> merged at
    no_login_acts = 0
    pr_opened_truth = 0
    crawl_points: list[int] = []
    outcome_per_crawl: list[int] = []
    outcome_points = 0
    interested = 0
    with FakeGitHub(world) as fake, tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate.upgrade(engine)
        add_to_catalog(engine, (name for name, *_ in DEMO_REPOS), list_url=SEED_LIST)
        settings = load_settings(github_api_url=fake.base_url, GITHUB_TOKEN="bench-token")
        settings.digest = settings.digest.model_copy(update={"picks": 3})
        # a weekly full refresh of unchanged repositories (default 72 h) keeps the run short;
        # changed repositories are still re-crawled the same night
        settings.github = settings.github.model_copy(update={"full_refresh_hours": 168.0})

        seed = crawl(engine, settings, now=START)  # the seed list, first crawl: no picks yet
        seed_crawl_points = seed.points
        again = crawl(engine, settings, now=START + timedelta(hours=1))
        seed_recrawl_points = again.points - again.outcome_points

        traits = seed_members(engine, args.members, rng, world)
        started = time.perf_counter()
        catalog = [name.lower() for name, *_ in DEMO_REPOS]
        seen_picks: set[int] = set()
        last_day = args.weeks * 7
        for day in range(1, last_day + 1):
            today = START + timedelta(days=day)
            timeline.advance(today + timedelta(hours=3))
            report = crawl(engine, settings, now=today + timedelta(hours=3))
            crawl_points.append(report.points)
            outcome_per_crawl.append(report.outcome_points)
            outcome_points += report.outcome_points
            if today.weekday() == 0 and day < last_day:  # Monday digest
                run_digest(
                    engine,
                    settings,
                    sender,
                    now=today + timedelta(hours=9),
                    force=True,
                    rechecker=lambda *_a, **_k: None,
                )
                with Session(engine) as session:
                    fresh = session.exec(select(Pick).where(Pick.id.not_in(seen_picks))).all()  # type: ignore[union-attr]
                    repos = {r.id: r.full_name for r in session.exec(select(Repository)).all()}
                    from bot.store.models import Issue

                    numbers = {
                        i.id: i.number
                        for i in session.exec(
                            select(Issue).where(Issue.id.in_([p.issue_id for p in fresh]))  # type: ignore[union-attr]
                        )
                    }
                    repo_of = {
                        i.id: repos[i.repository_id]
                        for i in session.exec(
                            select(Issue).where(Issue.id.in_([p.issue_id for p in fresh]))  # type: ignore[union-attr]
                        )
                    }
                for pick in fresh:
                    assert pick.id is not None
                    seen_picks.add(pick.id)
                    t = traits[pick.member_id]
                    when = today + timedelta(hours=10)
                    repo, number = repo_of[pick.issue_id], numbers[pick.issue_id]
                    roll = rng.random()
                    latest = START + timedelta(days=last_day - 1)
                    if roll < 0.04:  # someone else takes it first
                        if when + timedelta(days=3) < latest:
                            timeline.taken_by_other(
                                when + timedelta(days=1),
                                when + timedelta(days=3),
                                repo,
                                number,
                                "amber-dev",
                            )
                        continue
                    act = 0.22 * t["eager"] / (pick.rank + 1)  # digests rank from 0
                    if roll > act + 0.04:
                        continue
                    # acting starts with Interested: the click, the re-check, the hold
                    record_feedback(
                        engine, settings, t["team"], t["user"], pick.issue_id,
                        "pick_interested", now=when,
                    )  # fmt: skip
                    hold_after_interest(engine, settings, pick.member_id, pick.issue_id, when,
                                        recheck)  # fmt: skip
                    interested += 1
                    if not t["login"]:
                        no_login_acts += 1
                        continue
                    login = t["login"]
                    timeline.comment(when + timedelta(days=1), repo, number, login, "On it!")
                    if rng.random() < 0.75:
                        opened = when + timedelta(days=rng.randint(2, 6))
                        closes = rng.random() < 0.9
                        pr = timeline.open_pr(
                            opened,
                            repo,
                            number,
                            login,
                            closes=closes,
                            title=f"Fix <{number}> & friends",
                        )
                        pr_opened_truth += 1
                        merged_at = opened + timedelta(days=rng.randint(2, 12), hours=2)
                        if rng.random() < 0.7 and merged_at < latest:
                            timeline.merge(merged_at, repo, pr)
                            truth[(pick.member_id, repo, pr.number)] = merged_at
            # a few unpicked contributions in catalog repositories
            for member_id, t in traits.items():
                if t["login"] and rng.random() < 0.002 and day < last_day - 2:
                    repo = rng.choice(catalog)
                    pr = timeline.open_pr(today, repo, None, t["login"], title="Unpicked fix")
                    merged_at = today + timedelta(days=1, hours=1)
                    timeline.merge(merged_at, repo, pr)
                    truth[(member_id, repo, pr.number)] = merged_at
            now = today + timedelta(hours=10)
            run_pass(engine, settings, now, invite=False)
            deliver_pending(
                engine,
                sender,
                lambda users: "G" + "".join(users),
                now=now,
                lease=timedelta(minutes=10),
            )
            for hours in HOLDS_JOB_HOURS:  # expiry, taken by someone else, halfway nudges
                holds_job(engine, settings, sender, lambda users: "G" + "".join(users),
                          now=today + timedelta(hours=hours))  # fmt: skip
            print(
                f"day {day}: crawl {report.points} points ({report.outcome_points} on outcomes),"
                f" {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
        end = START + timedelta(days=last_day, hours=12)
        with Session(engine) as session:
            stored = {
                (m.member_id, repo, m.number)
                for m, repo in session.exec(
                    select(MergedPR, Repository.full_name).join(
                        Repository,
                        Repository.id == MergedPR.repository_id,  # type: ignore[arg-type]
                    )
                ).all()
            }
            picks = session.exec(select(func.count()).select_from(Pick)).one()
            prs_opened = session.exec(
                select(func.count())
                .select_from(PickOutcome)
                .where(
                    PickOutcome.pr_opened_at.is_not(None)  # type: ignore[union-attr]
                )
            ).one()
            states = Counter(session.exec(select(PickOutcome.state)).all())
            weeks = weekly_quality(session, None, end, weeks=args.weeks + 1)
            dm_rows = session.exec(
                select(PeopleMessage).where(PeopleMessage.kind == CELEBRATE_DM)
            ).all()
            hold_rows = list(session.exec(select(Hold)).all())
            picked = [
                (team, member_id, issue_id, at)
                for member_id, issue_id, at, team in session.exec(
                    select(Pick.member_id, Pick.issue_id, Pick.created_at, Member.team_id).join(
                        Member,
                        Member.id == Pick.member_id,  # type: ignore[arg-type]
                    )
                ).all()
            ]
            merged_rows = {
                m.pr_node_id: (m.member_id, repo, m.number)
                for m, repo in session.exec(
                    select(MergedPR, Repository.full_name).join(
                        Repository,
                        Repository.id == MergedPR.repository_id,  # type: ignore[arg-type]
                    )
                ).all()
            }
        engine.dispose()
    sent_keys = Counter(key for _t, key, _x in sender.sent if key.startswith("celebrate:"))
    celebrated = [
        merged_rows.get(row.dedupe_key.split(":", 2)[2]) for row in dm_rows if row.state == "sent"
    ]
    truth_keys = {(m, r.lower(), n) for (m, r, n) in truth}
    merged = len(truth_keys)
    detected = len(truth_keys & stored)
    opted_in = sum(1 for (m, _r, _n) in truth_keys if traits[m]["opted"])
    false_celebrations = sum(
        1 for c in celebrated if c is None or c not in truth_keys or not traits[c[0]]["opted"]
    )
    duplicates = sum(count - 1 for count in sent_keys.values() if count > 1)
    released = Counter(h.release_reason or "active" for h in hold_rows)
    nudges = sum(1 for _t, key, _x in sender.sent if key.startswith("hold_nudge:"))
    result = {
        "members": args.members,
        "members_with_login": sum(1 for t in traits.values() if t["login"]),
        "members_opted_in": sum(1 for t in traits.values() if t["opted"]),
        "weeks": args.weeks,
        "picks": picks,
        "interested": interested,
        "holds": len(hold_rows),
        "holds_by_release": dict(sorted(released.items())),
        "hold_nudges": nudges,
        "prs_opened": prs_opened,
        "prs_opened_truth": pr_opened_truth,
        "merged": merged,
        "merged_detected": detected,
        "merged_stored_extra": len(stored - truth_keys),
        "merged_opted_in": opted_in,
        "celebrations": sum(1 for _ in celebrated),
        "false_celebrations": false_celebrations,
        "duplicate_celebrations": duplicates,
        "crowded_issues": crowded(picked, hold_rows),
        "outcome_states": dict(states),
        "acted_without_login": no_login_acts,
        "hit_at_1_30d": overall_hit(weeks, "hit@1/30d"),
        "hit_at_3": overall_hit(weeks, "hit@3/60d"),
        "outcome_points": outcome_points,
        "outcome_points_per_crawl_max": max(outcome_per_crawl, default=0),
        "crawl_points_total": sum(crawl_points),
        "crawls": len(crawl_points),
        "seed_crawl_points": seed_crawl_points,
        "seed_recrawl_points": seed_recrawl_points,
    }
    result["pass"] = (
        result["merged_detected"] == result["merged"]
        and result["celebrations"] == result["merged_opted_in"]
        and result["false_celebrations"] == 0
        and result["duplicate_celebrations"] == 0
        and result["crowded_issues"] == 0
        and result["seed_recrawl_points"] <= SEED_RECRAWL_GOAL
    )
    print(
        f"{args.members} members over {args.weeks} weeks: {picks} picks, {interested} Interested "
        f"clicks, {len(hold_rows)} holds ({result['crowded_issues']} issues crowded), "
        f"{prs_opened} PRs opened, "
        f"{merged} merged ({detected} detected = {detected / max(merged, 1):.0%}); "
        f"{result['celebrations']} celebrations for {opted_in} opted-in merges; "
        f"outcome tracking {outcome_points} points over {len(crawl_points)} crawls "
        f"({outcome_points / max(len(crawl_points), 1):.1f}/crawl); "
        f"seed crawl {seed_crawl_points} points, re-crawl {seed_recrawl_points} "
        f"(goal ≤ {SEED_RECRAWL_GOAL}); hit@3 (60 d) {result['hit_at_3']:.2%}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
