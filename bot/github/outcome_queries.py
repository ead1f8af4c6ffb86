"""GraphQL documents of outcome tracking: picked issues by node id, members' merged PRs.

Both are cheap: `nodes(ids:)` takes up to 100 issues per query (three small connections each:
comments, closing PRs, cross-references), and up to 100 members' newest merged PRs fit in one
`user` alias query (one connection each). Costs are in GitHub "requests" (points = /100).
"""

from __future__ import annotations

from bot.github.queries import RATE, literal

MAX_IDS = 100  # GitHub: "You may not provide more than 100 node ids"
MAX_USERS = 100
COMMENTS_LAST = 30
CLOSING_FIRST = 10
XREF_LAST = 25
MERGED_LAST = 20  # newest merged PRs per member per crawl

PR_FIELDS = (
    "id number title url state createdAt mergedAt author { login } repository { nameWithOwner }"
)
ISSUE_FIELDS = f"""
... on Issue {{
  id number state stateReason closedAt
  comments(last: {COMMENTS_LAST}) {{ nodes {{ author {{ login }} createdAt }} }}
  closedByPullRequestsReferences(first: {CLOSING_FIRST}, includeClosedPrs: true) {{
    nodes {{ {PR_FIELDS} }}
  }}
  timelineItems(last: {XREF_LAST}, itemTypes: [CROSS_REFERENCED_EVENT]) {{
    nodes {{
      ... on CrossReferencedEvent {{
        createdAt willCloseTarget source {{ ... on PullRequest {{ {PR_FIELDS} }} }}
      }}
    }}
  }}
}}"""
#: per issue: comments, closing PRs, timeline
ISSUE_REQUESTS = 3


def issues_query(node_ids: list[str]) -> tuple[str, int]:
    """(query, requests) for the outcome fields of up to `MAX_IDS` issues."""
    if len(node_ids) > MAX_IDS:
        raise ValueError(f"at most {MAX_IDS} node ids per query")
    ids = ", ".join(literal(i) for i in node_ids)
    query = f"query PickOutcomes {{\n nodes(ids: [{ids}]) {{ {ISSUE_FIELDS} }}\n {RATE}\n}}"
    return query, ISSUE_REQUESTS * len(node_ids)


def merged_prs_query(logins: list[str]) -> tuple[str, int]:
    """(query, requests) for the newest merged PRs of up to `MAX_USERS` logins (`u0`, `u1`, …)."""
    if len(logins) > MAX_USERS:
        raise ValueError(f"at most {MAX_USERS} users per query")
    parts = [
        f"u{i}: user(login: {literal(login)}) {{ login "
        f"pullRequests(states: [MERGED], last: {MERGED_LAST}) {{ nodes {{ {PR_FIELDS} }} }} }}"
        for i, login in enumerate(logins)
    ]
    return "query MergedPRs {\n" + "\n".join(parts) + f"\n {RATE}\n}}", len(logins)
