"""Measured quality per ISO week (SQLite and PostgreSQL): picks, clicks, PRs opened, merged,
hit@1/hit@3 within 30 and 60 days, median pick->merge time, per workspace and for operators."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.match.quality import overall_hit, quality_lines, weekly_quality
from bot.store.db import session_scope
from bot.store.models import Feedback, Member, MergedPR, Pick, PickOutcome
from tests.slack.slack_seed import seed_world

MONDAY = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)  # ISO week 2026-W41


def _member(session: Session, user: str, team: str, login: str | None) -> int:
    row = Member(slack_user_id=user, team_id=team, github_login=login, created_at=MONDAY)
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def _pick(
    session: Session,
    member: int,
    issue: int,
    rank: int,
    merged_days: float | None,
    team: str = "T1",
    repo_id: int = 1,
) -> None:
    pick = Pick(member_id=member, issue_id=issue, rank=rank, created_at=MONDAY)
    session.add(pick)
    session.flush()
    assert pick.id is not None
    if merged_days is None:
        return
    merged_at = MONDAY + timedelta(days=merged_days)
    session.add(
        PickOutcome(
            team_id=team,
            pick_id=pick.id,
            member_id=member,
            issue_id=issue,
            state="merged",
            pr_opened_at=MONDAY + timedelta(days=1),
            merged_at=merged_at,
            updated_at=merged_at,
        )
    )
    session.add(
        MergedPR(
            team_id=team,
            member_id=member,
            repository_id=repo_id,
            pr_node_id=f"PR{pick.id}",
            number=pick.id,
            url="https://github.com/x",
            merged_at=merged_at,
            picked=True,
            pick_id=pick.id,
            seen_at=merged_at,
        )
    )


def test_hit_at_k_windows_and_median_time_to_merge(engine: Engine) -> None:
    issues = seed_world(engine, repos=1)
    with session_scope(engine) as session:
        a = _member(session, "UA", "T1", "a")  # top pick merged in 10 days: hit@1 and @3
        b = _member(session, "UB", "T1", "b")  # third pick merged in 45 days: hit@3 at 60d only
        c = _member(session, "UC", "T1", "c")  # nothing merged
        d = _member(session, "UD", "T1", None)  # no login: not in the hit@k denominator
        other = _member(session, "UX", "T2", "x")  # another workspace
        _pick(session, a, issues[0], 1, 10)
        _pick(session, b, issues[0], 1, None)
        _pick(session, b, issues[2], 3, 45)
        _pick(session, c, issues[0], 1, None)
        _pick(session, d, issues[0], 1, None)
        _pick(session, other, issues[0], 1, 2, team="T2")
        session.add(Feedback(member_id=a, issue_id=issues[0], kind="interested", created_at=MONDAY))
    now = MONDAY + timedelta(days=80)
    with Session(engine) as session:
        weeks = weekly_quality(session, "T1", now, weeks=12)
        every = weekly_quality(session, None, now, weeks=12)
    [w41] = [w for w in weeks if w.week == "2026-W41"]
    assert (w41.picks, w41.interested, w41.tracked_members, w41.merged_picks) == (5, 1, 3, 2)
    assert w41.hit["hit@1/30d"] == round(1 / 3, 4) and w41.hit["hit@1/60d"] == round(1 / 3, 4)
    assert w41.hit["hit@3/30d"] == round(1 / 3, 4) and w41.hit["hit@3/60d"] == round(2 / 3, 4)
    assert w41.median_days_to_merge == 27.5 and w41.mature == {"30d": True, "60d": True}
    assert w41.prs_opened == 2 and w41.holds == 0
    assert sum(w.merged for w in weeks) == 2  # T2's merge is not T1's
    assert sum(w.picks for w in every) == 6 and sum(w.merged for w in every) == 3
    assert overall_hit(weeks) == round(2 / 3, 4)
    [line] = [x for x in quality_lines(weeks) if x.startswith("2026-W41")]
    assert "5 picks" in line and "hit@3 33%/67%" in line and "pick→merge 27.5d" in line


def test_a_young_week_is_marked_as_still_open(engine: Engine) -> None:
    issues = seed_world(engine, repos=1)
    with session_scope(engine) as session:
        _pick(session, _member(session, "UA", "T1", "a"), issues[0], 1, None)
    with Session(engine) as session:
        [week] = [w for w in weekly_quality(session, "T1", MONDAY + timedelta(days=3), 1)]
    assert week.mature == {"30d": False, "60d": False} and week.hit["hit@3/60d"] == 0.0
    assert "(still open)" in quality_lines([week])[0]


def test_cli_stats_prints_weeks_as_a_table_and_as_json(engine: Engine, cli_db: str) -> None:
    from typer.testing import CliRunner

    from bot.cli.app import app

    issues = seed_world(engine, repos=1)
    recent = datetime.now(UTC) - timedelta(hours=1)  # the CLI reads the wall clock
    with session_scope(engine) as session:
        member = _member(session, "UA", "T1", "a")
        session.add(Pick(member_id=member, issue_id=issues[0], rank=1, created_at=recent))
    runner = CliRunner()
    result = runner.invoke(app, ["stats", "--team", "T1", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert sum(w["picks"] for w in payload["weeks"]) == 1 and payload["team"] == "T1"
    table = runner.invoke(app, ["stats", "--weeks", "2"])
    assert table.exit_code == 0 and "hit@3" in table.output and "all workspaces" in table.output
    assert runner.invoke(app, ["stats", "--team", "T9", "--json"]).exit_code == 0


def test_holds_are_counted_per_week_and_workspace(engine: Engine) -> None:
    from bot.store.models import Hold

    issues = seed_world(engine, repos=1)
    with session_scope(engine) as session:
        a = _member(session, "UA", "T1", "a")
        x = _member(session, "UX", "T2", "x")
        for member, team, issue in ((a, "T1", issues[0]), (x, "T2", issues[1])):
            session.add(
                Hold(
                    team_id=team,
                    issue_id=issue,
                    member_id=member,
                    held_at=MONDAY,
                    expires_at=MONDAY + timedelta(days=7),
                )
            )
    with Session(engine) as session:
        [week] = weekly_quality(session, "T1", MONDAY + timedelta(days=1), 1)
        [every] = weekly_quality(session, None, MONDAY + timedelta(days=1), 1)
    assert (week.holds, every.holds) == (1, 2)
