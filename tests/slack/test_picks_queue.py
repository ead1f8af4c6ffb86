"""The on-demand picks queue: a burst is answered in batches, every reply before follow-up work."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.slack.handlers import Reply
from bot.slack.picks_queue import ERROR_REPLY, PicksQueue, PicksRequest

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


class GatedRecommender:
    """Blocks its first call until released, so a test can queue requests behind it."""

    def __init__(self, fail: bool = False) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.calls: list[list[int]] = []
        self.fail = fail

    def __call__(self, session: Any, settings: Any, ids: list[int], n: int, now: Any) -> dict:
        self.calls.append(ids)
        self.entered.set()
        assert self.release.wait(10)
        if self.fail:
            raise RuntimeError("ranker broke")
        return {member_id: [] for member_id in ids}


def run_burst(engine: Engine, recommender: GatedRecommender, users: list[str]) -> list[str]:
    """Submit one request, then the rest while the first computes; the order events happened."""
    events: list[str] = []
    done = threading.Semaphore(0)

    def request(user: str) -> PicksRequest:
        def reply(answer: Reply) -> None:
            events.append(f"reply {user}: {answer.text[:40]}")

        def after() -> None:
            events.append(f"after {user}")
            done.release()

        return PicksRequest("T1", user, 3, reply, after)

    with ThreadPoolExecutor(2) as pool:
        queue = PicksQueue(engine, Settings(), recommender, pool, clock=lambda: NOW)
        queue.submit(request(users[0]))
        assert recommender.entered.wait(10)
        for user in users[1:]:
            queue.submit(request(user))
        recommender.release.set()
        for _ in set(users):
            assert done.acquire(timeout=10)
    return events


def test_a_burst_is_answered_in_two_batches_and_every_reply_precedes_follow_up_work(
    engine: Engine,
) -> None:
    recommender = GatedRecommender()
    users = ["U1", "U2", "U3", "U4", "U2"]

    events = run_burst(engine, recommender, users)

    assert [len(ids) for ids in recommender.calls] == [1, 3]  # U2 twice: one member
    replies = [e for e in events if e.startswith("reply")]
    afters = [e for e in events if e.startswith("after")]
    assert len(replies) == 5
    assert events[:5] == replies  # nobody's picks waited for a Home refresh
    assert sorted(afters) == ["after U1", "after U2", "after U3", "after U4"]  # once per member


def test_a_failing_ranker_still_answers_every_member(engine: Engine) -> None:
    recommender = GatedRecommender(fail=True)

    events = run_burst(engine, recommender, ["U1", "U2", "U3"])

    replies = [e for e in events if e.startswith("reply")]
    assert replies == [f"reply {u}: {ERROR_REPLY[:40]}" for u in ("U1", "U2", "U3")]


def test_requests_arriving_together_are_one_batch(engine: Engine) -> None:
    recommender = GatedRecommender()
    recommender.release.set()
    replied = threading.Semaphore(0)
    with ThreadPoolExecutor(2) as pool:
        queue = PicksQueue(engine, Settings(), recommender, pool, clock=lambda: NOW)
        for user in ("U1", "U2", "U3"):
            queue.submit(PicksRequest("T1", user, 3, lambda _reply: replied.release()))
        for _ in range(3):
            assert replied.acquire(timeout=10)
    assert [len(ids) for ids in recommender.calls] == [3]  # not a lone first request, then two


def test_replies_are_still_sent_while_the_pool_shuts_down(engine: Engine) -> None:
    recommender = GatedRecommender()
    replies: list[str] = []
    pool = ThreadPoolExecutor(2)
    queue = PicksQueue(engine, Settings(), recommender, pool, clock=lambda: NOW)
    queue.submit(PicksRequest("T1", "U1", 3, lambda reply: replies.append(reply.text)))
    assert recommender.entered.wait(10)
    pool.shutdown(wait=False)  # the app stops while a batch computes
    recommender.release.set()
    pool.shutdown(wait=True)
    assert len(replies) == 1
