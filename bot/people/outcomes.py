"""Merged work per member: what people features (mentors, stats) read of outcome tracking.

Outcome tracking (issue 19) stores members' merged PRs (`MergedPR`) and the outcome of every
pick (`PickOutcome`). Both functions read those tables, and add what the crawl alone knows: a
closed issue with a merged linked PR that was assigned to or claimed by the member's GitHub
login (a PR counted by both is counted once, by repository and PR number).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlmodel import Session, col, select

from bot.core.vocabulary import PickOutcomeState
from bot.store.models import Issue, Member, MergedPR, Pick, PickOutcome


def _merged(linked_prs: list[dict[str, Any]] | None) -> bool:
    return any(str(pr.get("state", "")).upper() == "MERGED" for pr in linked_prs or [])


def _logins(issue: Issue) -> set[str]:
    names = {str(a).lower() for a in issue.assignees or []}
    if issue.claimed_by:
        names.add(issue.claimed_by.lower())
    return names


def _closed_merged(session: Session) -> list[Issue]:
    issues = session.exec(select(Issue).where(Issue.state == "closed")).all()
    return [issue for issue in issues if _merged(issue.linked_prs)]


def _members_by_login(session: Session, team_id: str) -> dict[str, int]:
    rows = session.exec(
        select(Member.github_login, Member.id).where(
            Member.team_id == team_id, col(Member.github_login).is_not(None)
        )
    ).all()
    return {str(login).lower(): int(member_id) for login, member_id in rows if member_id}


def _tracked_prs(session: Session, team_id: str) -> set[tuple[int, int, int]]:
    """{(member id, repository id, PR number)} of the workspace's tracked merged PRs."""
    rows = session.exec(
        select(MergedPR.member_id, MergedPR.repository_id, MergedPR.number).where(
            MergedPR.team_id == team_id
        )
    ).all()
    return {(int(m), int(r), int(n)) for m, r, n in rows}


def merged_pr_counts(session: Session, team_id: str) -> dict[tuple[int, int], int]:
    """{(member id, repository id): merged PRs} for the members of one workspace."""
    prs = _tracked_prs(session, team_id)
    by_login = _members_by_login(session, team_id)
    if by_login:
        for issue in _closed_merged(session):
            numbers = [
                int(pr.get("number") or 0)
                for pr in issue.linked_prs or []
                if str(pr.get("state", "")).upper() == "MERGED"
            ]
            for login in _logins(issue):
                member_id = by_login.get(login)
                if member_id is not None:
                    prs.add((member_id, issue.repository_id, numbers[0] if numbers else 0))
    counts: Counter[tuple[int, int]] = Counter((m, r) for m, r, _n in prs)
    return dict(counts)


def merged_picks(session: Session, team_id: str) -> set[tuple[int, int]]:
    """{(member id, issue id)} of picks of one workspace whose issue the member got merged."""
    tracked = session.exec(
        select(PickOutcome.member_id, PickOutcome.issue_id).where(
            PickOutcome.team_id == team_id,
            PickOutcome.state == PickOutcomeState.MERGED.value,
        )
    ).all()
    found = {(int(m), int(i)) for m, i in tracked}
    by_login = _members_by_login(session, team_id)
    if not by_login:
        return found
    merged = {}
    for issue in _closed_merged(session):
        assert issue.id is not None
        merged[issue.id] = _logins(issue)
    login_of = {member_id: login for login, member_id in by_login.items()}
    rows = session.exec(
        select(Pick.member_id, Pick.issue_id).where(
            col(Pick.member_id).in_(list(login_of)), col(Pick.issue_id).in_(list(merged))
        )
    ).all()
    return found | {(m, i) for m, i in rows if login_of.get(m) in merged.get(i, set())}
