"""Turn GitHub's answers (GraphQL nodes or REST JSON) into Repository and Issue column values,
including every availability signal the match stage filters on."""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from datetime import datetime, timedelta
from typing import Any

from bot.github.claims import CommentView, find_claim

MAINTAINER_ROLES = {"OWNER", "MEMBER", "COLLABORATOR"}
NEWCOMER_ROLES = {"FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "NONE"}
_META_TITLE = re.compile(
    r"^\s*(?:\[?(?:meta|tracking|tracker|epic|umbrella|roadmap)\]?\s*[:\-]|"
    r"(?:tracking|meta|umbrella) issue\b|good first issues? (?:list|tracker)\b)",
    re.IGNORECASE,
)


def parse_time(value: str | None) -> datetime | None:
    """GitHub's ISO timestamps ("…Z") as aware datetimes."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _nodes(connection: dict[str, Any] | None) -> list[Any]:
    return [n for n in ((connection or {}).get("nodes") or []) if n is not None]


# Repositories ----------------------------------------------------------------------------------


def repo_values(node: dict[str, Any], beginner_labels: list[str]) -> dict[str, Any]:
    """Repository columns from a phase-1 GraphQL node."""
    languages = {
        edge["node"]["name"]: edge["size"]
        for edge in ((node.get("languages") or {}).get("edges") or [])
        if edge and edge.get("node")
    }
    return {
        "node_id": node["id"],
        "description": node.get("description"),
        "archived": bool(node.get("isArchived")),
        "disabled": bool(node.get("isDisabled")),
        "pushed_at": parse_time(node.get("pushedAt")),
        "stars": node.get("stargazerCount") or 0,
        "forks": node.get("forkCount") or 0,
        "primary_language": (node.get("primaryLanguage") or {}).get("name"),
        "languages": languages,
        "topics": [n["topic"]["name"] for n in _nodes(node.get("repositoryTopics"))],
        "license": (node.get("licenseInfo") or {}).get("spdxId"),
        "has_contributing": any(node.get(key) for key in ("c1", "c2", "c3")),
        "beginner_labels": beginner_labels,
    }


def label_names(node: dict[str, Any]) -> list[str]:
    return [n["name"] for n in _nodes(node.get("labels"))]


def fingerprint(meta: dict[str, Any], labels: list[str], fp: dict[str, Any] | None) -> str:
    """A short hash of what the cheap change check returns for one repository.

    Any push, metadata edit, label added/removed, or change to an issue carrying one of the
    beginner labels (edit, comment, label, close: all bump the issue's updatedAt or the count)
    changes it.
    """
    latest = _nodes(fp)[0]["updatedAt"] if fp and _nodes(fp) else None
    parts = [
        meta.get("pushedAt"),
        meta.get("updatedAt"),
        bool(meta.get("isArchived")),
        bool(meta.get("isDisabled")),
        (meta.get("labels") or {}).get("totalCount"),
        sorted(labels),
        (fp or {}).get("totalCount"),
        latest,
    ]
    return hashlib.sha1(json.dumps(parts).encode()).hexdigest()[:20]


def newcomer_share(closed: dict[str, Any] | None) -> float | None:
    """Share of recently closed beginner issues whose closing PR came from a newcomer."""
    authors = [
        prs[0].get("authorAssociation")
        for issue in _nodes(closed)
        if (prs := _nodes(issue.get("closedByPullRequestsReferences")))
    ]
    if not authors:
        return None
    return round(sum(a in NEWCOMER_ROLES for a in authors) / len(authors), 3)


def first_maintainer_reply_hours(
    issue: dict[str, Any], *, first_comments: bool = False
) -> float | None:
    """Hours from opening to the first maintainer comment, when the comments at hand show it.

    With `first_comments` the nodes are the issue's FIRST comments (``comments(first: n)``), so
    a maintainer among them gave the first reply; otherwise they are the last ones and the reply
    is known only when all comments are at hand.
    """
    comments = issue.get("comments") or {}
    nodes = _nodes(comments)
    if not first_comments and comments.get("totalCount", 0) > len(nodes):
        return None  # we only have the last few comments: the first reply is unknown
    created = parse_time(issue.get("createdAt"))
    for comment in sorted(nodes, key=lambda c: c.get("createdAt") or ""):
        author = (comment.get("author") or {}).get("login")
        if comment.get("authorAssociation") in MAINTAINER_ROLES and author != _login(issue):
            replied = parse_time(comment.get("createdAt"))
            if created and replied:
                return max(0.0, (replied - created).total_seconds() / 3600)
    return None


def closed_reply_hours(closed: dict[str, Any] | None) -> list[float]:
    """Time to a maintainer's first reply on the sampled recently closed issues."""
    hours = (first_maintainer_reply_hours(issue, first_comments=True) for issue in _nodes(closed))
    return [h for h in hours if h is not None]


def close_hours_median(closed: dict[str, Any] | None) -> float | None:
    """Median hours from opening to closing over the sampled recently closed issues (clsisst)."""
    spans = []
    for issue in _nodes(closed):
        opened, shut = parse_time(issue.get("createdAt")), parse_time(issue.get("closedAt"))
        if opened and shut:
            spans.append(max(0.0, (shut - opened).total_seconds() / 3600))
    return median_or_none(spans)


def _count(node: dict[str, Any], key: str) -> int | None:
    value = (node.get(key) or {}).get("totalCount")
    return int(value) if isinstance(value, int) else None


def project_history(meta: dict[str, Any], closed: dict[str, Any] | None) -> dict[str, Any]:
    """Repository columns of the project's history: counts from phase 1, close time from the
    phase-2 sample of recently closed beginner issues."""
    return {
        "contributors_count": _count(meta, "mentionableUsers"),
        "closed_prs_count": _count(meta, "pullRequests"),
        "closed_issues_count": _count(meta, "closedIssues"),
        "close_hours_median": close_hours_median(closed),
    }


def blob_oids(meta: dict[str, Any], aliases: dict[str, str]) -> dict[str, str]:
    """path -> git blob id of the guide/README files phase 1 found (`aliases`: alias -> path)."""
    return {
        path: node["oid"]
        for alias, path in aliases.items()
        if isinstance(node := meta.get(alias), dict) and node.get("oid")
    }


def reporter_values(node: dict[str, Any] | None, login: str) -> dict[str, Any]:
    """Reporter columns from a ``user(login:)`` node (None: not a user, e.g. a bot)."""
    if not node:
        return {"login": login.lower(), "is_user": False}
    commits = (node.get("contributionsCollection") or {}).get("totalCommitContributions")
    return {
        "login": login.lower(),
        "is_user": True,
        "followers": _count(node, "followers"),
        "pull_requests": _count(node, "pullRequests"),
        "issues": _count(node, "issues"),
        "commits": commits if isinstance(commits, int) else None,
        "repositories": _count(node, "repositoriesContributedTo"),
    }


def median_or_none(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _login(node: dict[str, Any]) -> str | None:
    return (node.get("author") or {}).get("login")


# Issues ----------------------------------------------------------------------------------------


def issue_values(
    node: dict[str, Any], *, now: datetime, stale_claim_after: timedelta
) -> dict[str, Any]:
    """Issue columns (with availability signals) from a phase-2 GraphQL issue node."""
    assignees = [n["login"] for n in _nodes(node.get("assignees"))]
    timeline = _nodes(node.get("timelineItems"))
    assigned_at = None
    for event in timeline:
        if event.get("__typename") == "AssignedEvent":
            login = (event.get("assignee") or {}).get("login")
            if login in assignees:
                assigned_at = parse_time(event.get("createdAt"))  # latest wins (sorted by time)
    linked: dict[int, dict[str, Any]] = {}
    for pr in _nodes(node.get("closedByPullRequestsReferences")):
        linked[pr["number"]] = {
            "number": pr["number"],
            "state": pr["state"],
            "url": pr["url"],
            "closes": True,
            "author": _login(pr),
        }
    for event in timeline:
        source = event.get("source") or {}
        if event.get("__typename") == "CrossReferencedEvent" and source.get("number"):
            linked.setdefault(
                source["number"],
                {
                    "number": source["number"],
                    "state": source.get("state"),
                    "url": source.get("url"),
                    "closes": bool(event.get("willCloseTarget")),
                    "author": _login(source),
                },
            )
    comments = _nodes(node.get("comments"))
    views = [
        CommentView(_login(c), c.get("body") or "", parse_time(c.get("createdAt")))
        for c in comments
    ]
    claim = find_claim(views, now=now, stale_after=stale_claim_after)
    activity = [parse_time(node.get("updatedAt"))] + [v.created_at for v in views]
    title = node.get("title") or ""
    return {
        "node_id": node["id"],
        "number": node["number"],
        "title": title,
        "body": node.get("body"),
        "url": node["url"],
        "state": "open" if node.get("state", "OPEN") == "OPEN" else "closed",
        "is_pull_request": False,
        "locked": bool(node.get("locked")),
        "pinned": bool(node.get("isPinned")) or bool(_META_TITLE.search(title)),
        "labels": [n["name"] for n in _nodes(node.get("labels"))],
        "assignees": assignees,
        "assigned_at": assigned_at if assignees else None,
        "comments_count": (node.get("comments") or {}).get("totalCount", len(comments)),
        "reactions_count": (node.get("reactions") or {}).get("totalCount", 0),
        "author_login": _login(node),
        "author_association": node.get("authorAssociation"),
        "open_pr_count": sum(1 for pr in linked.values() if pr["state"] == "OPEN"),
        "linked_prs": sorted(linked.values(), key=lambda pr: pr["number"]),
        "claimed": bool(claim and claim.active),
        "claim_text": claim.text if claim else None,
        "claimed_at": claim.at if claim else None,
        "claimed_by": claim.author if claim else None,
        "created_at": parse_time(node.get("createdAt")),
        "updated_at": parse_time(node.get("updatedAt")),
        "last_activity_at": max((a for a in activity if a), default=None),
    }


def rest_issue_values(
    item: dict[str, Any],
    *,
    comments: list[dict[str, Any]] | None,
    timeline: list[dict[str, Any]] | None,
    now: datetime,
    stale_claim_after: timedelta,
) -> dict[str, Any]:
    """The same columns from REST JSON (search item + optional comments and timeline).

    With `comments`/`timeline` None (not fetched, e.g. out of budget) the claim and linked-PR
    columns are left out so stored values are kept.
    """
    assignees = [a["login"] for a in item.get("assignees") or []]
    values: dict[str, Any] = {
        "node_id": item["node_id"],
        "number": item["number"],
        "title": item.get("title") or "",
        "body": item.get("body"),
        "url": item.get("html_url") or item["url"],
        "state": item.get("state", "open"),
        "is_pull_request": "pull_request" in item,
        "locked": bool(item.get("locked")),
        "pinned": bool(_META_TITLE.search(item.get("title") or "")),
        "labels": [label["name"] for label in item.get("labels") or []],
        "assignees": assignees,
        "comments_count": item.get("comments", 0),
        "reactions_count": (item.get("reactions") or {}).get("total_count", 0),
        "author_login": (item.get("user") or {}).get("login"),
        "author_association": item.get("author_association"),
        "created_at": parse_time(item.get("created_at")),
        "updated_at": parse_time(item.get("updated_at")),
        "last_activity_at": parse_time(item.get("updated_at")),
    }
    if not assignees:
        values["assigned_at"] = None
    if comments is not None:
        views = [
            CommentView(
                (c.get("user") or {}).get("login"),
                c.get("body") or "",
                parse_time(c.get("created_at")),
            )
            for c in comments
        ]
        claim = find_claim(views, now=now, stale_after=stale_claim_after)
        values.update(
            claimed=bool(claim and claim.active),
            claim_text=claim.text if claim else None,
            claimed_at=claim.at if claim else None,
            claimed_by=claim.author if claim else None,
        )
    if timeline is not None:
        linked: dict[int, dict[str, Any]] = {}
        for event in timeline:
            if (
                event.get("event") == "assigned"
                and (event.get("assignee") or {}).get("login") in assignees
            ):
                values["assigned_at"] = parse_time(event.get("created_at"))
            issue = (event.get("source") or {}).get("issue") or {}
            if event.get("event") == "cross-referenced" and "pull_request" in issue:
                merged = (issue.get("pull_request") or {}).get("merged_at")
                state = "MERGED" if merged else issue.get("state", "open").upper()
                linked[issue["number"]] = {
                    "number": issue["number"],
                    "state": state,
                    "url": issue.get("html_url"),
                    "closes": False,
                    "author": (issue.get("user") or {}).get("login"),
                }
        values["linked_prs"] = sorted(linked.values(), key=lambda pr: pr["number"])
        values["open_pr_count"] = sum(1 for pr in linked.values() if pr["state"] == "OPEN")
    return values
