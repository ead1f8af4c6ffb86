"""REST resources of the fake GitHub: JSON builders and the request router.

Response shapes follow GitHub's REST API (checked against the OpenAPI subset and recorded
fixtures in tests/fakes). Every URL inside a response points back at the fake's base URL, so
PyGithub's lazy loading and pagination stay on 127.0.0.1.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from bot.fakes.github.model import Comment, Issue, Repo, World
from bot.fakes.github.search import UNSEARCHABLE, SearchRejected, parse_query

RAW_MEDIA_TYPE = "application/vnd.github.raw"


def iso(value: datetime | None) -> str | None:
    """GitHub's timestamp format: 2026-11-24T09:00:00Z."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


@dataclass
class Reply:
    """A REST reply before headers are added: status, JSON body or raw text, extra headers."""

    status: int
    body: Any = None
    raw: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    resource: str = "core"


def error(status: int, message: str, **extra: Any) -> Reply:
    return Reply(
        status, {"message": message, "documentation_url": "https://docs.github.com/rest", **extra}
    )


class RestApi:
    """Builds REST replies from the world for one base URL."""

    def __init__(self, world: World, base_url: str) -> None:
        self.world = world
        self.base = base_url.rstrip("/")
        self._routes: list[tuple[re.Pattern[str], Any]] = [
            (re.compile(r"^/?$"), self._root),
            (re.compile(r"^/rate_limit$"), None),  # answered by the server (needs the counters)
            (re.compile(r"^/search/issues$"), self._search_issues),
            (re.compile(r"^/users/([^/]+)$"), self._user),
            (re.compile(r"^/users/([^/]+)/repos$"), self._user_repos),
            (re.compile(r"^/orgs/([^/]+)/repos$"), self._user_repos),
            (re.compile(r"^/repos/([^/]+)/([^/]+)$"), self._repo),
            (re.compile(r"^/repos/([^/]+)/([^/]+)/languages$"), self._languages),
            (re.compile(r"^/repos/([^/]+)/([^/]+)/topics$"), self._topics),
            (re.compile(r"^/repos/([^/]+)/([^/]+)/labels$"), self._labels),
            (re.compile(r"^/repos/([^/]+)/([^/]+)/readme$"), self._readme),
            (re.compile(r"^/repos/([^/]+)/([^/]+)/issues$"), self._issues),
            (re.compile(r"^/repos/([^/]+)/([^/]+)/issues/(\d+)$"), self._issue),
            (re.compile(r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$"), self._comments),
            (re.compile(r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/timeline$"), self._timeline),
        ]

    # Routing -----------------------------------------------------------------------------------

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str]) -> Reply:
        """Answer a GET for `path` (without query string)."""
        for pattern, handler in self._routes:
            match = pattern.match(path)
            if match and handler is not None:
                return handler(*match.groups(), query=query, headers=headers)
        return error(404, "Not Found")

    # JSON builders -----------------------------------------------------------------------------

    def user_json(self, login: str) -> dict[str, Any]:
        user = self.world.add_user(login)
        url = f"{self.base}/users/{user.login}"
        return {
            "login": user.login,
            "id": user.db_id,
            "node_id": f"U_{user.db_id}",
            "avatar_url": f"https://avatars.example.invalid/u/{user.db_id}",
            "gravatar_id": "",
            "url": url,
            "html_url": f"https://github.com/{user.login}",
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": "User",
            "site_admin": False,
        }

    def repo_json(self, repo: Repo) -> dict[str, Any]:
        """A repository as GitHub's REST API returns it (the fields in GitHub's order)."""
        url = f"{self.base}/repos/{repo.full_name}"
        html = f"https://github.com/{repo.full_name}"
        open_count = len(repo.open_issues())
        return {
            "id": repo.db_id,
            "node_id": repo.node_id,
            "name": repo.name,
            "full_name": repo.full_name,
            "private": False,
            "owner": self.user_json(repo.owner),
            "html_url": html,
            "description": repo.description or None,
            "fork": repo.fork,
            "url": url,
            **_repo_urls(url, html, repo.full_name),
            "mirror_url": None,
            "homepage": None,
            "language": repo.language,
            "languages": None,
            "forks_count": repo.forks,
            "forks": repo.forks,
            "stargazers_count": repo.stars,
            "watchers_count": repo.stars,
            "watchers": repo.stars,
            "subscribers_count": max(1, repo.stars // 20),
            "network_count": repo.forks,
            "size": sum(repo.languages.values()) // 1024,
            "default_branch": repo.default_branch,
            "open_issues_count": open_count,
            "open_issues": open_count,
            "is_template": False,
            "topics": list(repo.topics),
            "has_issues": True,
            "has_projects": True,
            "has_wiki": False,
            "has_pages": False,
            "has_downloads": True,
            "has_discussions": False,
            "archived": repo.archived,
            "disabled": repo.disabled,
            "visibility": "public",
            "pushed_at": iso(repo.pushed_at),
            "created_at": iso(repo.created_at),
            "updated_at": iso(repo.updated_at),
            "allow_forking": True,
            "web_commit_signoff_required": False,
            "license": self.license_json(repo),
        }

    def license_json(self, repo: Repo) -> dict[str, Any] | None:
        """The repository's `license` object (None without a license)."""
        if not repo.license:
            return None
        return {
            "key": repo.license.lower(),
            "name": f"{repo.license} License",
            "spdx_id": repo.license,
            "url": f"{self.base}/licenses/{repo.license.lower()}",
            "node_id": f"L_{repo.license}",
        }

    def label_json(self, repo: Repo, name: str) -> dict[str, Any]:
        digest = hashlib.sha1(f"{repo.full_name}:{name}".encode()).hexdigest()
        return {
            "id": int(digest[:8], 16),
            "node_id": f"LA_{digest[:12]}",
            "url": f"{self.base}/repos/{repo.full_name}/labels/{name}",
            "name": name,
            "color": digest[:6],
            "default": name.lower() in ("good first issue", "help wanted", "bug"),
            "description": None,
        }

    def issue_json(self, repo: Repo, issue: Issue) -> dict[str, Any]:
        url = f"{self.base}/repos/{repo.full_name}/issues/{issue.number}"
        assignees = [self.user_json(login) for login in issue.assignees]
        data: dict[str, Any] = {
            "id": issue.db_id,
            "node_id": issue.node_id,
            "url": url,
            "repository_url": f"{self.base}/repos/{repo.full_name}",
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "timeline_url": f"{url}/timeline",
            "html_url": f"https://github.com/{repo.full_name}/"
            f"{'pull' if issue.is_pull_request else 'issues'}/{issue.number}",
            "number": issue.number,
            "state": issue.state,
            "state_reason": issue.state_reason,
            "title": issue.title,
            "body": issue.body,
            "user": self.user_json(issue.author),
            "labels": [self.label_json(repo, name) for name in issue.labels],
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "milestone": None,
            "locked": issue.locked,
            "active_lock_reason": "too heated" if issue.locked else None,
            "comments": len(issue.comments),
            "closed_at": iso(issue.closed_at),
            "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at),
            "author_association": issue.author_association,
            "performed_via_github_app": None,
            "reactions": {
                "url": f"{url}/reactions",
                "total_count": issue.reactions,
                "+1": issue.reactions,
                "-1": 0,
                "laugh": 0,
                "hooray": 0,
                "confused": 0,
                "heart": 0,
                "rocket": 0,
                "eyes": 0,
            },
        }
        if issue.is_pull_request:
            data["pull_request"] = {
                "url": f"{self.base}/repos/{repo.full_name}/pulls/{issue.number}",
                "html_url": data["html_url"],
            }
        return data

    def comment_json(
        self, repo: Repo, issue: Issue, index: int, comment: Comment
    ) -> dict[str, Any]:
        comment_id = issue.db_id * 1000 + index
        return {
            "id": comment_id,
            "node_id": f"IC_{comment_id}",
            "url": f"{self.base}/repos/{repo.full_name}/issues/comments/{comment_id}",
            "html_url": f"https://github.com/{repo.full_name}/issues/{issue.number}"
            f"#issuecomment-{comment_id}",
            "issue_url": f"{self.base}/repos/{repo.full_name}/issues/{issue.number}",
            "body": comment.body,
            "user": self.user_json(comment.author),
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.created_at),
            "author_association": comment.association,
        }

    # Handlers ----------------------------------------------------------------------------------

    def _root(self, **_: Any) -> Reply:
        return Reply(
            200,
            {
                "current_user_url": f"{self.base}/user",
                "repository_url": f"{self.base}/repos/{{owner}}/{{repo}}",
                "issue_search_url": f"{self.base}/search/issues?q={{query}}",
                "rate_limit_url": f"{self.base}/rate_limit",
            },
        )

    def _find_repo(self, owner: str, name: str) -> Repo | Reply:
        repo = self.world.repo(f"{owner}/{name}")
        return repo if repo is not None else error(404, "Not Found")

    def _repo(self, owner: str, name: str, **_: Any) -> Reply:
        repo = self._find_repo(owner, name)
        if isinstance(repo, Reply):
            return repo
        return Reply(200, self.repo_json(repo))

    def _languages(self, owner: str, name: str, **_: Any) -> Reply:
        repo = self._find_repo(owner, name)
        if isinstance(repo, Reply):
            return repo
        ordered = sorted(repo.languages.items(), key=lambda item: -item[1])
        return Reply(200, dict(ordered))

    def _topics(self, owner: str, name: str, **_: Any) -> Reply:
        repo = self._find_repo(owner, name)
        return repo if isinstance(repo, Reply) else Reply(200, {"names": list(repo.topics)})

    def _labels(self, owner: str, name: str, *, query: dict[str, str], **_: Any) -> Reply:
        repo = self._find_repo(owner, name)
        if isinstance(repo, Reply):
            return repo
        labels = [self.label_json(repo, label) for label in repo.labels]
        return self._paginate(f"/repos/{repo.full_name}/labels", query, labels)

    def _readme(self, owner: str, name: str, *, headers: dict[str, str], **_: Any) -> Reply:
        repo = self._find_repo(owner, name)
        if isinstance(repo, Reply):
            return repo
        if repo.readme is None:
            return error(404, "Not Found")
        if RAW_MEDIA_TYPE in headers.get("accept", ""):
            text_type = {"Content-Type": "text/plain; charset=utf-8"}
            return Reply(200, raw=repo.readme, headers=text_type)
        encoded = base64.encodebytes(repo.readme.encode()).decode()
        path = f"/repos/{repo.full_name}/contents/README.md"
        return Reply(
            200,
            {
                "type": "file",
                "encoding": "base64",
                "size": len(repo.readme.encode()),
                "name": "README.md",
                "path": "README.md",
                "content": encoded,
                "sha": hashlib.sha1(repo.readme.encode()).hexdigest(),
                "url": f"{self.base}{path}",
                "html_url": f"https://github.com/{repo.full_name}/blob/{repo.default_branch}/README.md",
                "download_url": f"{self.base}/raw/{repo.full_name}/README.md",
            },
        )

    def _issues(self, owner: str, name: str, *, query: dict[str, str], **_: Any) -> Reply:
        repo = self._find_repo(owner, name)
        if isinstance(repo, Reply):
            return repo
        state = query.get("state", "open")
        wanted = [x.strip().lower() for x in query.get("labels", "").split(",") if x.strip()]
        since = query.get("since")
        chosen = []
        for issue in repo.issues.values():
            if state != "all" and issue.state != state:
                continue
            names = {label.lower() for label in issue.labels}
            if any(label not in names for label in wanted):  # REST labels filter is AND
                continue
            if since and (iso(issue.updated_at) or "") < since:
                continue
            chosen.append(issue)
        sort = query.get("sort", "created")
        key = {"updated": "updated_at", "comments": "comments"}.get(sort, "created_at")
        chosen.sort(
            key=lambda i: len(i.comments) if key == "comments" else getattr(i, key),
            reverse=query.get("direction", "desc") == "desc",
        )
        items = [self.issue_json(repo, issue) for issue in chosen]
        return self._paginate(f"/repos/{repo.full_name}/issues", query, items)

    def _issue(self, owner: str, name: str, number: str, **_: Any) -> Reply:
        repo = self._find_repo(owner, name)
        if isinstance(repo, Reply):
            return repo
        issue = repo.issues.get(int(number))
        return Reply(200, self.issue_json(repo, issue)) if issue else error(404, "Not Found")

    def _comments(self, owner: str, name: str, number: str, *, query: dict[str, str], **_: Any):
        repo = self._find_repo(owner, name)
        if isinstance(repo, Reply):
            return repo
        issue = repo.issues.get(int(number))
        if issue is None:
            return error(404, "Not Found")
        items = [self.comment_json(repo, issue, i, c) for i, c in enumerate(issue.comments)]
        return self._paginate(f"/repos/{repo.full_name}/issues/{number}/comments", query, items)

    def _timeline(self, owner: str, name: str, number: str, *, query: dict[str, str], **_: Any):
        repo = self._find_repo(owner, name)
        if isinstance(repo, Reply):
            return repo
        issue = repo.issues.get(int(number))
        if issue is None:
            return error(404, "Not Found")
        events: list[dict[str, Any]] = []
        if issue.assignees:
            for login in issue.assignees:
                events.append(
                    {
                        "event": "assigned",
                        "created_at": iso(issue.assigned_at or issue.created_at),
                        "assignee": self.user_json(login),
                        "actor": self.user_json(repo.owner),
                    }
                )
        for pr in issue.linked_prs:
            events.append(
                {
                    "event": "cross-referenced",
                    "created_at": iso(pr.created_at),
                    "updated_at": iso(pr.created_at),
                    "actor": self.user_json(pr.author),
                    "source": {
                        "type": "issue",
                        "issue": {
                            "number": pr.number,
                            "state": "open" if pr.state == "OPEN" else "closed",
                            "html_url": f"https://github.com/{repo.full_name}/pull/{pr.number}",
                            "user": self.user_json(pr.author),
                            "pull_request": {
                                "url": f"{self.base}/repos/{repo.full_name}/pulls/{pr.number}",
                                "merged_at": iso(pr.created_at) if pr.state == "MERGED" else None,
                            },
                        },
                    },
                }
            )
        events.sort(key=lambda e: e["created_at"] or "")
        return self._paginate(f"/repos/{repo.full_name}/issues/{number}/timeline", query, events)

    def _user(self, login: str, **_: Any) -> Reply:
        user = self.world.user(login)
        if user is None:
            return error(404, "Not Found")
        data = self.user_json(user.login)
        data.update({"name": user.name, "public_repos": len(user.repos), "bio": None})
        return Reply(200, data)

    def _user_repos(self, login: str, *, query: dict[str, str], **_: Any) -> Reply:
        user = self.world.user(login)
        if user is None:
            return error(404, "Not Found")
        repos = [self.world.repo(name) for name in user.repos]
        items = [self.repo_json(repo) for repo in repos if repo is not None]
        return self._paginate(f"/users/{user.login}/repos", query, items)

    def _search_issues(self, *, query: dict[str, str], **_: Any) -> Reply:
        """GET /search/issues with advanced-search semantics (space = AND, OR, parentheses)."""
        try:
            tree = parse_query(query.get("q", ""))
        except SearchRejected as exc:
            return _validation_failed(str(exc))
        named = tree.repos()
        if any(self.world.repo(name) is None for name in named):
            return _validation_failed(UNSEARCHABLE)
        results: list[tuple[Repo, Issue]] = []
        for full_name in dict.fromkeys(named) or list(self.world.repos):
            repo = self.world.repo(full_name)
            if repo is None:
                continue
            for issue in repo.issues.values():
                if tree.matches(repo, issue):
                    results.append((repo, issue))
        results.sort(key=lambda pair: pair[1].updated_at, reverse=True)
        total = len(results)
        items = []
        for repo, issue in results[:1000]:
            item = self.issue_json(repo, issue)
            item["score"] = 1.0
            items.append(item)
        reply = self._paginate("/search/issues", query, items)
        reply.body = {
            "total_count": total,
            "incomplete_results": False,
            "search_type": "lexical",
            "items": reply.body,
        }
        reply.resource = "search"
        return reply

    # Pagination --------------------------------------------------------------------------------

    def _paginate(self, path: str, query: dict[str, str], items: list[Any]) -> Reply:
        """Slice `items` by `page`/`per_page` and add GitHub's `Link` header."""
        per_page = max(1, min(100, int(query.get("per_page", "30") or 30)))
        page = max(1, int(query.get("page", "1") or 1))
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []

        def link(target: int, rel: str) -> str:
            params = {**query, "page": str(target), "per_page": str(per_page)}
            return f'<{self.base}{path}?{urlencode(params)}>; rel="{rel}"'

        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        headers = {"Link": ", ".join(links)} if links else {}
        return Reply(200, chunk, headers=headers)


def _validation_failed(message: str) -> Reply:
    """GitHub's 422 body for a refused search (as recorded in real client logs)."""
    problem = {"message": message, "resource": "Search", "field": "q", "code": "invalid"}
    reply = error(422, "Validation Failed", errors=[problem])
    reply.body["documentation_url"] = "https://docs.github.com/v3/search/"
    reply.resource = "search"
    return reply


def split_target(target: str) -> tuple[str, dict[str, str]]:
    """Split a request target into path and a flat query dict."""
    parts = urlsplit(target)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    path = parts.path
    if path.startswith("/api/v3"):
        path = path[len("/api/v3") :]
    return path.rstrip("/") or "/", query


_TEMPLATED_URLS = (  # (field, URI template suffix) of a repository's `…_url` fields
    ("assignees_url", "{/user}"),
    ("branches_url", "{/branch}"),
    ("collaborators_url", "{/collaborator}"),
    ("comments_url", "{/number}"),
    ("commits_url", "{/sha}"),
    ("contents_url", "{+path}"),
    ("issue_comment_url", "{/number}"),
    ("issue_events_url", "{/number}"),
    ("issues_url", "{/number}"),
    ("labels_url", "{/name}"),
    ("milestones_url", "{/number}"),
    ("notifications_url", "{?since,all,participating}"),
    ("pulls_url", "{/number}"),
    ("releases_url", "{/id}"),
    ("statuses_url", "/{sha}"),
)
_PLAIN_URLS = (
    "contributors_url",
    "deployments_url",
    "downloads_url",
    "events_url",
    "forks_url",
    "hooks_url",
    "languages_url",
    "merges_url",
    "stargazers_url",
    "subscribers_url",
    "subscription_url",
    "tags_url",
    "teams_url",
)


def _repo_urls(url: str, html: str, full_name: str) -> dict[str, str]:
    """A repository's API, git and clone URLs, in GitHub's order."""
    return {
        **{name: f"{url}/{name.removesuffix('_url')}{suffix}" for name, suffix in _TEMPLATED_URLS},
        **{name: f"{url}/{name.removesuffix('_url')}" for name in _PLAIN_URLS},
        "archive_url": f"{url}/{{archive_format}}{{/ref}}",
        "blobs_url": f"{url}/git/blobs{{/sha}}",
        "compare_url": f"{url}/compare/{{base}}...{{head}}",
        "git_commits_url": f"{url}/git/commits{{/sha}}",
        "git_refs_url": f"{url}/git/refs{{/sha}}",
        "git_tags_url": f"{url}/git/tags{{/sha}}",
        "keys_url": f"{url}/keys{{/key_id}}",
        "trees_url": f"{url}/git/trees{{/sha}}",
        "git_url": f"git://github.com/{full_name}.git",
        "ssh_url": f"git@github.com:{full_name}.git",
        "clone_url": f"{html}.git",
        "svn_url": html,
    }
