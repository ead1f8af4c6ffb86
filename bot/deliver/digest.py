"""A digest run: select due members, compute picks, write the ledger, send what is pending.

Steps (each one safe to crash after):
1. select due members (read only, plus their back-off for `status`);
2. compute picks with the matcher (read only);
3. write ledger rows + Pick rows in ONE transaction, keyed (member, ISO week, kind) — a key that
   exists is skipped, so a re-run or a second replica never writes a second digest;
4. send every pending row: claim it (pending -> sending), re-check stale picks, post, mark it
   sent with the Slack ts. A row a crash left in "sending" is re-claimed after a lease and
   first looked up on Slack (message metadata carries the ledger key): found -> marked sent,
   not found -> sent. Re-running the same week therefore sends exactly the unsent rows.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bot.config import Settings
from bot.deliver import ledger
from bot.deliver.channel import channel_due, community_picks
from bot.deliver.due import Slot
from bot.deliver.picks import (
    Prepared,
    Rechecker,
    Recommender,
    default_rechecker,
    load_content,
    load_picks,
    prepare_many,
    recheck_and_substitute,
)
from bot.deliver.select import CHANNEL, DM, DueMember, channel_key, dm_key, select_due
from bot.deliver.senders import CannotVerify, Sender, SendError, Sent, TokenError
from bot.deliver.stop import LinkedStop
from bot.logs import in_current_context
from bot.match.recommendation import Recommendation
from bot.store.db import session_scope
from bot.store.models import Delivery, DigestRun
from bot.web import metrics

log = structlog.get_logger(__name__)

DM_HEADER = "Your good first issues this week"
CHANNEL_HEADER = "This week's good first issues for the community"
MAX_PASSES = 3  # rows that were rate limited get this many tries within one run
TOKEN = "token"  # outcome of a row whose send hit a token-level error (the row is released)
RELEASED = "released"  # told to stop (shutdown, lost leadership) after claiming: not sent


@dataclass
class DigestReport:
    """What one run did. `pending` rows are left for the next tick (stopped, rate limited)."""

    run_id: int | None = None
    weeks: list[str] = field(default_factory=list)
    due: int = 0
    created: int = 0
    sent: int = 0
    recovered: int = 0  # found already posted after a crash, marked sent without re-posting
    skipped: int = 0
    failed: int = 0
    pending: int = 0
    substituted: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    token_error: str | None = None  # Slack refused the token: the run stopped, rows kept pending

    def summary(self) -> str:
        """One line for logs and the CLI."""
        text = (
            f"{self.due} due, {self.created} new ledger rows, {self.sent} sent, "
            f"{self.skipped} skipped, {self.failed} failed, {self.pending} left pending"
        )
        if self.recovered:
            text += f", {self.recovered} recovered after a crash"
        if self.substituted:
            text += f", {self.substituted} picks substituted"
        if self.errors:
            text += " (" + ", ".join(f"{k}: {v}" for k, v in sorted(self.errors.items())) + ")"
        if self.token_error:
            text += f"; stopped: Slack refused the bot token ({self.token_error})"
        return text


def default_recommender() -> Recommender:
    """The matcher's `recommend` (imported late: the match stage may be absent in a dev tree)."""
    from bot.match.recommend import recommend

    return recommend


def run_digest(
    engine: Engine,
    settings: Settings,
    sender: Sender,
    *,
    now: datetime,
    force: bool = False,
    members: list[str] | None = None,
    recommender: Recommender | None = None,
    rechecker: Rechecker | None = None,
    stop: threading.Event | None = None,
    on_step: Callable[[str], None] | None = None,
) -> DigestReport:
    """Run one digest tick at `now` (aware UTC) and send through `sender`.

    `force` sends this week's digest to every enabled member now (still once per week);
    `members` limits the run to these Slack user ids; `stop` ends sending after the message in
    flight; `on_step(name)` is called after each step (tests inject crashes there).
    """
    recommend = recommender or default_recommender()
    stop = LinkedStop(stop)  # set by this run alone (bad token, crash) or by the caller
    step = on_step or (lambda _name: None)
    report = DigestReport()

    due, channel = _select(engine, settings, now, force, members, report)
    step("selected")
    rows = _compute_rows(engine, settings, now, due, channel, recommend)
    step("computed")
    report.created = _write_ledger(engine, rows, now, report)
    step("ledger")
    recheck = rechecker or default_rechecker
    _PendingSend(engine, settings, sender, now, report, recommend, recheck, stop, step).run()
    _finish_run(engine, now, report, stop)
    return report


