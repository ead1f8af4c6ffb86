"""GraphQL endpoint of the fake GitHub, executed by graphql-core against `schema.graphql`.

Connections are resolved lazily from the world; the query's cost is computed the way GitHub
documents it: every connection asked for `first`/`last` N items costs one request per parent
item, the sum divided by 100 and rounded to the nearest whole number, minimum 1 point. As on
GitHub, `first`/`last` must be within 1-100 and one query may ask for at most 500,000 nodes.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    execute_sync,
    parse,
    validate,
    value_from_ast_untyped,
)

from bot.fakes.github.model import Comment, Issue, LinkedPR, Repo, User, World
from bot.fakes.github.rest import iso

MAX_NODES = 500_000
MAX_PAGE = 100
MAX_NODE_IDS = 100


class GitHubGraphQLError(Exception):
    """An error GitHub reports with a `type` (NOT_FOUND, RATE_LIMITED, …)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@cache
def schema() -> GraphQLSchema:
    """The fake's schema (a subset of GitHub's)."""
    return build_schema((Path(__file__).with_name("schema.graphql")).read_text())


# Cost ------------------------------------------------------------------------------------------


def query_cost(document: DocumentNode, variables: dict[str, Any]) -> tuple[int, int]:
    """(points, node count) of the first operation in `document`."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    requests = 0
    nodes = 0

    def walk(selection_set: SelectionSetNode | None, multiplier: int) -> None:
        nonlocal requests, nodes
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                args = {
                    a.name.value: value_from_ast_untyped(a.value, variables)
                    for a in selection.arguments or ()
                }
                bound = "first" if args.get("first") is not None else "last"
                page = args.get(bound)
                ids = args.get("ids") if selection.name.value == "nodes" else None
                if isinstance(ids, list):  # each node's connections are fetched once per node
                    walk(selection.selection_set, multiplier * max(1, len(ids)))
                elif isinstance(page, int):
                    if page > MAX_PAGE:
                        raise GitHubGraphQLError(
                            "EXCESSIVE_PAGINATION",
                            f"Requesting {page} records on the `{selection.name.value}` "
                            f"connection exceeds the `{bound}` limit of {MAX_PAGE} records.",
                        )
                    if page < 1:
                        raise GitHubGraphQLError(
                            "INVALID_PAGINATION",
                            f"`{bound}` on the `{selection.name.value}` connection must be "
                            f"within 1-{MAX_PAGE} (got {page}).",
                        )
                    requests += multiplier
                    nodes += multiplier * page
                    walk(selection.selection_set, multiplier * page)
                else:
                    if _selects_nodes(selection):
                        raise GitHubGraphQLError(
                            "MISSING_PAGINATION_BOUNDARIES",
                            f"You must provide a `first` or `last` value to properly paginate "
                            f"the `{selection.name.value}` connection.",
                        )
                    walk(selection.selection_set, multiplier)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set, multiplier)
            elif isinstance(selection, FragmentSpreadNode):
                walk(fragments[selection.name.value].selection_set, multiplier)

    walk(operation.selection_set, 1)
    if nodes > MAX_NODES:
        raise GitHubGraphQLError(
            "MAX_NODE_LIMIT_EXCEEDED",
            f"This query requests up to {nodes:,} possible nodes which exceeds the maximum "
            f"limit of {MAX_NODES:,}.",
        )
    return points_for(requests), nodes


def points_for(requests: int) -> int:
    """GitHub's points for `requests`: divided by 100, rounded to the nearest whole number
    (halves up, as GitHub's Ruby rounds), minimum 1."""
    return max(1, (requests + 50) // 100)


def _selects_nodes(field: FieldNode) -> bool:
    """True when a field without first/last asks for a connection's `nodes` or `edges`."""
    if field.selection_set is None:
        return False
    names = {sub.name.value for sub in field.selection_set.selections if isinstance(sub, FieldNode)}
    return bool(names & {"nodes", "edges"}) and field.name.value not in _NOT_CONNECTIONS


_NOT_CONNECTIONS = frozenset({"repository", "issue", "rateLimit", "user", "nodes"})


# Connections -----------------------------------------------------------------------------------


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _offset(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        return int(base64.b64decode(cursor).decode().rsplit(":", 1)[1])
    except (ValueError, IndexError):
        message = f"`{cursor}` is not a valid cursor"
        raise GitHubGraphQLError("INVALID_CURSOR_ARGUMENTS", message) from None


def connection(items: list[Any], args: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Slice `items` with first/after/last/before into a GitHub connection dict."""
    start, end = 0, len(items)
    after, before = _offset(args.get("after")), _offset(args.get("before"))
    if after is not None:
        start = after + 1
    if before is not None:
        end = min(end, before)
    first, last = args.get("first"), args.get("last")
    if first is not None:
        end = min(end, start + first)
    if last is not None:
        start = max(start, end - last)
    window = items[start:end]
    edges = [{"cursor": _cursor(start + i), **_edge(node)} for i, node in enumerate(window)]
    return {
        "nodes": [edge["node"] for edge in edges],
        "edges": edges,
        "totalCount": len(items),
        "pageInfo": {
            "hasNextPage": end < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": _cursor(start) if window else None,
            "endCursor": _cursor(end - 1) if window else None,
        },
        **extra,
    }


def _edge(node: Any) -> dict[str, Any]:
    if isinstance(node, tuple):  # (node, edge fields)
        return {"node": node[0], **node[1]}
    return {"node": node}


# Objects ---------------------------------------------------------------------------------------


def _actor(login: str | None) -> dict[str, Any] | None:
    if not login:
        return None
    return {"__typename": "User", "login": login, "url": f"https://github.com/{login}"}


def _pr(repo: Repo, pr: LinkedPR) -> dict[str, Any]:
    def closing(_info: Any, **args: Any) -> dict[str, Any]:
        closes = [
            issue_node(repo, issue)
            for issue in repo.issues.values()
            if pr.closes and any(linked is pr for linked in issue.linked_prs)
        ]
        return connection(closes, args)

    return {
        "__typename": "PullRequest",
        "id": repo.pr_node_id(pr),
        "number": pr.number,
        "title": pr.title or f"Pull request {pr.number}",
        "state": pr.state,
        "url": f"https://github.com/{repo.full_name}/pull/{pr.number}",
        "isDraft": pr.draft,
        "createdAt": iso(pr.created_at),
        "author": _actor(pr.author),
        "authorAssociation": pr.association,
        "merged": pr.state == "MERGED",
        "mergedAt": iso(pr.merged_at) if pr.state == "MERGED" else None,
        "closedAt": iso(pr.closed_at) if pr.state != "OPEN" else None,
        "repository": lambda _info, **_a: repo_node(repo),
        "closingIssuesReferences": closing,
    }


def _since(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


Resolver = Callable[..., Any]


def _assigned_events(repo: Repo, issue: Issue) -> list[tuple[datetime, dict[str, Any]]]:
    """One AssignedEvent per assignee, at the issue's assignment time."""
    when = issue.assigned_at or issue.created_at
    return [
        (
            when,
            {
                "__typename": "AssignedEvent",
                "createdAt": iso(when),
                "assignee": _actor(login),
                "actor": _actor(repo.owner),
            },
        )
        for login in issue.assignees
    ]


def _cross_reference_events(repo: Repo, issue: Issue) -> list[tuple[datetime, dict[str, Any]]]:
    """One CrossReferencedEvent per linked pull request, at its creation time."""
    return [
        (
            pr.created_at,
            {
                "__typename": "CrossReferencedEvent",
                "createdAt": iso(pr.created_at),
                "source": _pr(repo, pr),
                "willCloseTarget": pr.closes,
                "isCrossRepository": False,
            },
        )
        for pr in issue.linked_prs
    ]


def _timeline(repo: Repo, issue: Issue) -> Resolver:
    """The `timelineItems` resolver: the chosen event types, oldest first, from `since`."""

    def timeline(_info: Any, **args: Any) -> dict[str, Any]:
        events: list[tuple[datetime, dict[str, Any]]] = []
        types = set(args.get("itemTypes") or ["ASSIGNED_EVENT", "CROSS_REFERENCED_EVENT"])
        if "ASSIGNED_EVENT" in types:
            events += _assigned_events(repo, issue)
        if "CROSS_REFERENCED_EVENT" in types:
            events += _cross_reference_events(repo, issue)
        since = _since(args.get("since"))
        events.sort(key=lambda pair: pair[0])
        chosen = [event for when, event in events if since is None or when >= since]
        return connection(chosen, args, filteredCount=len(chosen), updatedAt=iso(issue.updated_at))

    return timeline


def _closed_by(repo: Repo, issue: Issue) -> Resolver:
    """The `closedByPullRequestsReferences` resolver (open PRs unless `includeClosedPrs`)."""

    def closed_by(_info: Any, **args: Any) -> dict[str, Any]:
        include_closed = args.get("includeClosedPrs", False)
        prs = [
            _pr(repo, pr)
            for pr in issue.linked_prs
            if pr.closes and (include_closed or pr.state == "OPEN")
        ]
        return connection(prs, args)

    return closed_by


def _comment(comment: Comment) -> dict[str, Any]:
    return {
        "author": _actor(comment.author),
        "authorAssociation": comment.association,
        "body": comment.body,
        "createdAt": iso(comment.created_at),
    }


def _issue_connections(repo: Repo, issue: Issue) -> dict[str, Resolver]:
    """The Issue object's connection fields."""
    return {
        "repository": lambda _info, **_a: repo_node(repo),
        "labels": lambda _info, **args: connection([{"name": n} for n in issue.labels], args),
        "assignees": lambda _info, **args: connection(
            [_actor(login) for login in issue.assignees], args
        ),
        "comments": lambda _info, **args: connection([_comment(c) for c in issue.comments], args),
        "reactions": lambda _info, **args: connection([None] * issue.reactions, args),
        "closedByPullRequestsReferences": _closed_by(repo, issue),
        "timelineItems": _timeline(repo, issue),
    }


def issue_node(repo: Repo, issue: Issue) -> dict[str, Any]:
    """The GraphQL Issue object."""
    return {
        "__typename": "Issue",
        "id": issue.node_id,
        "number": issue.number,
        "title": issue.title,
        "body": issue.body,
        "url": f"https://github.com/{repo.full_name}/issues/{issue.number}",
        "state": issue.state.upper(),
        "stateReason": issue.state_reason.upper() if issue.state_reason else None,
        "createdAt": iso(issue.created_at),
        "updatedAt": iso(issue.updated_at),
        "closedAt": iso(issue.closed_at),
        "locked": issue.locked,
        "isPinned": issue.pinned,
        "author": _actor(issue.author),
        "authorAssociation": issue.author_association,
        **_issue_connections(repo, issue),
    }


def _issue_matches(issue: Issue, args: dict[str, Any]) -> bool:
    """Whether `issue` passes the `issues` connection's states/labels/filterBy arguments."""
    filters = args.get("filterBy") or {}
    states = set(args.get("states") or filters.get("states") or ["OPEN", "CLOSED"])
    wanted = {x.lower() for x in (args.get("labels") or filters.get("labels") or [])}
    since = _since(filters.get("since"))
    return (
        not issue.is_pull_request
        and issue.state.upper() in states
        and (not wanted or bool(wanted & {x.lower() for x in issue.labels}))
        and (since is None or issue.updated_at >= since)
    )


def _issue_order_key(field: str) -> Callable[[Issue], tuple[Any, int]]:
    """The sort key of IssueOrder `field` (COMMENTS, UPDATED_AT or CREATED_AT), then number."""

    def key(issue: Issue) -> tuple[Any, int]:
        if field == "COMMENTS":
            return len(issue.comments), issue.number
        if field == "UPDATED_AT":
            return issue.updated_at, issue.number
        return issue.created_at, issue.number

    return key


def _repo_issues(repo: Repo) -> Resolver:
    """The `issues` resolver: filtered, then ordered by `orderBy` (default CREATED_AT ASC)."""

    def issues(_info: Any, **args: Any) -> dict[str, Any]:
        chosen = [issue for issue in repo.issues.values() if _issue_matches(issue, args)]
        order = args.get("orderBy") or {"field": "CREATED_AT", "direction": "ASC"}
        chosen.sort(key=_issue_order_key(order["field"]), reverse=order["direction"] == "DESC")
        return connection([issue_node(repo, issue) for issue in chosen], args)

    return issues


def _git_object(repo: Repo) -> Resolver:
    """The `object` resolver: a Blob by `oid` or by `expression` ("HEAD:path")."""

    def git_object(_info: Any, **args: Any) -> dict[str, Any] | None:
        files = repo.files()
        blobs = {blob_oid(text): text for text in files.values()}
        if args.get("oid"):
            text = blobs.get(args["oid"])
            return None if text is None else blob_node(text)
        expression = args.get("expression") or ""
        path = expression.split(":", 1)[1] if ":" in expression else ""
        # Git paths are case-sensitive, as on GitHub.
        return blob_node(files[path]) if path in files else None

    return git_object


def _single_issue(repo: Repo) -> Resolver:
    """The `issue(number:)` resolver (null for pull requests and unknown numbers)."""

    def single_issue(_info: Any, **args: Any) -> dict[str, Any] | None:
        issue = repo.issues.get(args["number"])
        return issue_node(repo, issue) if issue and not issue.is_pull_request else None

    return single_issue


def _license(repo: Repo) -> dict[str, Any] | None:
    if not repo.license:
        return None
    return {"key": repo.license.lower(), "name": f"{repo.license} License", "spdxId": repo.license}


def _code_of_conduct(repo: Repo) -> dict[str, Any] | None:
    if not repo.code_of_conduct:
        return None
    return {"key": repo.code_of_conduct, "name": repo.code_of_conduct, "url": None}


def _repo_connections(repo: Repo) -> dict[str, Resolver]:
    """The Repository object's connection and argument-taking fields."""
    languages = sorted(repo.languages.items(), key=lambda item: -item[1])
    return {
        "languages": lambda _info, **args: connection(
            [({"name": name}, {"size": size}) for name, size in languages],
            args,
            totalSize=sum(repo.languages.values()),
        ),
        "repositoryTopics": lambda _info, **args: connection(
            [{"topic": {"name": t}} for t in repo.topics], args
        ),
        "labels": lambda _info, **args: connection(
            [
                {"name": n}
                for n in repo.labels
                if not args.get("query") or args["query"].lower() in n.lower()
            ],
            args,
        ),
        "object": _git_object(repo),
        "mentionableUsers": lambda _info, **args: connection(
            [_actor(f"user{i}") for i in range(repo.contributors)], args
        ),
        "pullRequests": lambda _info, **args: connection([None] * repo.closed_prs, args),
        "issue": _single_issue(repo),
        "issues": _repo_issues(repo),
    }


def repo_node(repo: Repo) -> dict[str, Any]:
    """The GraphQL Repository object."""
    return {
        "__typename": "Repository",
        "id": repo.node_id,
        "name": repo.name,
        "nameWithOwner": repo.full_name,
        "owner": _actor(repo.owner),
        "description": repo.description or None,
        "url": f"https://github.com/{repo.full_name}",
        "isArchived": repo.archived,
        "isDisabled": repo.disabled,
        "isFork": repo.fork,
        "pushedAt": iso(repo.pushed_at),
        "updatedAt": iso(repo.updated_at),
        "stargazerCount": repo.stars,
        "forkCount": repo.forks,
        "primaryLanguage": {"name": repo.language} if repo.language else None,
        "licenseInfo": _license(repo),
        "codeOfConduct": _code_of_conduct(repo),
        **_repo_connections(repo),
    }


def blob_oid(text: str) -> str:
    """Git's blob id of `text` (SHA-1 of "blob <size>\\0<bytes>"), as GitHub reports it."""
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def blob_node(text: str) -> dict[str, Any]:
    """The GraphQL Blob object of a text file."""
    oid = blob_oid(text)
    size = len(text.encode())
    return {
        "__typename": "Blob",
        "id": f"B_{oid}",
        "oid": oid,
        "byteSize": size,
        "text": text,
        "isTruncated": False,
        "isBinary": False,
    }


def user_node(user: User, world: World | None = None) -> dict[str, Any]:
    """The GraphQL User object: counts only (the fake serves totalCount, not the items), except
    the pull requests the world holds for the user, served as the newest items."""
    counted = lambda count: lambda _info, **args: connection([None] * count, args)  # noqa: E731
    authored = world.prs_by(user.login) if world is not None else []

    def pull_requests(_info: Any, **args: Any) -> dict[str, Any]:
        states = set(args.get("states") or ["OPEN", "CLOSED", "MERGED"])
        real = [_pr(repo, pr) for repo, pr in authored if pr.state in states]
        older = [None] * max(0, user.pull_requests - len(authored))
        return connection([*older, *real], args)

    return {
        "__typename": "User",
        "login": user.login,
        "url": f"https://github.com/{user.login}",
        "followers": counted(user.followers),
        "pullRequests": pull_requests,
        "issues": counted(user.issues),
        "repositoriesContributedTo": counted(user.contributed_to),
        "contributionsCollection": lambda _info, **_a: {
            "totalCommitContributions": user.commits_last_year
        },
    }


# Execution -------------------------------------------------------------------------------------


class GraphQLEndpoint:
    """Parses, validates, prices and executes one query against the world."""

    def __init__(self, world: World) -> None:
        self.world = world

    def prepare(self, query: str, variables: dict[str, Any]) -> tuple[DocumentNode, int, int]:
        """Parse, validate and price a query; raises GraphQLError / GitHubGraphQLError."""
        document = parse(query)
        problems = validate(schema(), document)
        if problems:
            raise problems[0]
        points, nodes = query_cost(document, variables)
        return document, points, nodes

    def run(
        self,
        document: DocumentNode,
        variables: dict[str, Any],
        rate_limit: dict[str, Any],
    ) -> dict[str, Any]:
        """Execute and return GitHub's `{"data": …, "errors": […]}` envelope."""

        def repository(_root: Any, _info: Any, **args: Any) -> dict[str, Any]:
            repo = self.world.repo(f"{args['owner']}/{args['name']}")
            if repo is None:
                raise GitHubGraphQLError(
                    "NOT_FOUND",
                    f"Could not resolve to a Repository with the name "
                    f"'{args['owner']}/{args['name']}'.",
                )
            return repo_node(repo)

        def user(_info: Any, **args: Any) -> dict[str, Any]:
            found = self.world.user(args["login"])
            if found is None:  # GitHub: a bot, an organisation or a deleted account
                raise GitHubGraphQLError(
                    "NOT_FOUND", f"Could not resolve to a User with the login of '{args['login']}'."
                )
            return user_node(found, self.world)

        def nodes(_info: Any, **args: Any) -> list[Any]:
            ids = list(args["ids"])
            if len(ids) > MAX_NODE_IDS:
                raise GitHubGraphQLError(
                    "ARGUMENT_LIMIT",
                    f"You may not provide more than {MAX_NODE_IDS} node ids; "
                    f"you provided {len(ids)}.",
                )
            return [self._node(global_id) for global_id in ids]

        root: dict[str, Resolver] = {
            "repository": lambda info, **args: repository(None, info, **args),
            "user": user,
            "nodes": nodes,
            "rateLimit": lambda _info, **_args: rate_limit,
        }
        result = execute_sync(schema(), document, root_value=root, variable_values=variables)
        envelope: dict[str, Any] = {"data": result.data}
        if result.errors:
            envelope["errors"] = [format_error(e) for e in result.errors]
        return envelope

    def _node(self, global_id: str) -> Any:
        """An Issue or PullRequest by node id; unknown ids resolve to an error (the list keeps
        its place with null, as GitHub does)."""
        found = self.world.node(global_id)
        if found is None:
            return GitHubGraphQLError(
                "NOT_FOUND", f"Could not resolve to a node with the global id of '{global_id}'"
            )
        kind, repo, obj = found
        if kind == "Issue":
            assert isinstance(obj, Issue)
            return issue_node(repo, obj)
        assert isinstance(obj, LinkedPR)
        return _pr(repo, obj)


def format_error(err: GraphQLError | GitHubGraphQLError) -> dict[str, Any]:
    """One error in GitHub's shape (with a `type` when GitHub gives one)."""
    if isinstance(err, GitHubGraphQLError):
        return {"type": err.kind, "message": str(err)}
    data: dict[str, Any] = {"message": err.message}
    original = err.original_error
    if isinstance(original, GitHubGraphQLError):
        data["type"] = original.kind
        data["message"] = str(original)
    if err.path:
        data["path"] = list(err.path)
    if err.locations:
        data["locations"] = [{"line": loc.line, "column": loc.column} for loc in err.locations]
    if not isinstance(original, GitHubGraphQLError) and err.path is None:
        data.setdefault("extensions", {"code": "undefinedField"})
    return data
