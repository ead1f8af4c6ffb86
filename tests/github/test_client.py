"""GitHubClient against the fake: retries, Retry-After, primary limits, budget share, ETags."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from bot.fakes.github import FakeGitHub, World
from bot.github.client import BudgetExhausted, GitHubClient, GitHubError, NotFound, RateLimited


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    world = World()
    world.add_repo("acme/db", language="Go")
    with FakeGitHub(world) as server:
        yield server


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(fake: FakeGitHub, sleeps: Sleeps, **options: object) -> GitHubClient:
    return GitHubClient(fake.base_url, "t", sleep=sleeps, backoff_base=0.01, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["500", "502", "reset"])
def test_transient_failures_are_retried_with_backoff(fake: FakeGitHub, kind: str) -> None:
    sleeps = Sleeps()
    fake.faults.add(kind, times=2)
    with client_for(fake, sleeps) as client:
        assert client.get("/repos/acme/db").json()["full_name"] == "acme/db"
    assert len(sleeps) == 2 and all(0 < s < 1 for s in sleeps)
    assert sleeps[1] >= sleeps[0] / 2  # grows (with jitter)


@pytest.mark.parametrize("kind", ["429", "secondary"])
def test_retry_after_is_honoured(fake: FakeGitHub, kind: str) -> None:
    sleeps = Sleeps()
    fake.faults.add(kind, retry_after=7)
    with client_for(fake, sleeps) as client:
        assert client.get("/repos/acme/db").status_code == 200
    assert sleeps == [7.0]


def test_primary_limit_waits_for_a_near_reset(fake: FakeGitHub) -> None:
    sleeps = Sleeps()
    fake.faults.add("403_rate_limit", retry_after=20)
    with client_for(fake, sleeps) as client:
        assert client.get("/repos/acme/db").status_code == 200
    assert len(sleeps) == 1 and 15 < sleeps[0] <= 22


def test_primary_limit_with_a_distant_reset_stops(fake: FakeGitHub) -> None:
    fake.faults.add("403_rate_limit", retry_after=3000)
    with client_for(fake, Sleeps(), max_wait=60) as client, pytest.raises(RateLimited) as caught:
        client.get("/repos/acme/db")
    assert caught.value.reset and caught.value.reset > time.time() + 2000


def test_graphql_rate_limited_waits_then_succeeds(fake: FakeGitHub) -> None:
    sleeps = Sleeps()
    fake.faults.add("graphql_rate_limited", retry_after=5)
    with client_for(fake, sleeps) as client:
        result = client.graphql("{ rateLimit { cost } }")
    assert result.data["rateLimit"]["cost"] == 1 and len(sleeps) == 1


def test_gives_up_after_max_attempts(fake: FakeGitHub) -> None:
    fake.faults.add("502", times=10)
    with client_for(fake, Sleeps(), max_attempts=3) as client, pytest.raises(GitHubError):
        client.get("/repos/acme/db")
    assert fake.stats.requests == 3


def test_not_found_and_partial_graphql(fake: FakeGitHub) -> None:
    with client_for(fake, Sleeps()) as client:
        with pytest.raises(NotFound):
            client.get("/repos/acme/nope")
        result = client.graphql(
            '{ a: repository(owner: "acme", name: "db") { id }'
            ' b: repository(owner: "acme", name: "nope") { id } }'
        )
    assert result.data["a"]["id"] and result.error_for("b")["type"] == "NOT_FOUND"


def test_budget_share_is_never_exceeded(fake: FakeGitHub) -> None:
    fake.limits["core"] = 10
    with client_for(fake, Sleeps(), budget_share=0.3) as client:
        for _ in range(3):
            client.get("/repos/acme/db")
        with pytest.raises(BudgetExhausted):
            client.get("/repos/acme/db")
    assert fake.stats.requests == 3


def test_conditional_requests_are_free(fake: FakeGitHub) -> None:
    with client_for(fake, Sleeps()) as client:
        first = client.get("/repos/acme/db")
        again = client.get("/repos/acme/db", etag=first.headers["ETag"])
        assert again.status_code == 304
        assert client.usage.not_modified == 1 and client.usage.spent["core"] == 1
        assert client.budget_left("core") == 4999


def test_slow_body_still_arrives(fake: FakeGitHub) -> None:
    fake.faults.add("slow_body", delay=0.2)
    with client_for(fake, Sleeps()) as client:
        assert client.get("/repos/acme/db").json()["name"] == "db"


def test_slow_body_beyond_the_timeout_is_retried(fake: FakeGitHub) -> None:
    sleeps = Sleeps()
    fake.faults.add("slow_body", delay=2.0)  # 0.4 s between chunks
    with client_for(fake, sleeps, timeout=0.3) as client:
        assert client.get("/repos/acme/db").json()["name"] == "db"
    assert len(sleeps) >= 1 and fake.faults.fired == [("slow_body", "/repos/acme/db")]