def _select(
    engine: Engine,
    settings: Settings,
    now: datetime,
    force: bool,
    members: list[str] | None,
    report: DigestReport,
) -> tuple[list[DueMember], Slot | None]:
    """Step 1: the due members and the due channel post (read only, plus the back-off)."""
    with Session(engine, expire_on_commit=False) as session:
        due = select_due(session, settings, now, force=force, slack_user_ids=members)
        session.commit()  # the members' back-off, shown by `status`
        channel = None if members else channel_due(session, settings, now, force=force)
    report.due = len(due) + (1 if channel else 0)
    report.weeks = sorted({d.week for d in due} | ({channel.week} if channel else set()))
    return due, channel


def _compute_rows(
    engine: Engine,
    settings: Settings,
    now: datetime,
    due: list[DueMember],
    channel: Slot | None,
    recommend: Recommender,
) -> list[ledger.NewRow]:
    """Step 2: the ledger rows to write, with their picks (read only)."""
    rows: list[ledger.NewRow] = []
    with Session(engine, expire_on_commit=False) as session:
        if due:
            picks = recommend(
                session, settings, [d.member_id for d in due], n=settings.digest.picks, now=now
            )
            rows += [
                ledger.NewRow(
                    key=dm_key(d.member_id, d.week),
                    week=d.week,
                    kind=DM,
                    member_id=d.member_id,
                    channel=None,
                    picks=picks.get(d.member_id, []),
                )
                for d in due
            ]
        if channel:
            content = community_picks(session, settings, channel.week, now, recommend)
            rows.append(
                ledger.NewRow(
                    key=channel_key(settings.digest.channel, channel.week),
                    week=channel.week,
                    kind=CHANNEL,
                    member_id=None,
                    channel=settings.digest.channel,
                    picks=[],
                    content=content,
                )
            )
    return rows


def _write_ledger(
    engine: Engine, rows: list[ledger.NewRow], now: datetime, report: DigestReport
) -> int:
    """Step 3: the run's row and the new ledger rows in one transaction; how many were new."""
    with session_scope(engine) as session:
        run = DigestRun(week=report.weeks[0] if report.weeks else "", kind=DM, started_at=now)
        session.add(run)
        session.flush()
        report.run_id = run.id
        created = ledger.write_rows(session, rows, run_id=run.id, now=now)
        run.due = len(created)
    return len(created)


def _finish_run(engine: Engine, now: datetime, report: DigestReport, stop: threading.Event) -> None:
    """Store how the run ended and log it."""
    with session_scope(engine) as session:
        session.execute(
            update(DigestRun)
            .where(col(DigestRun.id) == report.run_id)
            .values(
                finished_at=now,
                status=run_status(report, stop),
                sent=report.sent + report.recovered,
                failed=report.failed,
                error=f"slack token: {report.token_error}" if report.token_error else None,
            )
        )
    if report.token_error:
        log.error(
            "digest_stopped_bad_token",
            error=report.token_error,
            pending=report.pending,
            hint="fix SLACK_BOT_TOKEN (see `matchmaker doctor`); pending rows go out next run",
        )
    log.info("digest_run", summary=report.summary(), run=report.run_id)


def run_status(report: DigestReport, stop: threading.Event) -> str:
    """How a run ended: "token_error", "stopped" (asked to stop) or "ok"."""
    if report.token_error:
        return "token_error"
    return "stopped" if stop.is_set() else "ok"


@dataclass
class Outcome:
    """What sending one claimed row came to."""

    state: str  # a ledger state, "recovered", TOKEN or RELEASED
    error: str | None = None
    sent: Sent | None = None
    substituted: int = 0  # picks replaced because a re-check found them gone


