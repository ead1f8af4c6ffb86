"""The fake GitHub speaks GitHub's wire formats: shapes checked against the recorded OpenAPI
subset, octokit fixtures and GraphQL schema; counters, rate limits, ETags and faults."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import github
import httpx
import pytest
from graphql import GraphQLSchema, build_ast_schema, parse, validate

from bot.fakes.github import Comment, FakeGitHub, LinkedPR, World
from bot.fakes.github.graphql_api import schema as fake_schema
from bot.fakes.github.world import demo_world
from bot.github import queries
from tests.fakes.openapi_check import problems, response_schema

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github-api"


@cache
def github_schema() -> GraphQLSchema:
    """GitHub's real public schema (recorded SDL; it repeats two fields, so skip SDL checks)."""
    document = parse((FIXTURES / "graphql" / "schema.graphql").read_text())
    return build_ast_schema(document, assume_valid_sdl=True, assume_valid=True)


def recorded(scenario: str) -> list[dict]:
    path = FIXTURES / "octokit-fixtures" / scenario / "normalized-fixture.json"
    return [r for r in json.loads(path.read_text()) if r["method"] == "get"]


def small_world() -> World:
    world = World()
    repo = world.add_repo(
        "acme/raftdb",
        language="Go",
        languages={"Go": 90_000, "Shell": 1_000},
        topics=["raft", "database"],
        labels=["bug"],
        stars=1200,
    )
    for n in range(1, 8):
        repo.add_issue(f"Beginner task {n}", labels=["good first issue"])
    repo.issues[1].comments.append(Comment("newbie", "Can I take this?"))
    repo.issues[2].linked_prs.append(LinkedPR(99))
    repo.issues[3].assignees = ["someone"]
    repo.readme = "# acme\n\n- [raftdb](https://github.com/acme/raftdb) (Go) - demo\n"
    world.add_user("dev-ann").repos.append("acme/raftdb")
    return world


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(small_world()) as server:
        yield server


@pytest.fixture
def http(fake: FakeGitHub) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.base_url, headers={"Authorization": "token t"}) as client:
        yield client


# REST shapes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "path"),
    [
        ("/repos/{owner}/{repo}", "/repos/acme/raftdb"),
        ("/repos/{owner}/{repo}/issues", "/repos/acme/raftdb/issues?state=all"),
        ("/search/issues", "/search/issues?q=is:issue+repo:acme/raftdb"),
        ("/rate_limit", "/rate_limit"),
        ("/users/{username}/repos", "/users/dev-ann/repos"),
        ("/orgs/{org}/repos", "/orgs/acme/repos"),
        ("/repos/{owner}/{repo}/languages", "/repos/acme/raftdb/languages"),
    ],
)
def test_rest_responses_match_githubs_openapi_description(
    http: httpx.Client, template: str, path: str
) -> None:
    response = http.get(path)
    assert response.status_code == 200
    assert problems(response.json(), response_schema(template)) == []


def test_recorded_github_fields_are_all_present(http: httpx.Client) -> None:
    (repo_record,) = recorded("get-repository")[:1]
    ours = http.get("/repos/acme/raftdb").json()
    server_only = {
        "permissions",
        "organization",
        "allow_auto_merge",
        "allow_merge_commit",
        "allow_rebase_merge",
        "allow_squash_merge",
        "allow_update_branch",
        "delete_branch_on_merge",
        "use_squash_pr_title_as_default",
        "temp_clone_token",
    }
    assert set(repo_record["response"]) - set(ours) <= server_only
    issue_record = recorded("paginate-issues")[0]["response"][0]
    our_issue = http.get("/repos/acme/raftdb/issues").json()[0]
    assert set(issue_record) <= set(our_issue)
    search_record = recorded("search-issues")[0]["response"]
    our_search = http.get("/search/issues", params={"q": "beginner"}).json()
    assert set(search_record) <= set(our_search)
    assert set(search_record["items"][0]) <= set(our_search["items"][0])


