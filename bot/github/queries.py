"""GraphQL documents of the crawl: many repositories per query through aliases (`r0`, `r1`, …).

Each builder returns the query text and its estimated cost in GitHub "requests" (one per
connection per parent item; points = requests / 100, minimum 1), so batches can be packed
under a points ceiling before they are sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

COMMENTS_LAST = 5
TIMELINE_LAST = 10
CLOSED_SAMPLE = 10
CLOSED_COMMENTS = 3  # first comments of each sampled closed issue: time to a maintainer's reply

META_FIELDS = """
  id nameWithOwner description isArchived isDisabled isFork pushedAt updatedAt
  stargazerCount forkCount
  primaryLanguage { name }
  licenseInfo { spdxId }
  languages(first: 10, orderBy: {field: SIZE, direction: DESC}) { edges { size node { name } } }
  repositoryTopics(first: 20) { nodes { topic { name } } }
  labels(first: 100) { totalCount nodes { name } }
  c1: object(expression: "HEAD:CONTRIBUTING.md") { ... on Blob { oid } }
  c2: object(expression: "HEAD:.github/CONTRIBUTING.md") { ... on Blob { oid } }
  c3: object(expression: "HEAD:docs/CONTRIBUTING.md") { ... on Blob { oid } }
  readme: object(expression: "HEAD:README.md") { ... on Blob { oid } }
  codeOfConduct { key }
  mentionableUsers { totalCount }
  pullRequests(states: [CLOSED, MERGED]) { totalCount }
  closedIssues: issues(states: [CLOSED]) { totalCount }
"""
#: languages, topics, labels, plus (counted conservatively: GitHub documents the cost of paged
#: connections only) one each for the three count-only connections.
META_REQUESTS = 6
#: Aliases of the files whose text the rules are read from, and their paths.
BLOB_PATHS = {
    "c1": "CONTRIBUTING.md",
    "c2": ".github/CONTRIBUTING.md",
    "c3": "docs/CONTRIBUTING.md",
    "readme": "README.md",
}

ISSUE_FRAGMENT = f"""
fragment IssueFields on Issue {{
  id number title body url state createdAt updatedAt locked isPinned authorAssociation
  author {{ login }}
  reactions {{ totalCount }}
  labels(first: 20) {{ nodes {{ name }} }}
  assignees(first: 5) {{ nodes {{ login }} }}
  comments(last: {COMMENTS_LAST}) {{
    totalCount nodes {{ author {{ login }} authorAssociation body createdAt }}
  }}
  closedByPullRequestsReferences(first: 5, includeClosedPrs: false) {{
    nodes {{ number state url author {{ login }} }}
  }}
  timelineItems(last: {TIMELINE_LAST}, itemTypes: [CROSS_REFERENCED_EVENT, ASSIGNED_EVENT]) {{
    nodes {{
      __typename
      ... on CrossReferencedEvent {{
        createdAt willCloseTarget
        source {{ __typename ... on PullRequest {{ number state url author {{ login }} }} }}
      }}
      ... on AssignedEvent {{ createdAt assignee {{ __typename ... on User {{ login }} }} }}
    }}
  }}
}}
"""
ISSUE_REQUESTS = 5  # labels, assignees, comments, closedBy, timeline per issue

RATE = "rateLimit { cost remaining limit resetAt }"


def points_for(requests: int) -> int:
    """GitHub's points for a query of `requests`: / 100 rounded to the nearest whole number
    (halves up), minimum 1."""
    return max(1, (requests + 50) // 100)


def literal(value: str) -> str:
    """A GraphQL string literal (JSON escaping is valid GraphQL escaping)."""
    return json.dumps(value)


def _labels(labels: list[str]) -> str:
    return "[" + ", ".join(literal(label) for label in labels) + "]"


def _repo(alias: str, full_name: str) -> str:
    owner, name = full_name.split("/", 1)
    return f"{alias}: repository(owner: {literal(owner)}, name: {literal(name)})"


def _fp(labels: list[str]) -> str:
    return (
        f"fp: issues(first: 1, labels: {_labels(labels)}, "
        "orderBy: {field: UPDATED_AT, direction: DESC}) { totalCount nodes { updatedAt } }"
    )


def meta_query(repos: list[str]) -> str:
    """Phase 1: metadata and label names of each repository."""
    parts = [f"{_repo(f'r{i}', name)} {{{META_FIELDS}}}" for i, name in enumerate(repos)]
    return "query Meta {\n" + "\n".join(parts) + f"\n{RATE}\n}}"


def meta_cost(count: int) -> int:
    return count * META_REQUESTS


@dataclass(frozen=True)
class IssuePage:
    """One repository's next page of beginner issues."""

    full_name: str
    labels: list[str]
    after: str | None = None

    @property
    def first_page(self) -> bool:
        return self.after is None