@dataclass
class _PendingSend:
    """Step 4: send pending rows with `digest.send_concurrency` threads (shared pacing)."""

    engine: Engine
    settings: Settings
    sender: Sender
    now: datetime
    report: DigestReport
    recommend: Recommender
    recheck: Rechecker
    stop: threading.Event
    step: Callable[[str], None]
    prepared: dict[int, Prepared] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)
    retry_ids: set[int] = field(default_factory=set)  # rate limited: tried again next pass
    seen: set[int] = field(default_factory=set)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.digest.claim_lease_seconds)

    def clock(self) -> datetime:
        """`now` advanced by the time this step has taken."""
        return self.now + timedelta(seconds=time.monotonic() - self.started)

    def run(self) -> None:
        """Up to `MAX_PASSES` passes over the sendable rows, then count what is left."""
        max_age = timedelta(hours=self.settings.github.recheck_after_hours)
        for _ in range(MAX_PASSES):
            with Session(self.engine) as session:
                work = [
                    w
                    for w in ledger.sendable(session, self.clock(), self.lease)
                    if w.id not in self.seen or w.id in self.retry_ids
                ]
            self.retry_ids.clear()
            if not work or self.stop.is_set():
                break
            self.seen.update(w.id for w in work)
            with Session(self.engine) as session:
                dm_ids = [w.id for w in work if w.kind == DM]
                self.prepared = prepare_many(session, dm_ids, self.clock(), max_age)
                remember = getattr(self.sender, "remember_channels", None)
                if remember is not None:
                    remember(ledger.known_dm_channels(session, [w.target for w in work]))
            _run_workers(work, self.deliver, self.settings.digest.send_concurrency, self.stop)
        with Session(self.engine) as session:
            left = [
                w for w in ledger.sendable(session, self.clock(), self.lease) if not w.was_sending
            ]
        # plus rows whose outcome is unknown (counted while sending)
        self.report.pending += len(left)

    def count(self, name: str, error: str | None = None, kind: str = DM) -> None:
        """Add one to the report's `name` (and to `errors[error]`), and to the metrics."""
        if name in ("sent", "recovered", "skipped", "failed"):
            metrics.record_digest("sent" if name == "recovered" else name, kind)
        with self.lock:
            setattr(self.report, name, getattr(self.report, name) + 1)
            if error:
                self.report.errors[error] = self.report.errors.get(error, 0) + 1

    def deliver(self, item: ledger.Work) -> None:
        """Claim one row, send it, and store the outcome."""
        if self.stop.is_set():
            return
        with self.engine.begin() as connection:  # Core, not ORM: this runs once per message
            if not ledger.claim(connection, item, self.clock(), self.lease):
                return  # another run has it, or it was sent meanwhile
        self.step("claimed")
        outcome = _deliver_claimed(
            self.engine,
            self.settings,
            self.sender,
            item,
            self.clock,
            self.recommend,
            self.recheck,
            self.prepared.get(item.id),
            self.stop,
        )
        if outcome.substituted:
            self.count("substituted")
        if outcome.state in (TOKEN, RELEASED):
            self._give_back(item, outcome)
            return
        self._record(item, outcome)

    def _give_back(self, item: ledger.Work, outcome: Outcome) -> None:
        """Release the row untouched (no attempt used); a token error stops the run."""
        if outcome.state == TOKEN:  # nobody can be sent to: stop the run
            with self.lock:
                self.report.token_error = self.report.token_error or outcome.error
            self.stop.set()
        with self.engine.begin() as connection:
            ledger.release(connection, item.id, was_sending=item.was_sending, error=outcome.error)

    def _record(self, item: ledger.Work, outcome: Outcome) -> None:
        """Count the outcome and write the row's new state (unless it is still unknown)."""
        state, error, sent = outcome.state, outcome.error, outcome.sent
        if state == ledger.SENT and sent is not None:
            self.step("posted")
        if state == "recovered":
            self.count("recovered", kind=item.kind)
            state = ledger.SENT
        elif state == ledger.SENT:
            self.count("sent", kind=item.kind)
        elif state == ledger.SKIPPED:
            self.count("skipped", error, item.kind)
        elif state == ledger.SENDING:  # outcome unknown: resolved via find_sent after the lease
            self.count("pending", error)
            return
        if state == ledger.PENDING:
            state = self._retry_or_fail(item, error)
        if state == ledger.FAILED:
            self.count("failed", error, item.kind)
        with self.engine.begin() as connection:
            ledger.finish(
                connection,
                item.id,
                state,
                now=self.clock(),
                ts=sent.ts if sent else None,
                channel=sent.channel if sent else None,
                error=error,
            )
        if state == ledger.SENT:
            self.step("marked")

    def _retry_or_fail(self, item: ledger.Work, error: str | None) -> str:
        """FAILED once the row used its attempts; else PENDING (rate limited: this run again)."""
        with self.engine.begin() as connection:
            if ledger.attempts_of(connection, item.id) >= self.settings.digest.max_attempts:
                return ledger.FAILED
        if error == "ratelimited":
            with self.lock:
                self.retry_ids.add(item.id)
        return ledger.PENDING