def test_rate_limit_headers_like_github(http: httpx.Client) -> None:
    names = {h for h in recorded("get-repository")[0]["headers"] if h.startswith("x-ratelimit")}
    response = http.get("/repos/acme/raftdb")
    assert names <= {h.lower() for h in response.headers}
    assert response.headers["X-RateLimit-Limit"] == "5000"
    assert int(response.headers["X-RateLimit-Remaining"]) == 4999
    assert int(response.headers["X-RateLimit-Reset"]) > time.time()


def test_pagination_uses_link_headers(http: httpx.Client) -> None:
    first = http.get("/repos/acme/raftdb/issues", params={"per_page": 3})
    assert len(first.json()) == 3
    assert 'rel="next"' in first.headers["Link"] and 'rel="last"' in first.headers["Link"]
    assert first.headers["Link"].startswith(f"<{http.base_url}")


def test_rest_labels_filter_is_and_search_label_list_is_or(http: httpx.Client) -> None:
    both = http.get("/repos/acme/raftdb/issues", params={"labels": "good first issue,bug"})
    assert both.json() == []
    query = 'is:issue is:open label:"bug","good first issue" repo:acme/raftdb'
    found = http.get("/search/issues", params={"q": query}).json()
    assert found["total_count"] == 7


def test_search_refuses_queries_over_256_characters(http: httpx.Client) -> None:
    response = http.get("/search/issues", params={"q": "x" * 257})
    assert response.status_code == 422


