"""The ranker's member-independent inputs, kept in memory per process between generations.

Loading the issue table (every open issue with its repository and list entries, their term
matrices and model scores) is most of the cost of one `/matchmaker picks`. `rank_inputs()`
returns the process-wide copy while the stored generations (bot/core/generation.py) are the
ones it was loaded at: a crawl, a catalog sync or a re-check that writes issues bumps "issues"
(the table is reloaded once, by the first caller, the others wait for it); an "already taken"
report bumps "reports" (only the per-workspace hidden issues are recomputed). Member-side data
(picks already sent, feedback, the member's own reports) is never cached: it is read per call.

A session with uncommitted writes to the inputs gets a private copy (it must see its writes;
nobody else may). Thread-safe: one lock per database; the cached arrays are read-only except the
model scores of issues that became eligible since the load, filled in under the lock.
"""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import structlog
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bot.config import Settings
from bot.core.availability import Policy, live_reporters
from bot.core.generation import ISSUES, SCOPES, Generation, generation, has_pending_writes
from bot.match import approachability_adapter
from bot.match.eligibility import issue_reason_codes
from bot.match.issues import IssueTable, load_issue_table
from bot.match.taxonomy import get_taxonomy
from bot.match.terms import TermSpace, term_space
from bot.store.db import session_scope
from bot.store.models import Issue, TakenReport

log = structlog.get_logger(__name__)
_ISSUES_AT = SCOPES.index(ISSUES)


@dataclass
class RankInputs:
    """Issue table, term space, closed count and model-score state of one generation."""

    generation: Generation
    settings_key: tuple[Any, ...]
    space: TermSpace
    table: IssueTable
    closed: int  # stored issues that are not open (counted in the run's stats)
    scored: np.ndarray  # bool [I]: the issue's model score is fresh
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _hidden: dict[tuple[str, int], np.ndarray] = field(default_factory=dict, repr=False)

    def refresh_scores(self, session: Session, eligible: np.ndarray, now: datetime) -> int:
        """Score eligible issues without a fresh model score (rare after the load)."""
        if not (eligible & ~self.scored).any():
            return 0
        with self.lock:
            return approachability_adapter.refresh(session, self.table, eligible, now, self.scored)

    def hidden_in_workspace(self, session: Session, team_id: str, policy: Policy) -> np.ndarray:
        """Sorted ids of the issues enough members of `team_id` reported taken (cached)."""
        key = (team_id, policy.reporters_needed)
        with self.lock:
            found = self._hidden.get(key)
        if found is None:
            if not self._any_hidden(session, policy):
                found = np.zeros(0, dtype=np.int64)
            else:
                ids = session.execute(
                    select(col(Issue.id)).where(live_reporters(team_id) >= policy.reporters_needed)
                ).scalars()
                found = np.sort(np.fromiter((int(i) for i in ids), dtype=np.int64))
            with self.lock:
                self._hidden[key] = found
        return found

    def _any_hidden(self, session: Session, policy: Policy) -> bool:
        """Whether any report is stored at all (most databases: none, so no per-issue query)."""
        key = ("", policy.reporters_needed)
        with self.lock:
            known = self._hidden.get(key)
        if known is None:
            hit = session.execute(select(col(TakenReport.id)).limit(1)).first()
            known = np.ones(1, dtype=np.int64) if hit else np.zeros(0, dtype=np.int64)
            with self.lock:
                self._hidden[key] = known
        return bool(known.size)

    def with_generation(self, gen: Generation) -> RankInputs:
        """The same issue table at `gen` (only "reports" moved): workspace hiding recomputed."""
        return RankInputs(gen, self.settings_key, self.space, self.table, self.closed, self.scored)


def settings_key(settings: Settings) -> tuple[Any, ...]:
    """The settings the issue table depends on (labels that make an issue beginner-level)."""
    github = settings.github
    extra = tuple(sorted((k, tuple(v)) for k, v in github.extra_labels.items()))
    return (tuple(github.beginner_labels), extra)


def load_inputs(session: Session, settings: Settings, now: datetime, gen: Generation) -> RankInputs:
    """Read the inputs from the database and score what needs it (as of `now`)."""
    space = term_space(get_taxonomy())
    table = load_issue_table(session, settings, space)
    closed = int(
        session.execute(
            select(func.count()).select_from(Issue).where(col(Issue.state) != "open")
        ).scalar_one()
    )
    inputs = RankInputs(
        gen,
        settings_key(settings),
        space,
        table,
        closed,
        approachability_adapter.scored_mask(table),
    )
    inputs.refresh_scores(session, issue_reason_codes(table, settings, now) == 0, now)
    return inputs


def settle_heap() -> None:
    """Exempt what is alive now (the cached table's objects among it) from cyclic GC.

    The cache keeps some 250k objects alive between generations; every full collection would
    walk them all (≈170 ms at 20,000 issues, measured), inside whichever request allocated at
    that moment. What the last call froze is unfrozen and collected first, so garbage cycles
    among it (a session alive at the time, say) live one generation at most; frozen objects are
    still freed by reference counting when the next generation replaces them.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class InputsCache:
    """The process's inputs per database (engine), with a load counter for benches and tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engines: weakref.WeakKeyDictionary[Engine, tuple[threading.Lock, list[Any]]] = (
            weakref.WeakKeyDictionary()
        )
        self.loads = 0  # full loads of the issue table (one per "issues" generation)
        self.on_load: Callable[[RankInputs], None] | None = None

    def get(self, session: Session, settings: Settings, now: datetime) -> RankInputs:
        """The inputs for the session's database, loaded only when a generation moved."""
        if has_pending_writes(session):  # it must see its own writes, which nobody else may
            return load_inputs(session, settings, now, ())
        gen = generation(session)
        bind = session.get_bind()
        engine = bind if isinstance(bind, Engine) else bind.engine
        with self._lock:
            lock, slot = self._engines.setdefault(engine, (threading.Lock(), [None]))
        key = settings_key(settings)
        with lock:  # one load at a time per database; the others wait and reuse it
            cached: RankInputs | None = slot[0]
            if cached is not None and cached.settings_key == key:
                if cached.generation == gen:
                    return cached
                if cached.generation[_ISSUES_AT] == gen[_ISSUES_AT]:
                    slot[0] = cached.with_generation(gen)
                    return slot[0]
            inputs = load_inputs(session, settings, now, gen)
            slot[0] = inputs
            self.loads += 1
            settle_heap()
        log.debug("match.inputs_loaded", issues=inputs.table.size, generation=list(gen))
        if self.on_load is not None:
            self.on_load(inputs)
        return inputs

    def clear(self) -> None:
        """Forget every cached copy (tests)."""
        with self._lock:
            self._engines = weakref.WeakKeyDictionary()


CACHE = InputsCache()


def rank_inputs(session: Session, settings: Settings, now: datetime) -> RankInputs:
    """The process-wide ranker inputs for the session's database (see the module docstring)."""
    return CACHE.get(session, settings, now)


def warm(engine: Engine, settings: Settings, now: datetime) -> None:
    """Load the inputs now (at start-up), so the first `/matchmaker picks` does not wait."""
    try:
        with session_scope(engine) as session:
            rank_inputs(session, settings, now)
    except Exception as exc:  # the first request loads them instead
        log.warning("match.inputs_warm_failed", error=type(exc).__name__)
