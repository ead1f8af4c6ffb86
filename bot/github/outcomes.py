"""Outcome tracking: what became of every pick, and members' merged PRs in catalog repositories.

After the crawl, for members with a GitHub login (set or inferred), one `nodes(ids:)` query per
≤100 picked issues reads the member's comments, the closing PRs (author, `mergedAt`) and the
timeline's cross-references, and moves each pick's `PickOutcome` forward:

    none -> commented -> pr_opened -> merged | closed_by_other

States never move back; each step keeps the time GitHub shows for it. A PR that only mentions
the issue counts as "pr_opened", never as "merged" (it does not resolve the pick). One
`user(login:)` alias per member (≤100 per query) reads their newest merged PRs; those in a
catalog repository become `MergedPR` rows, `picked` when the PR resolved one of their picks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.core.vocabulary import PickOutcomeState as State
from bot.github import outcome_queries as q
from bot.github.client import GitHubClient
from bot.store.db import session_scope
from bot.store.models import Issue, Member, MergedPR, Pick, PickOutcome, Repository
from bot.store.upsert import insert_for

log = structlog.get_logger(__name__)

RANK = {State.NONE: 0, State.COMMENTED: 1, State.PR_OPENED: 2, State.MERGED: 3}
RANK[State.CLOSED_BY_OTHER] = 3
TERMINAL = (State.MERGED.value, State.CLOSED_BY_OTHER.value)


def parse_time(value: Any) -> datetime | None:
    """A GitHub DateTime ("…Z") as an aware datetime."""
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


@dataclass(frozen=True)
class SeenPR:
    """A pull request as the outcome queries see it."""

    node_id: str
    number: int
    title: str
    url: str
    state: str  # OPEN | CLOSED | MERGED
    author: str  # lower-case login ("" for a deleted account)
    repo: str  # lower-case "owner/name"
    created_at: datetime | None
    merged_at: datetime | None
    closes: bool = False  # a closing reference to the issue (not a mere mention)


def seen_pr(node: dict[str, Any], *, closes: bool = False) -> SeenPR | None:
    """The PR of a query node (None when the node is not a PR)."""
    if not node or not node.get("id") or "number" not in node:
        return None
    return SeenPR(
        node_id=str(node["id"]),
        number=int(node["number"]),
        title=str(node.get("title") or ""),
        url=str(node.get("url") or ""),
        state=str(node.get("state") or "OPEN"),
        author=str((node.get("author") or {}).get("login") or "").lower(),
        repo=str((node.get("repository") or {}).get("nameWithOwner") or "").lower(),
        created_at=parse_time(node.get("createdAt")),
        merged_at=parse_time(node.get("mergedAt")),
        closes=closes,
    )


@dataclass
class IssueSeen:
    """One picked issue as the outcome query sees it."""

    closed_at: datetime | None
    comments: list[tuple[str, datetime]]  # (lower-case login, when)
    prs: list[SeenPR]  # closing PRs and cross-referencing PRs, once each


def issue_seen(node: dict[str, Any]) -> IssueSeen:
    """Parse one `nodes(ids:)` Issue."""
    prs: dict[str, SeenPR] = {}
    for pr_node in (node.get("closedByPullRequestsReferences") or {}).get("nodes") or []:
        pr = seen_pr(pr_node or {}, closes=True)
        if pr:
            prs[pr.node_id] = pr
    for event in (node.get("timelineItems") or {}).get("nodes") or []:
        pr = seen_pr((event or {}).get("source") or {}, closes=bool(event.get("willCloseTarget")))
        if pr and (pr.node_id not in prs or pr.closes):
            prs[pr.node_id] = pr
    comments = [
        (str((c.get("author") or {}).get("login") or "").lower(), when)
        for c in (node.get("comments") or {}).get("nodes") or []
        if c and (when := parse_time(c.get("createdAt")))
    ]
    closed = str(node.get("state") or "").upper() == "CLOSED"
    return IssueSeen(
        parse_time(node.get("closedAt")) if closed else None, comments, list(prs.values())
    )


@dataclass
class Step:
    """Where a pick's outcome stands after one observation."""

    state: State
    commented_at: datetime | None = None
    pr_opened_at: datetime | None = None
    merged_at: datetime | None = None
    closed_at: datetime | None = None
    pr: SeenPR | None = None


def observe(seen: IssueSeen, login: str, picked_at: datetime) -> Step:
    """The outcome of a pick of `login` that `seen` shows (pure; login lower-case)."""
    mine = [pr for pr in seen.prs if pr.author == login]
    merged = sorted(
        (pr for pr in mine if pr.closes and pr.state == "MERGED" and pr.merged_at),
        key=lambda pr: pr.merged_at or picked_at,
    )
    opened = sorted(mine, key=lambda pr: pr.created_at or picked_at)
    comments = sorted(when for who, when in seen.comments if who == login and when >= picked_at)
    step = Step(
        State.NONE,
        commented_at=comments[0] if comments else None,
        pr_opened_at=(opened[0].created_at or picked_at) if opened else None,
    )
    if merged:
        step.state, step.pr, step.merged_at = State.MERGED, merged[0], merged[0].merged_at
    elif seen.closed_at is not None:
        step.state, step.closed_at = State.CLOSED_BY_OTHER, seen.closed_at
    elif opened:
        step.state, step.pr = State.PR_OPENED, opened[0]
    elif comments:
        step.state = State.COMMENTED
    return step


