"""The fake's issue search follows GitHub's advanced search: space = AND, explicit OR and
parentheses, 422 for unknown repositories and for queries over the documented limits."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.fakes.github import FakeGitHub, World
from bot.fakes.github.search import UNSEARCHABLE

GFI = 'is:issue is:open label:"good first issue","help wanted"'


def world() -> World:
    w = World()
    for name in ("acme/a", "acme/b", "acme/c"):
        repo = w.add_repo(name)
        repo.add_issue(f"{name} beginner", labels=["good first issue"])
        repo.add_issue(f"{name} helper", labels=["help wanted", "bug"])
        repo.add_issue(f"{name} bug", labels=["bug"])
    w.repo("acme/c").add_issue("closed one", labels=["good first issue"], state="closed")
    return w


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with FakeGitHub(world()) as fake, httpx.Client(base_url=fake.base_url) as client:
        yield client


def search(http: httpx.Client, q: str) -> httpx.Response:
    return http.get("/search/issues", params={"q": q, "advanced_search": "true"})


def titles(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {item["title"] for item in response.json()["items"]}


def test_spaces_between_repo_qualifiers_are_and(http: httpx.Client) -> None:
    # The pre-2025 shape: no issue lives in two repositories, so nothing matches.
    assert titles(search(http, f"{GFI} repo:acme/a repo:acme/b")) == set()


def test_explicit_or_group_unions_repositories(http: httpx.Client) -> None:
    found = titles(search(http, f"{GFI} (repo:acme/a OR repo:acme/b)"))
    assert found == {"acme/a beginner", "acme/a helper", "acme/b beginner", "acme/b helper"}


def test_label_comma_list_is_or_and_not_negates(http: httpx.Client) -> None:
    found = titles(search(http, 'repo:acme/a label:"good first issue","help wanted" NOT label:bug'))
    assert found == {"acme/a beginner"}
    assert titles(search(http, "repo:acme/c -label:bug is:closed")) == {"closed one"}


def test_nested_parentheses(http: httpx.Client) -> None:
    q = 'is:open ((repo:acme/a AND label:bug) OR (repo:acme/b label:"good first issue"))'
    assert titles(search(http, q)) == {"acme/a helper", "acme/a bug", "acme/b beginner"}


def test_unknown_repository_is_refused_like_github(http: httpx.Client) -> None:
    response = search(http, f"{GFI} (repo:acme/a OR repo:gone/away)")
    assert response.status_code == 422
    body = response.json()
    assert body["message"] == "Validation Failed"
    assert body["errors"] == [
        {"message": UNSEARCHABLE, "resource": "Search", "field": "q", "code": "invalid"}
    ]


def test_more_than_five_operators_is_refused(http: httpx.Client) -> None:
    names = [f"repo:acme/{x}" for x in "abcabca"]  # 7 terms, 6 ORs
    assert search(http, " OR ".join(names[:6])).status_code == 200  # 5 operators
    assert search(http, " OR ".join(names)).status_code == 422


def test_queries_over_256_characters_and_unbalanced_groups_are_refused(
    http: httpx.Client,
) -> None:
    assert search(http, "x" * 257).status_code == 422
    assert search(http, f"{GFI} (repo:acme/a OR repo:acme/b").status_code == 422
