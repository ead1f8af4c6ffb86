"""On-demand picks through one worker that batches whatever is waiting.

Computing picks is CPU-heavy (the matcher scores every open issue). Requests that arrive
together are answered by one `recommend()` call for all their members, by one drain task at a
time on the Slack pool (bot.slack.workers), so a burst of `/matchmaker picks` neither starves
the acks of CPU nor takes N times as long; the matcher also spreads issues across the members
of a batch. A drain lingers until requests stop arriving (`QUIET_S`, at most `LINGER_S`), so a
burst is one batch, not a lone first request and then the rest; the replies of a batch are sent
in parallel on the pool.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import Executor, wait
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from bot.config.settings import Settings
from bot.core.clock import Clock, utc_clock
from bot.slack.handlers import Recommender, Reply, picks_reply
from bot.slack.profile import get_or_create_members
from bot.store.db import session_scope

log = logging.getLogger(__name__)
MAX_BATCH = 200
QUIET_S = 0.02  # a burst's requests arrive a few ms apart (measured: 50 within ~170 ms)
LINGER_S = 0.1  # a lone request waits at most QUIET_S; the first of a burst at most this
ERROR_REPLY = "Sorry, I couldn't compute picks just now. Please try again in a minute."


@dataclass
class PicksRequest:
    """One member asking for `n` picks; `done` sends the reply; `after` (optional) runs once
    no request is waiting any more (e.g. refreshing the App Home), so no member's picks wait
    for another member's follow-up work; a member's `after` runs once however often they asked."""

    team_id: str
    user_id: str
    n: int
    done: Callable[[Reply], None]
    after: Callable[[], None] | None = None


@dataclass(eq=False)  # compared and hashed by identity: one queue per app
class PicksQueue:
    """Answers picks requests in batches, one batch at a time, on the Slack pool."""

    engine: Engine
    settings: Settings
    recommender: Recommender
    executor: Executor
    clock: Clock = utc_clock
    batches: int = 0  # batches answered so far
    _pending: deque[PicksRequest] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _draining: bool = False  # a drain task is queued or running

    def submit(self, request: PicksRequest) -> None:
        """Queue a request; starts a drain task unless one is already on its way."""
        with self._lock:
            self._pending.append(request)
            if self._draining:
                return
            self._draining = True
        self.executor.submit(self._drain)

    def _drain(self) -> None:
        """Answer what is waiting, a batch at a time, until nothing is. Follow-up work (`after`)
        runs only while no request waits, once per member however often they asked."""
        later: dict[tuple[str, str], Callable[[], None]] = {}
        self._linger()
        while True:
            with self._lock:
                batch = [self._pending.popleft() for _ in range(min(MAX_BATCH, len(self._pending)))]
                if not batch and not later:
                    self._draining = False
                    return
            if batch:
                self._answer(batch)
                later.update(((r.team_id, r.user_id), r.after) for r in batch if r.after)
                continue
            after = later.pop(next(iter(later)))
            try:
                after()
            except Exception:  # one member's follow-up must not stop the others'
                log.exception("after sending picks failed")

    def _linger(self) -> None:
        """Wait while requests keep arriving: until none came for `QUIET_S`, or `LINGER_S`."""
        deadline = time.monotonic() + LINGER_S
        waiting = -1
        while time.monotonic() < deadline:
            with self._lock:
                now_waiting = len(self._pending)
            if now_waiting == waiting or now_waiting >= MAX_BATCH:
                return
            waiting = now_waiting
            time.sleep(QUIET_S)

    def _answer(self, batch: list[PicksRequest]) -> None:
        self.batches += 1
        try:
            replies = self._compute(batch)
        except Exception:  # every member still gets an answer; the cause is logged
            log.exception("picks for %d members failed", len(batch))
            replies = [Reply(text=ERROR_REPLY)] * len(batch)
        sends = []
        for request, reply in zip(batch, replies, strict=True):
            try:
                sends.append(self.executor.submit(_send, request, reply))
            except RuntimeError:  # the pool is shutting down (the app stops): send it from here
                _send(request, reply)
        wait(sends)  # the batch's follow-up work comes after its replies

    def _compute(self, batch: list[PicksRequest]) -> list[Reply]:
        now = self.clock()  # one clock reading per batch of requests
        with session_scope(self.engine) as session:
            members = get_or_create_members(session, [(r.team_id, r.user_id) for r in batch])
            by_n: dict[int, set[int]] = defaultdict(set)
            for request, member in zip(batch, members, strict=True):
                assert member.id is not None
                by_n[request.n].add(member.id)
            picks: dict[tuple[int, int], list] = {}
            for n, ids in sorted(by_n.items()):
                for member_id, recs in self.recommender(
                    session, self.settings, sorted(ids), n, now
                ).items():
                    picks[(n, member_id)] = list(recs)
        return [
            picks_reply(picks.get((request.n, member.id or 0), []), member)
            for request, member in zip(batch, members, strict=True)
        ]


def _send(request: PicksRequest, reply: Reply) -> None:
    try:
        request.done(reply)
    except Exception:  # one member's failed reply must not stop the others'
        log.exception("sending picks failed")
