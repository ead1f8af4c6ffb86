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
from sqlmodel import Session

from bot.config import Settings
from bot.deliver import ledger
from bot.deliver.channel import channel_due, community_picks
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
from bot.deliver.select import CHANNEL, DM, channel_key, dm_key, select_due
from bot.deliver.senders import CannotVerify, Sender, SendError, TokenError
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
    from bot.match.recommend import recommend  # type: ignore[import-not-found]

    return recommend  # type: ignore[no-any-return]


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
    recheck = rechecker or default_rechecker
    stop = LinkedStop(stop)  # set by this run alone (bad token, crash) or by the caller
    step = on_step or (lambda _name: None)
    report = DigestReport()

    with Session(engine, expire_on_commit=False) as session:
        due = select_due(session, settings, now, force=force, slack_user_ids=members)
        session.commit()  # the members' back-off, shown by `status`
        channel = None if members else channel_due(session, settings, now, force=force)
    report.due = len(due) + (1 if channel else 0)
    report.weeks = sorted({d.week for d in due} | ({channel.week} if channel else set()))
    step("selected")

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
    step("computed")

    with session_scope(engine) as session:
        run = DigestRun(week=report.weeks[0] if report.weeks else "", kind=DM, started_at=now)
        session.add(run)
        session.flush()
        report.run_id = run.id
        created = ledger.write_rows(session, rows, run_id=run.id, now=now)
        run.due = len(created)
    report.created = len(created)
    step("ledger")

    _send_pending(engine, settings, sender, now, report, recommend, recheck, stop, step)

    with session_scope(engine) as session:
        session.execute(
            update(DigestRun)
            .where(DigestRun.id == report.run_id)  # type: ignore[arg-type]
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
    return report


def run_status(report: DigestReport, stop: threading.Event) -> str:
    """How a run ended: "token_error", "stopped" (asked to stop) or "ok"."""
    if report.token_error:
        return "token_error"
    return "stopped" if stop.is_set() else "ok"


def _send_pending(
    engine: Engine,
    settings: Settings,
    sender: Sender,
    now: datetime,
    report: DigestReport,
    recommend: Recommender,
    recheck: Rechecker,
    stop: threading.Event,
    step: Callable[[str], None],
) -> None:
    """Step 4: send pending rows with `digest.send_concurrency` threads (shared pacing)."""
    lease = timedelta(seconds=settings.digest.claim_lease_seconds)
    max_age = timedelta(hours=settings.github.recheck_after_hours)
    prepared: dict[int, Prepared] = {}
    started = time.monotonic()

    def clock() -> datetime:
        return now + timedelta(seconds=time.monotonic() - started)

    lock = threading.Lock()
    retry_ids: set[int] = set()
    seen: set[int] = set()

    def count(name: str, error: str | None = None, kind: str = DM) -> None:
        if name in ("sent", "recovered", "skipped", "failed"):
            metrics.record_digest("sent" if name == "recovered" else name, kind)
        with lock:
            setattr(report, name, getattr(report, name) + 1)
            if error:
                report.errors[error] = report.errors.get(error, 0) + 1

    def deliver(item: ledger.Work) -> None:
        if stop.is_set():
            return
        with engine.begin() as connection:  # Core, not ORM: this runs once per message
            if not ledger.claim(connection, item, clock(), lease):
                return  # another run has it, or it was sent meanwhile
        step("claimed")
        outcome = _deliver_claimed(
            engine, settings, sender, item, clock, recommend, recheck, prepared.get(item.id), stop
        )
        state, error, sent, substituted = outcome
        if substituted:
            count("substituted")
        if state in (TOKEN, RELEASED):  # give the row back untouched (no attempt used)
            if state == TOKEN:  # nobody can be sent to: stop the run
                with lock:
                    report.token_error = report.token_error or error
                stop.set()
            with engine.begin() as connection:
                ledger.release(connection, item.id, was_sending=item.was_sending, error=error)
            return
        if state == ledger.SENT and sent is not None:
            step("posted")
        if state == "recovered":
            count("recovered", kind=item.kind)
            state = ledger.SENT
        elif state == ledger.SENT:
            count("sent", kind=item.kind)
        elif state == ledger.SKIPPED:
            count("skipped", error, item.kind)
        elif state == ledger.SENDING:  # outcome unknown: resolved via find_sent after the lease
            count("pending", error)
            return
        if state == ledger.PENDING:
            with engine.begin() as connection:
                if ledger.attempts_of(connection, item.id) >= settings.digest.max_attempts:
                    state = ledger.FAILED
            if state == ledger.PENDING:
                with lock:
                    if error == "ratelimited":
                        retry_ids.add(item.id)
        if state == ledger.FAILED:
            count("failed", error, item.kind)
        with engine.begin() as connection:
            ledger.finish(
                connection,
                item.id,
                state,
                now=clock(),
                ts=sent.ts if sent else None,
                channel=sent.channel if sent else None,
                error=error,
            )
        if state == ledger.SENT:
            step("marked")

    for _ in range(MAX_PASSES):
        with Session(engine) as session:
            work = [
                w
                for w in ledger.sendable(session, clock(), lease)
                if w.id not in seen or w.id in retry_ids
            ]
        retry_ids.clear()
        if not work or stop.is_set():
            break
        seen.update(w.id for w in work)
        with Session(engine) as session:
            prepared = prepare_many(session, [w.id for w in work if w.kind == DM], clock(), max_age)
            remember = getattr(sender, "remember_channels", None)
            if remember is not None:
                remember(ledger.known_dm_channels(session, [w.target for w in work]))
        _run_workers(work, deliver, settings.digest.send_concurrency, stop)
    with Session(engine) as session:
        left = [w for w in ledger.sendable(session, clock(), lease) if not w.was_sending]
    report.pending += len(left)  # plus rows whose outcome is unknown (counted while sending)


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
) -> tuple[str, str | None, Any, int]:
    """Send one claimed row; returns (state, error, Sent | None, picks substituted).

    `prepared` holds the row's picks loaded before sending; they are re-read only when some
    are stale (re-checked, maybe substituted) or when they were not preloaded.
    """
    if item.was_sending:
        try:
            found = sender.find_sent(item.target, item.key)
        except TokenError as exc:
            return TOKEN, exc.reason, None, 0
        except CannotVerify as exc:
            log.warning("cannot_verify_previous_attempt", delivery=item.id, reason=str(exc))
            found = None
        if found is not None:
            return "recovered", None, found, 0
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
        fresh = prepared is not None and not prepared.stale
        blocks, text = _render(engine, item, clock(), prepared.picks if fresh else None)
    except Exception as exc:  # one broken row must not stop the others
        log.exception("digest_render_failed", delivery=item.id)
        return ledger.PENDING, f"render: {type(exc).__name__}", None, substituted
    if blocks is None:
        return ledger.SKIPPED, "no_picks", None, substituted
    if stop.is_set():  # e.g. this replica lost its leader lease while preparing the message
        return RELEASED, None, None, substituted
    try:
        sent = sender.send(item.target, blocks=blocks, text=text, key=item.key)
    except TokenError as exc:
        log.warning("digest_token_error", delivery=item.id, reason=exc.reason)
        return TOKEN, exc.reason, None, substituted
    except SendError as exc:
        if exc.permanent:
            log.info("digest_skipped", delivery=item.id, reason=exc.reason)
            return ledger.SKIPPED, exc.reason, None, substituted
        if exc.ambiguous:
            return ledger.SENDING, exc.reason, None, substituted
        return ledger.PENDING, exc.reason, None, substituted
    return ledger.SENT, None, sent, substituted


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