def _run_workers(
    work: list[ledger.Work],
    deliver: Callable[[ledger.Work], None],
    concurrency: int,
    stop: threading.Event,
) -> None:
    """Feed `work` to `concurrency` threads; the first unexpected error stops all and is raised."""
    items: queue.Queue[ledger.Work] = queue.Queue()
    for item in work:
        items.put(item)
    failures: list[BaseException] = []

    def worker() -> None:
        while not stop.is_set():
            try:
                item = items.get_nowait()
            except queue.Empty:
                return
            try:
                deliver(item)
            except BaseException as exc:  # a crash: stop everyone, re-raise in the caller
                failures.append(exc)
                stop.set()
                return

    threads = max(1, min(concurrency, len(work)))
    with ThreadPoolExecutor(threads, thread_name_prefix="digest-send") as pool:
        for _ in range(threads):  # each thread gets its own copy of the run id context
            pool.submit(in_current_context(worker))
    if failures:
        raise failures[0]


def _deliver_claimed(
    engine: Engine,
    settings: Settings,
    sender: Sender,
    item: ledger.Work,
    clock: Callable[[], datetime],
    recommend: Recommender,
    recheck: Rechecker,
    prepared: Prepared | None,
    stop: threading.Event,
) -> Outcome:
    """Send one claimed row and say how it went.

    `prepared` holds the row's picks loaded before sending; they are re-read only when some
    are stale (re-checked, maybe substituted) or when they were not preloaded.
    """
    if item.was_sending:
        try:
            found = sender.find_sent(item.target, item.key)
        except TokenError as exc:
            return Outcome(TOKEN, exc.reason)
        except CannotVerify as exc:
            log.warning("cannot_verify_previous_attempt", delivery=item.id, reason=str(exc))
            found = None
        if found is not None:
            return Outcome("recovered", sent=found)
    substituted = 0
    try:
        if item.kind == DM and item.member_id is not None and (prepared is None or prepared.stale):
            substituted = recheck_and_substitute(
                engine,
                settings,
                item.id,
                item.member_id,
                now=clock(),
                rechecker=recheck,
                recommender=recommend,
            )
        fresh = prepared.picks if prepared is not None and not prepared.stale else None
        blocks, text = _render(engine, item, clock(), fresh)
    except Exception as exc:  # one broken row must not stop the others
        log.exception("digest_render_failed", delivery=item.id)
        return Outcome(ledger.PENDING, f"render: {type(exc).__name__}", None, substituted)
    if blocks is None:
        return Outcome(ledger.SKIPPED, "no_picks", None, substituted)
    if stop.is_set():  # e.g. this replica lost its leader lease while preparing the message
        return Outcome(RELEASED, None, None, substituted)
    try:
        sent = sender.send(item.target, blocks=blocks, text=text, key=item.key)
    except TokenError as exc:
        log.warning("digest_token_error", delivery=item.id, reason=exc.reason)
        return Outcome(TOKEN, exc.reason, None, substituted)
    except SendError as exc:
        if exc.permanent:
            log.info("digest_skipped", delivery=item.id, reason=exc.reason)
            return Outcome(ledger.SKIPPED, exc.reason, None, substituted)
        if exc.ambiguous:
            return Outcome(ledger.SENDING, exc.reason, None, substituted)
        return Outcome(ledger.PENDING, exc.reason, None, substituted)
    return Outcome(ledger.SENT, None, sent, substituted)


def _render(
    engine: Engine, item: ledger.Work, now: datetime, picks: list[Recommendation] | None
) -> tuple[Any, str]:
    """Block Kit and fallback text of a ledger row; (None, "") when it has no picks left."""
    from bot.slack.blocks import fallback_text, pick_blocks

    header = DM_HEADER if item.kind == DM else CHANNEL_HEADER
    if picks is None:
        with Session(engine) as session:
            if item.kind == DM:
                picks = load_picks(session, item.id, now)
            else:
                delivery = session.get(Delivery, item.id)
                picks = load_content(session, (delivery.content if delivery else None) or [], now)
    if not picks:
        return None, ""
    return pick_blocks(picks, header=header), fallback_text(picks)
