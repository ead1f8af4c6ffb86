"""Who runs global operations, and the stats each role may see.

Operators (`operators` in the config: Slack user ids, or `TEAM:USER` for one workspace) run
`crawl now` and `lists` and see every workspace's counts in `stats`. A workspace admin sees only
their own workspace's members, picks and feedback (the crawled catalog is shared by all).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.config.settings import Settings
from bot.core.availability import Policy, available_clause
from bot.schedule.crawl_lock import CrawlRunning
from bot.store.db import session_scope
from bot.store.models import CrawlRun, DigestRun, Feedback, Issue, Member, Pick, Repository

OPERATORS_ONLY = "Only the bot's operators can do that (`operators` in its configuration)."


def is_operator(settings: Settings, team_id: str, user_id: str) -> bool:
    """True when `user_id` (in `team_id`) is on the configured operator allow-list."""
    if not user_id:
        return False
    entries = {entry.strip() for entry in settings.operators}
    return user_id in entries or (bool(team_id) and f"{team_id}:{user_id}" in entries)


def crawl_busy_text(busy: CrawlRunning) -> str:
    """The answer to `crawl now` while another crawl runs."""
    if busy.since is None:
        return "A crawl is already running; I didn't start another."
    since = busy.since.astimezone(UTC)
    return f"A crawl is already running since {since:%Y-%m-%d %H:%M} UTC; I didn't start another."


def stats_text(engine: Engine, settings: Settings, now: datetime, team_id: str | None) -> str:
    """Counts (mrkdwn) for one workspace (`team_id`), or for all of them (None: operators)."""
    with session_scope(engine) as session:
        members_q = select(func.count()).select_from(Member)
        picks_q = select(func.count()).select_from(Pick)
        feedback_q = select(Feedback.kind, func.count())
        if team_id is not None:
            members_q = members_q.where(Member.team_id == team_id)
            picks_q = picks_q.join(Member, col(Pick.member_id) == col(Member.id)).where(
                Member.team_id == team_id
            )
            feedback_q = feedback_q.join(Member, col(Feedback.member_id) == col(Member.id)).where(
                Member.team_id == team_id
            )
        members = session.exec(members_q).one()
        picks = session.exec(picks_q).one()
        feedback = dict(session.exec(feedback_q.group_by(col(Feedback.kind))).all())
        repos = session.exec(select(func.count()).select_from(Repository)).one()
        open_issues = session.exec(
            select(func.count())
            .select_from(Issue)
            .join(Repository, col(Repository.id) == col(Issue.repository_id))
            .where(available_clause(Policy.at(settings, now)))
        ).one()
        crawl = session.exec(select(CrawlRun).order_by(col(CrawlRun.id).desc())).first()
        digest = session.exec(select(DigestRun).order_by(col(DigestRun.id).desc())).first()
    scope = "this workspace" if team_id is not None else "all workspaces"
    lines = [
        f"*Members ({scope}):* {members}",
        f"*Repositories:* {repos} · *available issues:* {open_issues}",
        f"*Picks shown:* {picks}",
        "*Feedback:* "
        + (", ".join(f"{k}: {v}" for k, v in sorted(feedback.items())) or "none yet"),
        f"*Last crawl:* {_run_line(crawl.started_at, crawl.status) if crawl else 'never'}",
        f"*Last digest:* {_run_line(digest.started_at, digest.status) if digest else 'never'}",
    ]
    return "\n".join(lines)


def _run_line(started: datetime, status: str) -> str:
    return f"{started.astimezone(UTC):%Y-%m-%d %H:%M} UTC, {status}"