def test_etag_and_304_cost_nothing(fake: FakeGitHub, http: httpx.Client) -> None:
    first = http.get("/repos/acme/raftdb")
    again = http.get("/repos/acme/raftdb", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["X-RateLimit-Remaining"] == first.headers["X-RateLimit-Remaining"]
    fake.world.repo("acme/raftdb").stars += 1
    changed = http.get("/repos/acme/raftdb", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert fake.stats.not_modified == 1


def test_readme_raw_and_json_with_etag(http: httpx.Client) -> None:
    raw = http.get("/repos/acme/raftdb/readme", headers={"Accept": "application/vnd.github.raw"})
    assert raw.text.startswith("# acme")
    assert raw.headers["content-type"].startswith("text/plain")
    cached = http.get(
        "/repos/acme/raftdb/readme",
        headers={"Accept": "application/vnd.github.raw", "If-None-Match": raw.headers["ETag"]},
    )
    assert cached.status_code == 304
    as_json = http.get("/repos/acme/raftdb/readme").json()
    assert base64.b64decode(as_json["content"]).decode() == raw.text


def test_anonymous_budget_is_60_and_then_403(fake: FakeGitHub) -> None:
    fake.anonymous_limits["core"] = 2
    with httpx.Client(base_url=fake.base_url) as anonymous:
        assert anonymous.get("/repos/acme/raftdb").headers["X-RateLimit-Limit"] == "2"
        anonymous.get("/repos/acme/raftdb")
        refused = anonymous.get("/repos/acme/raftdb")
    assert refused.status_code == 403
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert "rate limit" in refused.json()["message"]


def test_wrong_token_is_401() -> None:
    with FakeGitHub(small_world(), token="right") as fake:
        wrong = {"Authorization": "token wrong"}
        response = httpx.get(f"{fake.base_url}/repos/acme/raftdb", headers=wrong)
    assert response.status_code == 401


# PyGithub ---------------------------------------------------------------------------------------


def test_pygithub_works_unchanged_against_the_fake(fake: FakeGitHub) -> None:
    gh = github.Github(
        auth=github.Auth.Token("t"), base_url=fake.base_url, seconds_between_requests=0
    )
    user = gh.get_user("dev-ann")
    assert [r.full_name for r in user.get_repos()] == ["acme/raftdb"]
    repo = gh.get_repo("acme/raftdb")
    assert repo.get_languages()["Go"] == 90_000
    assert repo.stargazers_count == 1200
    issues = repo.get_issues(labels=["good first issue"])
    assert issues.totalCount == 7
    assert len(list(repo.get_issues())) == 7  # paginated through Link headers
    assert gh.get_rate_limit().resources.core.limit == 5000


# GraphQL ----------------------------------------------------------------------------------------


def _named_type(type_: object) -> str:
    return str(type_)


def test_fake_schema_is_a_subset_of_githubs_real_schema() -> None:
    real = github_schema()
    for name, ours in fake_schema().type_map.items():
        if name.startswith("__") or name in ("String", "Int", "Boolean", "ID", "Float"):
            continue
        theirs = real.type_map.get(name)
        assert theirs is not None, f"GitHub has no type {name}"
        for field_name, field in getattr(ours, "fields", {}).items():
            assert field_name in theirs.fields, f"GitHub has no {name}.{field_name}"
            real_field = theirs.fields[field_name]
            assert _named_type(field.type) == _named_type(real_field.type), f"{name}.{field_name}"
            for arg in getattr(field, "args", {}):
                assert arg in real_field.args, f"GitHub has no {name}.{field_name}({arg})"
        for value in getattr(ours, "values", {}):
            assert value in theirs.values, f"GitHub has no {name}.{value}"


def test_crawler_queries_validate_against_githubs_real_schema() -> None:
    documents = [
        queries.meta_query(["a/b", "c/d"]),
        queries.issues_query(
            [queries.IssuePage("a/b", ["good first issue"]), queries.IssuePage("c/d", ["x"], "c")],
            25,
        ),
        queries.fingerprint_query([("a/b", ["good first issue"]), ("c/d", [])]),
        queries.recheck_query([("a/b", [1, 2])]),
    ]
    for document in documents:
        assert validate(github_schema(), parse(document)) == []
        assert validate(fake_schema(), parse(document)) == []


def gql(http: httpx.Client, query: str) -> dict:
    response = http.post("/graphql", json={"query": query})
    assert response.status_code == 200
    return response.json()


def test_graphql_cost_follows_githubs_formula(fake: FakeGitHub, http: httpx.Client) -> None:
    small = gql(http, '{ repository(owner: "acme", name: "raftdb") { id } rateLimit { cost } }')
    assert small["data"]["rateLimit"]["cost"] == 1  # minimum one point
    # 1 issues connection + 100 issues x 3 nested connections = 301 requests -> 3 points
    big = gql(
        http,
        '{ repository(owner: "acme", name: "raftdb") { issues(first: 100) { nodes {'
        " labels(first: 10) { nodes { name } } comments(last: 5) { totalCount }"
        " assignees(first: 2) { totalCount } } } } rateLimit { cost nodeCount remaining } }",
    )
    assert big["data"]["rateLimit"]["cost"] == 3
    assert big["data"]["rateLimit"]["nodeCount"] == 100 + 100 * 17
    assert fake.stats.points == 4
    assert big["data"]["rateLimit"]["remaining"] == 5000 - 4


def test_graphql_labels_filter_is_or_and_case_insensitive(http: httpx.Client) -> None:
    data = gql(
        http,
        '{ repository(owner: "acme", name: "raftdb") { issues(first: 50, states: [OPEN],'
        ' labels: ["Good First Issue", "nope"]) { totalCount nodes { number } } } }',
    )["data"]
    assert data["repository"]["issues"]["totalCount"] == 7


def test_graphql_cursor_pagination(http: httpx.Client) -> None:
    numbers: list[int] = []
    after = ""
    while True:
        page = gql(
            http,
            '{ repository(owner: "acme", name: "raftdb") { issues(first: 3' + after + ")"
            " { pageInfo { hasNextPage endCursor } nodes { number } } } }",
        )["data"]["repository"]["issues"]
        numbers += [n["number"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = f', after: "{page["pageInfo"]["endCursor"]}"'
    assert numbers == list(range(1, 8))


def test_graphql_missing_repository_is_a_partial_not_found_error(http: httpx.Client) -> None:
    body = gql(
        http,
        '{ a: repository(owner: "acme", name: "raftdb") { id }'
        ' b: repository(owner: "acme", name: "gone") { id } }',
    )
    assert body["data"]["a"]["id"] and body["data"]["b"] is None
    assert body["errors"][0]["type"] == "NOT_FOUND" and body["errors"][0]["path"] == ["b"]


def test_graphql_rejects_invalid_queries_and_excessive_pages(http: httpx.Client) -> None:
    assert "errors" in gql(http, "{ repository(owner: 1) { nope } }")
    body = gql(http, '{ repository(owner: "a", name: "b") { issues(first: 101) { totalCount } } }')
    assert body["errors"][0]["type"] == "EXCESSIVE_PAGINATION"
    unbounded = '{ repository(owner: "acme", name: "raftdb") { issues { nodes { number } } } }'
    assert gql(http, unbounded)["errors"][0]["type"] == "MISSING_PAGINATION_BOUNDARIES"
    counted = '{ repository(owner: "acme", name: "raftdb") { issues { totalCount } } }'
    assert gql(http, counted)["data"]["repository"]["issues"]["totalCount"] == 7


def test_graphql_availability_fields(http: httpx.Client) -> None:
    nodes = gql(
        http,
        '{ repository(owner: "acme", name: "raftdb") { issues(first: 3) { nodes { number'
        " assignees(first: 5) { nodes { login } } comments(last: 5) { nodes { body } }"
        " closedByPullRequestsReferences(first: 5) { nodes { number state } }"
        " timelineItems(last: 5, itemTypes: [CROSS_REFERENCED_EVENT]) { nodes {"
        " ... on CrossReferencedEvent { source { ... on PullRequest { number } } } } } } } } }",
    )["data"]["repository"]["issues"]["nodes"]
    assert nodes[0]["comments"]["nodes"][0]["body"] == "Can I take this?"
    assert nodes[1]["closedByPullRequestsReferences"]["nodes"] == [{"number": 99, "state": "OPEN"}]
    assert nodes[1]["timelineItems"]["nodes"][0]["source"]["number"] == 99
    assert nodes[2]["assignees"]["nodes"] == [{"login": "someone"}]


def test_graphql_needs_a_token(fake: FakeGitHub) -> None:
    response = httpx.post(f"{fake.base_url}/graphql", json={"query": "{ rateLimit { cost } }"})
    assert response.status_code == 401


# Faults -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["500", "502"])
def test_fault_server_errors(fake: FakeGitHub, http: httpx.Client, status: str) -> None:
    fake.faults.add(status, path="/repos/")
    assert http.get("/repos/acme/raftdb").status_code == int(status)
    assert http.get("/repos/acme/raftdb").status_code == 200  # used up


def test_fault_429_and_secondary_limit_carry_retry_after(
    fake: FakeGitHub, http: httpx.Client
) -> None:
    fake.faults.add("429", retry_after=7)
    fake.faults.add("secondary", retry_after=3)
    first, second = http.get("/rate_limit"), http.get("/repos/acme/raftdb")
    assert (first.status_code, first.headers["Retry-After"]) == (429, "7")
    assert (second.status_code, second.headers["Retry-After"]) == (403, "3")
    assert "secondary rate limit" in second.json()["message"]


def test_fault_primary_limit(fake: FakeGitHub, http: httpx.Client) -> None:
    fake.faults.add("403_rate_limit", retry_after=30)
    response = http.get("/repos/acme/raftdb")
    assert response.status_code == 403 and response.headers["X-RateLimit-Remaining"] == "0"
    assert 25 < int(response.headers["X-RateLimit-Reset"]) - time.time() <= 31


def test_fault_graphql_partial_and_rate_limited(fake: FakeGitHub, http: httpx.Client) -> None:
    fake.faults.add("graphql_partial")
    body = gql(
        http,
        '{ a: repository(owner: "acme", name: "raftdb") { id }'
        ' b: repository(owner: "acme", name: "raftdb") { id } }',
    )
    assert body["data"]["a"] is None and body["data"]["b"]["id"]
    assert body["errors"][0]["path"] == ["a"]
    fake.faults.add("graphql_rate_limited")
    assert gql(http, "{ rateLimit { cost } }")["errors"][0]["type"] == "RATE_LIMITED"


def test_fault_connection_reset(fake: FakeGitHub, http: httpx.Client) -> None:
    fake.faults.add("reset")
    with pytest.raises(httpx.TransportError):
        http.get("/repos/acme/raftdb")
    assert http.get("/repos/acme/raftdb").status_code == 200


def test_fault_latency_and_slow_body(fake: FakeGitHub, http: httpx.Client) -> None:
    fake.faults.latency = 0.05
    started = time.perf_counter()
    http.get("/rate_limit")
    assert time.perf_counter() - started >= 0.05
    fake.faults.latency = 0
    fake.faults.add("slow_body", delay=0.3)
    started = time.perf_counter()
    assert http.get("/repos/acme/raftdb").json()["full_name"] == "acme/raftdb"
    assert time.perf_counter() - started >= 0.25
    assert [kind for kind, _ in fake.faults.fired] == ["slow_body"]


def test_unknown_fault_kind_is_refused(fake: FakeGitHub) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        fake.faults.add("explode")


def test_counts_requests_by_kind(fake: FakeGitHub, http: httpx.Client) -> None:
    http.get("/repos/acme/raftdb")
    http.get("/search/issues", params={"q": "x"})
    gql(http, "{ rateLimit { cost } }")
    assert (fake.stats.requests, fake.stats.rest_requests) == (3, 2)
    assert (fake.stats.search_requests, fake.stats.graphql_requests) == (1, 1)
    assert fake.stats.by_path["GET /repos/acme/raftdb"] == 1


# Demo world -------------------------------------------------------------------------------------


def test_demo_world_is_deterministic_synthetic_and_complete() -> None:
    one, two = demo_world(seed=3), demo_world(seed=3)
    from bot.fakes.github.demo_repos import DEMO_REPOS

    assert len(DEMO_REPOS) == 135
    assert all(one.repo(name) is not None for name, *_ in DEMO_REPOS)
    assert one.synthetic and "synthetic" in one.description
    assert [i.title for r in one.repos.values() for i in r.issues.values()] == [
        i.title for r in two.repos.values() for i in r.issues.values()
    ]
    issues = [i for r in one.repos.values() for i in r.issues.values()]
    assert all("Synthetic demo data" in i.body for i in issues)
    assert sum(bool(i.assignees) for i in issues) > 10
    assert sum(bool(i.linked_prs) for i in issues) > 10
    assert sum(r.archived for r in one.repos.values()) >= 1
    labels = {label for r in one.repos.values() for label in r.labels}
    assert {"good first issue", "E-easy"} <= labels or len(labels) > 15
    assert demo_world(seed=4).repo("redis/redis") != one.repo("redis/redis")


def test_demo_world_serves_a_synthetic_awesome_list(http: httpx.Client) -> None:
    world = demo_world()
    with FakeGitHub(world) as fake, httpx.Client(base_url=fake.base_url) as client:
        response = client.get(
            "/repos/roma-glushko/awesome-distributed-system-projects/readme",
            headers={"Accept": "application/vnd.github.raw"},
        )
    text = response.text
    assert "synthetic" in text.lower()
    assert "## Databases" in text and "### Key-Value" in text
    assert "- [redis](https://github.com/redis/redis) (C) - " in text
    assert text.count("](https://github.com/") == 135


# The GraphQL budget, as GitHub documents it ------------------------------------------------------


def issue_labels_query(*sizes: int) -> str:
    """One `repository` alias per size, each asking `size` issues with their labels:
    1 + size requests per alias."""
    parts = [
        f'r{i}: repository(owner: "acme", name: "raftdb") {{ issues(first: {size}) '
        "{ nodes { labels(first: 5) { nodes { name } } } } }"
        for i, size in enumerate(sizes)
    ]
    return "{ " + " ".join(parts) + " rateLimit { cost remaining } }"


@pytest.mark.parametrize(
    ("sizes", "points"),
    [((10,), 1), ((100,), 1), ((100, 47), 1), ((100, 48), 2), ((100, 100, 47), 3)],
)
def test_graphql_cost_rounds_to_the_nearest_point_halves_up(
    http: httpx.Client, sizes: tuple[int, ...], points: int
) -> None:
    """11 requests -> 1 point (the minimum); 149 -> 1; 150 -> 2; 250 -> 3 (halves round up)."""
    assert gql(http, issue_labels_query(*sizes))["data"]["rateLimit"]["cost"] == points


def test_graphql_first_and_last_must_be_within_1_to_100(http: httpx.Client) -> None:
    for bound in ("first: 0", "last: 0", "last: 101"):
        repo = 'repository(owner: "acme", name: "raftdb")'
        body = gql(http, f"{{ {repo} {{ issues({bound}) {{ totalCount }} }} }}")
        assert body["errors"][0]["type"] in ("INVALID_PAGINATION", "EXCESSIVE_PAGINATION")
        assert "data" not in body


def test_graphql_node_limit_is_500000(http: httpx.Client) -> None:
    within = issue_labels_query(*[100] * 49).replace("labels(first: 5)", "labels(first: 100)")
    assert "data" in gql(http, within)  # 49 x (100 + 100 x 100) = 494,900 nodes
    over = issue_labels_query(*[100] * 50).replace("labels(first: 5)", "labels(first: 100)")
    assert gql(http, over)["errors"][0]["type"] == "MAX_NODE_LIMIT_EXCEEDED"  # 505,000


def test_an_over_budget_query_is_refused_like_github_and_costs_nothing(
    fake: FakeGitHub, http: httpx.Client
) -> None:
    fake.limits["graphql"] = 3
    fake.reset_budgets()
    first = gql(http, issue_labels_query(100))  # 101 requests: 1 point
    assert first["data"]["rateLimit"] == {"cost": 1, "remaining": 2}
    expensive = (
        '{ repository(owner: "acme", name: "raftdb") { issues(first: 100) { nodes {'
        " labels(first: 5) { nodes { name } } comments(first: 5) { totalCount }"
        " assignees(first: 5) { totalCount } } } } }"
    )  # 301 requests: 3 points, more than the 2 left
    response = http.post("/graphql", json={"query": expensive})
    assert response.status_code == 200  # GitHub: still 200, with an error
    assert response.headers["X-RateLimit-Remaining"] == "0"
    error = response.json()["errors"][0]
    assert error["type"] == "RATE_LIMITED" and "rate limit" in error["message"]
    assert "data" not in response.json()
    assert fake.budget("graphql").remaining == 2 and fake.stats.refused == 1  # not charged
    again = gql(http, issue_labels_query(100))
    assert again["data"]["rateLimit"] == {"cost": 1, "remaining": 1}


def test_graphql_secondary_limit_is_2000_queries_per_minute(
    fake: FakeGitHub, http: httpx.Client
) -> None:
    fake.graphql_per_minute = 3  # the same rule as GitHub's 2,000, with fewer requests
    minute = [1_800_000_000.0]
    fake.clock = lambda: minute[0]
    for _ in range(3):
        assert "data" in gql(http, "{ rateLimit { cost } }")
    refused = http.post("/graphql", json={"query": "{ rateLimit { cost } }"})
    assert refused.status_code == 403 and refused.headers["Retry-After"] == "60"
    assert "secondary rate limit" in refused.json()["message"]
    minute[0] += 60
    assert "data" in gql(http, "{ rateLimit { cost } }")
