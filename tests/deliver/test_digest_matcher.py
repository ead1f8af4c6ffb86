"""The digest with the real matcher (bot.match.recommend): picks fit, nothing repeats."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlmodel import Session

from bot.deliver.digest import run_digest
from bot.store.models import Pick, Repository
from tests.deliver.conftest import MONDAY_9_UTC, members_at, seed_issues, seed_members


def test_weekly_digests_with_the_real_matcher_never_repeat_an_issue(
    engine, settings, slack, sender
):
    seed_issues(engine, count=30)
    with Session(engine) as session:
        session.execute(update(Repository).values(pushed_at=MONDAY_9_UTC - timedelta(days=3)))
        session.commit()
    seed_members(engine, members_at(3, stack_text="python", languages={"python": 1.0}))
    rechecked: list[int] = []
    for week in range(2):
        now = MONDAY_9_UTC + timedelta(weeks=week)
        report = run_digest(
            engine, settings, sender, now=now, rechecker=lambda e, s, i, now: rechecked.extend(i)
        )
        assert report.sent == 3, report.summary()
    assert slack.posts_by_channel() == {"D00001": 2, "D00002": 2, "D00003": 2}
    assert rechecked  # week 2's picks were crawled a week earlier: re-checked before sending
    with Session(engine) as session:
        picks = session.execute(select(Pick.member_id, Pick.issue_id)).all()
    assert len(picks) == len(set(picks)) >= 6  # two weeks of picks, no issue twice to a member
