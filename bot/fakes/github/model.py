"""The fake GitHub's world: plain dataclasses that tests build in a few lines and mutate freely.

Everything the fake serves (REST and GraphQL) is read from these objects at request time, so a
test changes the world (close an issue, add a claim comment) and the next request sees it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

EPOCH = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def node_id(kind: str, number: int) -> str:
    """A stable GraphQL node id in GitHub's opaque style."""
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


@dataclass
class Comment:
    """An issue comment."""

    author: str
    body: str
    created_at: datetime = EPOCH
    association: str = "NONE"  # GraphQL CommentAuthorAssociation


@dataclass
class LinkedPR:
    """A pull request that references an issue (closing keyword or a plain cross-reference)."""

    number: int
    state: str = "OPEN"  # OPEN | CLOSED | MERGED
    closes: bool = True  # True: "Fixes #n" (closedByPullRequestsReferences); False: mention only
    author: str = "contributor"
    created_at: datetime = EPOCH
    draft: bool = False
    association: str = "CONTRIBUTOR"  # the PR author's CommentAuthorAssociation
    title: str = ""
    merged_at: datetime | None = None  # set with state "MERGED" (GitHub's mergedAt)
    closed_at: datetime | None = None  # merged or closed


@dataclass
class Issue:
    """An issue (or, with `is_pull_request`, a pull request) of a repository."""

    number: int
    title: str
    body: str = ""
    labels: list[str] = field(default_factory=list)
    state: str = "open"  # open | closed
    state_reason: str | None = None  # completed | not_planned
    assignees: list[str] = field(default_factory=list)
    assigned_at: datetime | None = None
    comments: list[Comment] = field(default_factory=list)
    author: str = "reporter"
    author_association: str = "NONE"
    created_at: datetime = EPOCH
    updated_at: datetime = EPOCH
    closed_at: datetime | None = None
    locked: bool = False
    pinned: bool = False
    linked_prs: list[LinkedPR] = field(default_factory=list)
    reactions: int = 0
    is_pull_request: bool = False
    db_id: int = 0  # set by Repo.add_issue

    @property
    def node_id(self) -> str:
        return node_id("Issue", self.db_id)

    def touch(self, when: datetime) -> None:
        """Record a change at `when` (GitHub bumps updated_at on any edit, label or comment)."""
        self.updated_at = max(self.updated_at, when)


@dataclass
class Repo:
    """A repository with its labels and issues."""

    owner: str
    name: str
    description: str = ""
    language: str | None = None
    languages: dict[str, int] = field(default_factory=dict)  # language -> bytes
    topics: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    issues: dict[int, Issue] = field(default_factory=dict)
    archived: bool = False
    disabled: bool = False
    fork: bool = False
    stars: int = 0
    forks: int = 0
    license: str | None = "MIT"  # SPDX id
    contributing_path: str | None = "CONTRIBUTING.md"  # None: no CONTRIBUTING file
    created_at: datetime = EPOCH - timedelta(days=2000)
    updated_at: datetime = EPOCH
    pushed_at: datetime | None = EPOCH
    default_branch: str = "main"
    readme: str | None = None  # Markdown served by GET /repos/{o}/{r}/readme
    contributing: str | None = None  # CONTRIBUTING text (None: a short generic guide)
    code_of_conduct: str | None = None  # GitHub's code-of-conduct key, e.g. "contributor_covenant"
    contributors: int = 0  # mentionable users (GitHub's closest count of contributors)
    closed_prs: int = 0  # closed and merged pull requests
    db_id: int = 0  # set by World.add_repo
    pull_requests: list[LinkedPR] = field(default_factory=list)  # PRs that reference no issue

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def node_id(self) -> str:
        return node_id("Repository", self.db_id)

    def add_issue(self, title: str, *, number: int | None = None, **fields: object) -> Issue:
        """Add an issue (numbered after the highest existing one unless `number` is given)."""
        number = number or max(self.issues, default=0) + 1
        issue = Issue(number=number, title=title, **fields)  # type: ignore[arg-type]
        issue.db_id = self.db_id * 100_000 + number
        for label in issue.labels:
            if label.lower() not in {existing.lower() for existing in self.labels}:
                self.labels.append(label)
        self.issues[number] = issue
        return issue

    def pr_node_id(self, pr: LinkedPR) -> str:
        """The GraphQL node id of one of this repository's pull requests."""
        return node_id("PullRequest", self.db_id * 100_000 + pr.number)

    def all_prs(self) -> list[LinkedPR]:
        """Every pull request of the repository once (linked to issues or not), by number."""
        found = {pr.number: pr for pr in self.pull_requests}
        for issue in self.issues.values():
            for pr in issue.linked_prs:
                found.setdefault(pr.number, pr)
        return [found[number] for number in sorted(found)]

    def open_issues(self) -> list[Issue]:
        return [i for i in self.issues.values() if i.state == "open" and not i.is_pull_request]

    def files(self) -> dict[str, str]:
        """Text files at HEAD that the fake serves through `object(expression: "HEAD:path")`."""
        out = {}
        if self.contributing_path:
            out[self.contributing_path] = self.contributing or (
                f"# Contributing to {self.name}\n\nOpen a pull request against `main`.\n"
            )
        if self.readme:
            out["README.md"] = self.readme
        return out


