"""Merged work per member: the seam between people features and outcome tracking.

Until outcome tracking (issue 19) stores who merged what, both functions derive it from what
the crawl already knows: a closed issue with a merged linked PR that was assigned to or claimed
by the member's GitHub login. Swap the bodies for a query on the outcome table once it exists;
the signatures stay.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlmodel import Session, col, select

from bot.store.models import Issue, Member, Pick


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


def merged_pr_counts(session: Session, team_id: str) -> dict[tuple[int, int], int]:
    """{(member id, repository id): merged PRs} for the members of one workspace."""
    by_login = _members_by_login(session, team_id)
    counts: Counter[tuple[int, int]] = Counter()
    if not by_login:
        return {}
    for issue in _closed_merged(session):
        for login in _logins(issue):
            member_id = by_login.get(login)
            if member_id is not None:
                counts[(member_id, issue.repository_id)] += 1
    return dict(counts)


def merged_picks(session: Session, team_id: str) -> set[tuple[int, int]]:
    """{(member id, issue id)} of picks of one workspace whose issue the member got merged."""
    by_login = _members_by_login(session, team_id)
    if not by_login:
        return set()
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
    return {(m, i) for m, i in rows if login_of.get(m) in merged.get(i, set())}
