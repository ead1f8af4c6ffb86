"""Issue search as GitHub's advanced search evaluates it (the default since 2025-09-04).

A space between terms is AND; `OR`, `AND`, `NOT` and parentheses build nested queries;
`-qualifier:x` negates; `label:"a","b"` (a comma list) is OR. GitHub refuses (422) a query
longer than 256 characters, one with more than five AND/OR/NOT operators, and one naming a
repository that does not exist ("The listed users and repositories cannot be searched …").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.fakes.github.model import Issue, Repo

MAX_LENGTH = 256
MAX_OPERATORS = 5
OPERATORS = ("AND", "OR", "NOT")
UNSEARCHABLE = (
    "The listed users and repositories cannot be searched either because the resources do "
    "not exist or you do not have permission to view them."
)
_TOKEN = re.compile(r'\(|\)|(?:[^\s()"]+|"[^"]*")+')


class SearchRejected(ValueError):
    """The query is refused with 422 Validation Failed; `str()` is GitHub's message."""


@dataclass
class Node:
    """One node of the query tree: `and`/`or` (children), `not` (one child) or a `term`."""

    kind: str
    children: list[Node] = field(default_factory=list)
    key: str = ""  # term: qualifier name ("" for a bare word)
    values: list[str] = field(default_factory=list)  # term: lower-case values (OR-ed)

    def repos(self) -> list[str]:
        """Every repository named by a `repo:` term."""
        if self.kind == "term":
            return list(self.values) if self.key == "repo" else []
        return [name for child in self.children for name in child.repos()]

    def matches(self, repo: Repo, issue: Issue) -> bool:
        if self.kind == "and":
            return all(child.matches(repo, issue) for child in self.children)
        if self.kind == "or":
            return any(child.matches(repo, issue) for child in self.children)
        if self.kind == "not":
            return not self.children[0].matches(repo, issue)
        return _term_matches(self.key, self.values, repo, issue)


def parse_query(raw: str) -> Node:
    """The query tree of `raw`; raises SearchRejected like GitHub's 422."""
    if len(raw) > MAX_LENGTH:
        raise SearchRejected("The search is longer than 256 characters.")
    tokens = _TOKEN.findall(raw)
    operators = sum(1 for token in tokens if token in OPERATORS)
    if operators > MAX_OPERATORS:
        raise SearchRejected(
            f"The search contains {operators} AND, OR or NOT operators; at most "
            f"{MAX_OPERATORS} are allowed."
        )
    parser = _Parser(tokens)
    tree = parser.expression()
    if parser.peek() is not None:
        raise SearchRejected("The search has an unbalanced parenthesis.")
    return tree


class _Parser:
    """Recursive descent: or := and (OR and)*; and := unary ((AND)? unary)*."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expression(self) -> Node:
        parts = [self.conjunction()]
        while self.peek() == "OR":
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Node("or", parts)

    def conjunction(self) -> Node:
        parts: list[Node] = []
        while (token := self.peek()) is not None and token not in ("OR", ")"):
            if token == "AND":
                self.take()
                continue
            parts.append(self.unary())
        if not parts:
            raise SearchRejected("The search has an empty group or a dangling operator.")
        return parts[0] if len(parts) == 1 else Node("and", parts)

    def unary(self) -> Node:
        token = self.take()
        if token == "NOT":
            if self.peek() is None:
                raise SearchRejected("NOT needs a term after it.")
            return Node("not", [self.unary()])
        if token == "(":
            inner = self.expression()
            if self.peek() != ")":
                raise SearchRejected("The search has an unbalanced parenthesis.")
            self.take()
            return inner
        if token == ")":
            raise SearchRejected("The search has an unbalanced parenthesis.")
        return _term(token)


def _term(token: str) -> Node:
    negated = token.startswith("-") and ":" in token
    body = token[1:] if negated else token
    key, sep, value = body.partition(":")
    if not sep or key.startswith('"'):
        node = Node("term", key="", values=[body.strip('"').lower()])
    else:
        values = [v.strip('"').strip().lower() for v in re.findall(r'"[^"]*"|[^,]+', value)]
        node = Node("term", key=key.lower(), values=[v for v in values if v])
    return Node("not", [node]) if negated else node


def _state(issue: Issue, value: str) -> bool:
    checks: dict[str, Callable[[], bool]] = {
        "issue": lambda: not issue.is_pull_request,
        "pr": lambda: issue.is_pull_request,
        "pull-request": lambda: issue.is_pull_request,
        "open": lambda: issue.state == "open",
        "closed": lambda: issue.state == "closed",
        "locked": lambda: issue.locked,
        "unlocked": lambda: not issue.locked,
    }
    check = checks.get(value)
    return check() if check else False


def _term_matches(key: str, values: list[str], repo: Repo, issue: Issue) -> bool:
    if key == "repo":
        return repo.full_name.lower() in values
    if key == "label":
        names = {label.lower() for label in issue.labels}
        return any(value in names for value in values)
    if key in ("is", "state", "type"):
        return any(_state(issue, value) for value in values)
    if key == "no" and values == ["assignee"]:
        return not issue.assignees
    text = f"{issue.title} {issue.body}".lower()
    word = f"{key}:{values[0]}" if key else (values[0] if values else "")
    return word in text