@dataclass
class User:
    """A GitHub user; `repos` are the full names of public repositories they own."""

    login: str
    name: str | None = None
    repos: list[str] = field(default_factory=list)
    followers: int = 0
    pull_requests: int = 0
    issues: int = 0
    commits_last_year: int = 0
    contributed_to: int = 0  # repositories contributed to (commits, PRs)
    db_id: int = 0


@dataclass
class World:
    """All repositories and users the fake serves. `synthetic` marks generated demo data."""

    repos: dict[str, Repo] = field(default_factory=dict)  # key: lower-case full name
    users: dict[str, User] = field(default_factory=dict)  # key: lower-case login
    now: datetime = EPOCH
    synthetic: bool = True
    description: str = "synthetic test world"

    def add_repo(self, full_name: str, **fields: object) -> Repo:
        """Add a repository "owner/name" (and its owner as a user)."""
        owner, name = full_name.split("/", 1)
        repo = Repo(owner=owner, name=name, **fields)  # type: ignore[arg-type]
        repo.db_id = len(self.repos) + 1
        self.repos[full_name.lower()] = repo
        self.add_user(owner).repos.append(repo.full_name)
        return repo

    def add_user(self, login: str, **fields: object) -> User:
        """Return the user `login`, creating it when missing."""
        key = login.lower()
        if key not in self.users:
            user = User(login=login, **fields)  # type: ignore[arg-type]
            user.db_id = len(self.users) + 1
            self.users[key] = user
        return self.users[key]

    def repo(self, full_name: str) -> Repo | None:
        return self.repos.get(full_name.lower())

    def user(self, login: str) -> User | None:
        return self.users.get(login.lower())

    def prs_by(self, login: str) -> list[tuple[Repo, LinkedPR]]:
        """Every pull request `login` authored, oldest first (GitHub's default order)."""
        key = login.lower()
        found = [
            (repo, pr)
            for repo in self.repos.values()
            for pr in repo.all_prs()
            if pr.author.lower() == key
        ]
        return sorted(found, key=lambda pair: (pair[1].created_at, pair[0].db_id, pair[1].number))

    def node(self, global_id: str) -> tuple[str, Repo, Issue | LinkedPR] | None:
        """("Issue" | "PullRequest", repository, object) of a node id, None when unknown."""
        try:
            kind_number = base64.b64decode(global_id, validate=True).decode().split(":", 1)[1]
        except (ValueError, IndexError, UnicodeDecodeError):
            return None
        for kind in ("Issue", "PullRequest"):
            if kind_number.startswith(kind) and kind_number[len(kind) :].isdigit():
                number = int(kind_number[len(kind) :])
                repo = next((r for r in self.repos.values() if r.db_id == number // 100_000), None)
                if repo is None:
                    return None
                if kind == "Issue":
                    issue = repo.issues.get(number % 100_000)
                    return (kind, repo, issue) if issue and not issue.is_pull_request else None
                pr = next((p for p in repo.all_prs() if p.number == number % 100_000), None)
                return (kind, repo, pr) if pr else None
        return None
