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


@pytest.mark.parametrize("kind", ["429", "secondary", "abuse"])
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


def test_pygithub_recorded_abuse_403_is_a_secondary_limit_not_an_error(fake: FakeGitHub) -> None:
    # PyGithub's ReplayData (SpecificExceptions.testAuthenticatedRateLimitExceeded): 403,
    # "You have triggered an abuse detection mechanism…", Retry-After: 60.
    sleeps = Sleeps()
    fake.faults.add("abuse", retry_after=60)
    with client_for(fake, sleeps) as client:
        assert client.get("/repos/acme/db").status_code == 200
    assert sleeps == [60.0]


def test_429_with_remaining_zero_and_a_distant_reset_stops_without_blind_retries(
    fake: FakeGitHub,
) -> None:
    sleeps = Sleeps()
    fake.faults.add("429_primary", retry_after=3000)  # reset 50 minutes away
    with client_for(fake, sleeps) as client, pytest.raises(RateLimited) as caught:
        client.get("/repos/acme/db")
    assert sleeps == []
    assert caught.value.reset is not None and caught.value.reset > time.time() + 2900


def test_429_with_remaining_zero_and_a_near_reset_waits_for_the_reset(fake: FakeGitHub) -> None:
    sleeps = Sleeps()
    fake.faults.add("429_primary", retry_after=30)
    with client_for(fake, sleeps) as client:
        assert client.get("/repos/acme/db").status_code == 200
    assert len(sleeps) == 1 and 25 < sleeps[0] <= 32  # the reset, not a blind 60 s


def test_a_retry_after_beyond_max_wait_stops_as_rate_limited(fake: FakeGitHub) -> None:
    sleeps = Sleeps()
    fake.faults.add("secondary", retry_after=4000)
    with client_for(fake, sleeps, max_wait=900) as client, pytest.raises(RateLimited):
        client.get("/repos/acme/db")
    assert sleeps == []


def test_a_recurring_secondary_limit_ends_as_rate_limited(fake: FakeGitHub) -> None:
    fake.faults.add("secondary", times=10, retry_after=1)
    with client_for(fake, Sleeps(), max_attempts=3) as client, pytest.raises(RateLimited):
        client.get("/repos/acme/db")


def test_search_budget_is_per_minute_not_a_share_of_an_hour(fake: FakeGitHub) -> None:
    """10 searches a minute: the 11th waits for the window, none is refused."""
    fake.anonymous_limits["search"] = 10
    now = [time.time()]
    fake.clock = lambda: now[0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    with GitHubClient(
        fake.base_url, None, sleep=sleep, clock=lambda: now[0], budget_share=0.5
    ) as client:
        for _ in range(25):
            assert client.get("/search/issues", {"q": "repo:acme/db"}).status_code == 200
    assert fake.stats.search_requests == 25
    assert len(waits) == 2 and all(0 < w <= 61 for w in waits)