def issues_query(pages: list[IssuePage], per_page: int) -> str:
    """Phase 2: a page of open beginner issues for each repository (plus, on its first page,
    the change fingerprint and a sample of recently closed beginner issues)."""
    parts = []
    for i, page in enumerate(pages):
        after = f", after: {literal(page.after)}" if page.after else ""
        body = (
            f"issues(first: {per_page}{after}, labels: {_labels(page.labels)}, states: [OPEN], "
            "orderBy: {field: CREATED_AT, direction: ASC}) "
            "{ totalCount pageInfo { hasNextPage endCursor } nodes { ...IssueFields } }"
        )
        if page.first_page:
            body += (
                f"\n  {_fp(page.labels)}"
                f"\n  closed: issues(first: {CLOSED_SAMPLE}, labels: {_labels(page.labels)}, "
                "states: [CLOSED], orderBy: {field: UPDATED_AT, direction: DESC}) "
                "{ nodes { createdAt closedAt author { login } closedByPullRequestsReferences("
                "first: 1, includeClosedPrs: true) { nodes { authorAssociation } } "
                f"comments(first: {CLOSED_COMMENTS}) {{ totalCount nodes {{ author {{ login }} "
                "authorAssociation createdAt } } } }"
            )
        parts.append(f"{_repo(f'r{i}', page.full_name)} {{\n  {body}\n}}")
    return "query Issues {\n" + "\n".join(parts) + f"\n{RATE}\n}}\n{ISSUE_FRAGMENT}"


def issues_cost(page: IssuePage, per_page: int) -> int:
    cost = 1 + per_page * ISSUE_REQUESTS
    if page.first_page:
        cost += 1 + 1 + 2 * CLOSED_SAMPLE  # fingerprint, sample, its PRs and comments
    return cost


def fingerprint_query(repos: list[tuple[str, list[str]]]) -> str:
    """Re-crawl check: the few fields whose change means "crawl this repository again"."""
    parts = []
    for i, (full_name, labels) in enumerate(repos):
        fp = _fp(labels) if labels else ""
        parts.append(
            f"{_repo(f'r{i}', full_name)} {{ pushedAt updatedAt isArchived isDisabled "
            f"labels(first: 1) {{ totalCount }} {fp} }}"
        )
    return "query Changes {\n" + "\n".join(parts) + f"\n{RATE}\n}}"


def fingerprint_cost(labels: list[str]) -> int:
    return 2 if labels else 1


def recheck_query(issues: list[tuple[str, list[int]]]) -> str:
    """State and labels of issues that left the beginner-label query (closed? unlabelled?)."""
    parts = []
    for i, (full_name, numbers) in enumerate(issues):
        inner = " ".join(
            f"i{n}: issue(number: {n}) {{ number state stateReason updatedAt "
            f"labels(first: 20) {{ nodes {{ name }} }} repository {{ nameWithOwner }} }}"
            for n in numbers
        )
        parts.append(f"{_repo(f'r{i}', full_name)} {{ {inner} }}")
    return "query Recheck {\n" + "\n".join(parts) + f"\n{RATE}\n}}"


def blobs_query(repos: list[tuple[str, list[str]]]) -> str:
    """Text of files by blob id (``object(oid:)``), for the files that changed since the last
    crawl. Blobs are objects, not connections: a batch costs GitHub's minimum of one point."""
    parts = []
    for i, (full_name, oids) in enumerate(repos):
        inner = " ".join(
            f"b{j}: object(oid: {literal(oid)}) {{ ... on Blob {{ oid text isTruncated }} }}"
            for j, oid in enumerate(oids)
        )
        parts.append(f"{_repo(f'r{i}', full_name)} {{ {inner} }}")
    return "query Blobs {\n" + "\n".join(parts) + f"\n{RATE}\n}}"


#: Per reporter: followers, pullRequests, issues, repositoriesContributedTo (count-only
#: connections, counted conservatively as one request each).
REPORTER_REQUESTS = 4
REPORTER_FIELDS = (
    "login followers { totalCount } pullRequests { totalCount } issues { totalCount } "
    "repositoriesContributedTo(contributionTypes: [COMMIT, PULL_REQUEST]) { totalCount } "
    "contributionsCollection { totalCommitContributions }"
)


def reporters_query(logins: list[str]) -> str:
    """Experience of issue authors on all of GitHub, many users per query (``u0``, ``u1``, …)."""
    parts = [
        f"u{i}: user(login: {literal(login)}) {{ {REPORTER_FIELDS} }}"
        for i, login in enumerate(logins)
    ]
    return "query Reporters {\n" + "\n".join(parts) + f"\n{RATE}\n}}"