def advance(row: PickOutcome, step: Step, now: datetime) -> bool:
    """Move `row` forward to `step` (never back; first times kept); True when it changed."""
    changed = False
    for name in ("commented_at", "pr_opened_at", "merged_at", "closed_at"):
        value = getattr(step, name)
        if value is not None and getattr(row, name) is None:
            setattr(row, name, value)
            changed = True
    if RANK[step.state] > RANK[State(row.state)]:
        row.state = step.state.value
        changed = True
    pr = step.pr
    if (
        pr
        and (row.pr_node_id is None or step.state == State.MERGED)
        and row.pr_node_id != pr.node_id
    ):
        row.pr_node_id, row.pr_url = pr.node_id, pr.url
        changed = True
    row.checked_at = now
    if changed:
        row.updated_at = now
    return changed


@dataclass
class OutcomeReport:
    """What one tracking pass did and what it cost."""

    members: int = 0
    issues: int = 0  # picked issues fetched
    skipped: int = 0  # picked issues the crawl saw unchanged (not fetched)
    queries: int = 0
    points: int = 0
    changed: int = 0
    merged_new: int = 0  # MergedPR rows first seen in this pass
    failures: list[str] = field(default_factory=list)


@dataclass
class _Tracked:
    pick_id: int
    team_id: str
    member_id: int
    issue_id: int
    node_id: str
    login: str
    picked_at: datetime
    changed: bool = True  # the issue may have changed since the pick's last check
    issue_updated_at: datetime | None = None
    issue_state: str | None = None


def _changed(outcome: PickOutcome | None, issue: Issue, now: datetime, sweep: timedelta) -> bool:
    """May GitHub show something new for this pick? The crawl just refreshed the issue row:
    a newer `updated_at` or another state says so; without either the pick is still looked
    at once per sweep interval (signals that do not touch the issue are not missed for long)."""
    if outcome is None or outcome.checked_at is None or outcome.seen_updated_at is None:
        return True
    if outcome.checked_at <= now - sweep or outcome.seen_state != issue.state:
        return True
    return issue.updated_at is None or issue.updated_at > outcome.seen_updated_at


def _tracked(session: Session, now: datetime, track_days: int, sweep: timedelta) -> list[_Tracked]:
    """Picks of members with a GitHub login that are recent enough and not settled yet."""
    since = now - timedelta(days=track_days)
    rows = session.exec(
        select(Pick, Member, Issue, PickOutcome)
        .join(Member, col(Member.id) == col(Pick.member_id))
        .join(Issue, col(Issue.id) == col(Pick.issue_id))
        .outerjoin(PickOutcome, col(PickOutcome.pick_id) == col(Pick.id))
        .where(col(Member.github_login).is_not(None), col(Pick.created_at) >= since)
    ).all()
    out = []
    for pick, member, issue, outcome in rows:
        if (outcome is not None and outcome.state in TERMINAL) or not member.github_login:
            continue
        assert pick.id is not None and member.id is not None
        out.append(
            _Tracked(
                pick.id,
                member.team_id,
                member.id,
                pick.issue_id,
                issue.node_id,
                member.github_login.lower(),
                pick.created_at,
                changed=_changed(outcome, issue, now, sweep),
                issue_updated_at=issue.updated_at,
                issue_state=issue.state,
            )
        )
    return out


def _query(client: GitHubClient, query: str, requests: int, report: OutcomeReport) -> Any:
    before = client.usage.points
    result = client.graphql(query, estimate=max(1, round(requests / 100)))
    report.queries += 1
    report.points += client.usage.points - before
    return result


def _outcome_row(session: Session, item: _Tracked, now: datetime) -> PickOutcome:
    session.execute(
        insert_for(session, PickOutcome)
        .values(
            team_id=item.team_id,
            pick_id=item.pick_id,
            member_id=item.member_id,
            issue_id=item.issue_id,
            state=State.NONE.value,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["pick_id"])
    )
    row = session.exec(select(PickOutcome).where(PickOutcome.pick_id == item.pick_id)).one()
    return row


def track_picks(
    engine: Engine,
    client: GitHubClient,
    now: datetime,
    track_days: int,
    report: OutcomeReport,
    sweep: timedelta = timedelta(days=7),
) -> None:
    """Read every tracked picked issue that may have changed (≤100 per query) and move the
    picks' outcomes."""
    with session_scope(engine) as session:
        items = _tracked(session, now, track_days, sweep)
    by_node: dict[str, list[_Tracked]] = defaultdict(list)
    for item in items:
        by_node[item.node_id].append(item)
    node_ids = sorted(n for n, picks in by_node.items() if any(p.changed for p in picks))
    report.issues = len(node_ids)
    report.skipped = len(by_node) - len(node_ids)
    for start in range(0, len(node_ids), q.MAX_IDS):
        batch = node_ids[start : start + q.MAX_IDS]
        query, requests = q.issues_query(batch)
        result = _query(client, query, requests, report)
        nodes = (result.data or {}).get("nodes") or []
        with session_scope(engine) as session:
            for node_id, node in zip(batch, nodes, strict=False):
                if not node:  # deleted or transferred: left as it was
                    report.failures.append(f"{node_id}: not found")
                    continue
                seen = issue_seen(node)
                for item in by_node[node_id]:
                    row = _outcome_row(session, item, now)
                    if advance(row, observe(seen, item.login, item.picked_at), now):
                        report.changed += 1
                    row.seen_updated_at, row.seen_state = item.issue_updated_at, item.issue_state
                    session.add(row)
                    if row.state == State.MERGED.value:
                        pr = observe(seen, item.login, item.picked_at).pr
                        if pr is not None:
                            report.merged_new += _record_merged(
                                session, item.team_id, item.member_id, pr, now, pick_id=item.pick_id
                            )


def _catalog_repos(session: Session) -> dict[str, int]:
    return {
        name.lower(): int(repo_id)
        for name, repo_id in session.exec(select(Repository.full_name, Repository.id)).all()
        if repo_id is not None
    }


def _record_merged(
    session: Session,
    team_id: str,
    member_id: int,
    pr: SeenPR,
    now: datetime,
    *,
    pick_id: int | None = None,
    repos: dict[str, int] | None = None,
) -> int:
    """Store a member's merged PR once (1 when it is new); marks it picked when `pick_id`."""
    if pr.merged_at is None:
        return 0
    repos = repos if repos is not None else _catalog_repos(session)
    repository_id = repos.get(pr.repo)
    if repository_id is None:  # not a catalog repository
        return 0
    inserted = session.execute(
        insert_for(session, MergedPR)
        .values(
            team_id=team_id,
            member_id=member_id,
            repository_id=repository_id,
            pr_node_id=pr.node_id,
            number=pr.number,
            title=pr.title[:1000],
            url=pr.url,
            merged_at=pr.merged_at,
            picked=pick_id is not None,
            pick_id=pick_id,
            seen_at=now,
        )
        .on_conflict_do_nothing(index_elements=["member_id", "pr_node_id"])
        .returning(MergedPR.__table__.c.id)  # type: ignore[attr-defined]
    ).scalar()
    if inserted is None and pick_id is not None:
        session.execute(
            update(MergedPR)
            .where(col(MergedPR.member_id) == member_id, col(MergedPR.pr_node_id) == pr.node_id)
            .values(picked=True, pick_id=pick_id)
        )
    return 0 if inserted is None else 1


def track_merged(
    engine: Engine, client: GitHubClient, now: datetime, report: OutcomeReport
) -> None:
    """Members' newest merged PRs (≤100 logins per query) in catalog repositories."""
    with session_scope(engine) as session:
        members = session.exec(
            select(Member.id, Member.team_id, Member.github_login).where(
                col(Member.github_login).is_not(None)
            )
        ).all()
    by_login: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for member_id, team_id, login in members:
        if login and member_id is not None:
            by_login[login.lower()].append((member_id, team_id))
    report.members = sum(len(v) for v in by_login.values())
    logins = sorted(by_login)
    for start in range(0, len(logins), q.MAX_USERS):
        batch = logins[start : start + q.MAX_USERS]
        query, requests = q.merged_prs_query(batch)
        result = _query(client, query, requests, report)
        with session_scope(engine) as session:
            repos = _catalog_repos(session)
            picked = {
                (m, node): p
                for m, node, p in session.exec(
                    select(
                        PickOutcome.member_id, PickOutcome.pr_node_id, PickOutcome.pick_id
                    ).where(PickOutcome.state == State.MERGED.value)
                ).all()
            }
            for i, login in enumerate(batch):
                user = (result.data or {}).get(f"u{i}")
                if not user:  # an organisation, a bot or a deleted account
                    continue
                for node in (user.get("pullRequests") or {}).get("nodes") or []:
                    pr = seen_pr(node or {})
                    if pr is None or pr.author not in ("", login):
                        continue
                    for member_id, team_id in by_login[login]:
                        report.merged_new += _record_merged(
                            session,
                            team_id,
                            member_id,
                            pr,
                            now,
                            pick_id=picked.get((member_id, pr.node_id)),
                            repos=repos,
                        )


def track_outcomes(
    engine: Engine,
    client: GitHubClient,
    *,
    now: datetime,
    track_days: int = 60,
    sweep_days: int = 7,
) -> OutcomeReport:
    """One tracking pass: picks first (they mark merged PRs as picked), then merged PRs."""
    report = OutcomeReport()
    track_picks(engine, client, now, track_days, report, timedelta(days=sweep_days))
    track_merged(engine, client, now, report)
    log.info(
        "outcomes.tracked",
        members=report.members,
        issues=report.issues,
        unchanged=report.skipped,
        changed=report.changed,
        merged_new=report.merged_new,
        points=report.points,
    )
    return report
