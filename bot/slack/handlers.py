"""What each `/matchmaker` sub-command does, as functions from a parsed command to a reply.

`quick_reply` answers the commands that need no database (help, bad input) right inside
`ack()`; `execute` does the rest after the ack (a lazy listener) and returns the ephemeral reply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.config.settings import Settings
from bot.core.availability import (
    Policy,
    Reason,
    Viewer,
    issue_reasons,
    reason_text,
)
from bot.core.clock import utc_clock
from bot.core.vocabulary import PICK_STATE_LABELS, PickState
from bot.match.taxonomy import get_taxonomy
from bot.schedule.crawl_lock import CrawlRunning, exclusive_crawl
from bot.slack import commands as c
from bot.slack.admin import is_admin
from bot.slack.blocks import (
    MAX_SECTION_TEXT,
    button,
    context,
    fallback_text,
    pick_blocks,
    section,
)
from bot.slack.escape import mrkdwn_escape, truncate, truncate_lines
from bot.slack.profile import (
    GitHubLookupError,
    describe_schedule,
    find_member,
    forget_member,
    get_or_create_member,
    infer_github_stack,
    inferred_terms,
    last_sent_week,
    next_digest,
    parse_stack,
    set_github,
    set_stack,
    touch,
)
from bot.store.db import session_scope
from bot.store.models import (
    Issue,
    ListSource,
    Member,
    Pick,
)

log = logging.getLogger(__name__)

ACTION_FORGET_CONFIRM = "forget_confirm"
ACTION_FORGET_CANCEL = "forget_cancel"

# (session, settings, member_ids, n) -> picks per member (shaped like match's Recommendation),
# already recorded as Pick rows
# (session, settings, member ids, n, now) -> {member id: picks}
Recommender = Callable[[Session, Settings, list[int], int, datetime], dict[int, Sequence[Any]]]
# (engine, settings) -> a short human summary of the crawl
Crawler = Callable[[Engine, Settings], str]


@dataclass
class Reply:
    """An ephemeral reply: fallback text and optional blocks."""

    text: str
    blocks: list[dict[str, Any]] | None = None
    then: Callable[[], None] | None = None  # slow follow-up work, run on the pool after the reply

    def as_message(self) -> dict[str, Any]:
        """Keyword arguments for `respond()` / `ack()`."""
        message: dict[str, Any] = {"text": self.text, "response_type": "ephemeral"}
        if self.blocks:
            message["blocks"] = self.blocks
        return message


@dataclass
class CommandContext:
    """Everything a sub-command may use."""

    engine: Engine
    settings: Settings
    client: WebClient
    team_id: str
    user_id: str
    recommender: Recommender
    crawler: Crawler
    now: datetime  # read once when the command arrived
    followup: Callable[[Reply], None] = field(default=lambda reply: None)


def default_recommender(
    session: Session, settings: Settings, member_ids: list[int], n: int, now: datetime
) -> dict[int, Sequence[Any]]:
    """Picks from `bot.match.recommend` for several members at once, recorded as on-demand."""
    from bot.match.recommend import recommend, record_picks

    picks = recommend(session, settings, member_ids, n=n, now=now)
    recs = [rec for member_recs in picks.values() for rec in member_recs]
    if recs:
        record_picks(session, recs, "on_demand", now=now)
    return dict(picks)


def default_crawler(engine: Engine, settings: Settings) -> str:
    """Run `bot.github.crawl.crawl` and summarise its report."""
    from bot.github.crawl import crawl

    report = crawl(engine, settings, now=utc_clock())  # an admin's crawl: its own clock reading
    return truncate(str(report), 500)


# -- replies without the database ------------------------------------------------------------


def help_reply(note: str | None = None) -> Reply:
    """The help text, optionally after a one-line note (what went wrong)."""
    lines = [f"• {usage}" for name, usage in c.USAGE.items() if name not in c.ADMIN_SUBCOMMANDS]
    admin = ", ".join(f"`{name}`" for name in sorted(c.ADMIN_SUBCOMMANDS))
    text = "*Matchmaker* finds good first issues you can really take.\n" + "\n".join(lines)
    text += f"\nAdmins also have {admin}."
    blocks = []
    if note:
        blocks.append(section(note))
    blocks.append(section(text))
    return Reply(text=note or "Matchmaker help", blocks=blocks)


def quick_reply(command: c.Command) -> Reply | None:
    """The reply for commands that need no database (sent with the ack), else None."""
    if isinstance(command, c.Help):
        return help_reply()
    if isinstance(command, c.Unknown):
        word = mrkdwn_escape(command.word)
        if command.suggestion:
            note = f"I don't know `{word}`. Did you mean `{command.suggestion}`?"
            note += f" {c.USAGE[command.suggestion]}"
        else:
            note = f"I don't know `{word}`."
        return help_reply(note)
    if isinstance(command, c.Invalid):
        return Reply(text=f"{command.message} Usage: {command.usage}")
    return None


# -- replies with the database ---------------------------------------------------------------


def slack_timezone(client: WebClient, user_id: str) -> str | None:
    """The user's timezone from their Slack profile (None when Slack can't tell)."""
    try:
        tz = (client.users_info(user=user_id).get("user") or {}).get("tz")
    except SlackApiError:
        return None
    return c.parse_timezone(str(tz)) if tz else None


def _member(session: Session, ctx: CommandContext) -> Member:
    """The member, created on first contact with their Slack timezone for the digest."""
    member = find_member(session, ctx.team_id, ctx.user_id)
    if member is not None:
        return member
    return get_or_create_member(
        session, ctx.team_id, ctx.user_id, timezone=slack_timezone(ctx.client, ctx.user_id)
    )


def execute(command: c.Command, ctx: CommandContext) -> Reply:
    """Run a parsed command that `quick_reply` did not answer and return the ephemeral reply
    (never raises for user errors)."""
    from bot.slack.operators import OPERATORS_ONLY, is_operator

    if isinstance(command, c.AdminLists | c.AdminCrawl) and not is_operator(
        ctx.settings, ctx.team_id, ctx.user_id
    ):
        return Reply(text=OPERATORS_ONLY)
    if (
        isinstance(command, c.AdminStats)
        and not is_operator(ctx.settings, ctx.team_id, ctx.user_id)
        and not is_admin(
            ctx.client,
            ctx.user_id,
            admin_group=ctx.settings.slack_admin_group,
            team_id=ctx.team_id,
        )
    ):
        return Reply(text="Only workspace admins can do that.")
    handler = _HANDLERS.get(type(command))
    if handler is None and isinstance(command, c.ReleaseHolds):
        from bot.slack.holds import release_reply  # imports this module: load it on use

        handler = release_reply
    if handler is None:
        from bot.slack.people import PEOPLE_HANDLERS  # imports this module: load it on use

        handler = PEOPLE_HANDLERS[type(command)]
    return handler(command, ctx)


def _label(term: str) -> str:
    return get_taxonomy().label(term)  # the taxonomy parse_stack used when the stack was saved


MAX_INFERRED_TERMS = 8


def stack_summary(member: Member | None) -> str:
    """The member's typed stack as display names, then what GitHub added (escaped), or
    "not set": `Python, PostgreSQL; from your GitHub: Go (inferred from 2 public repos)`."""
    if member is None:
        return "not set"
    typed = [_label(t) for t in [*(member.languages or {}), *(member.topics or {})]]
    inferred = inferred_terms(member)[:MAX_INFERRED_TERMS]
    if not typed and not inferred:
        return "not set"
    parts = [", ".join(typed)] if typed else []
    if inferred:
        explanation = (member.inferred or {}).get("explanation") or "inferred"
        parts.append(f"from your GitHub: {', '.join(inferred)} ({explanation})")
    return mrkdwn_escape("; ".join(parts))


def _show_stack(command: c.ShowStack, ctx: CommandContext) -> Reply:
    with session_scope(ctx.engine) as session:
        member = find_member(session, ctx.team_id, ctx.user_id)
        stack = stack_summary(member)
    return Reply(text=f"Your stack: {stack}. Change it with {c.USAGE['stack']}")


def _set_stack(command: c.SetStack, ctx: CommandContext) -> Reply:
    stack = parse_stack(command.text)
    unknown = ", ".join(f"`{mrkdwn_escape(truncate(w, 40))}`" for w in stack.unknown[:10])
    if stack.empty:
        return Reply(
            text=f"I didn't recognise any language or topic in that ({unknown or 'nothing'}). "
            f"Try {c.USAGE['stack']}"
        )
    from bot.people.posts import offer_blocks

    with session_scope(ctx.engine) as session:
        member = _member(session, ctx)
        first_stack = not member.stack_text
        set_stack(member, command.text, stack.languages, stack.topics)
        session.add(member)
        summary = stack_summary(member)
        offer = offer_blocks(session, ctx.settings, member, first_stack=first_stack)
    text = f"Saved. Your stack: {summary}."
    if unknown:
        text += f" I didn't recognise {unknown}; it is ignored."
    return Reply(text=text, blocks=[section(text), *offer] if offer else None)


def _show_level(command: c.ShowLevel, ctx: CommandContext) -> Reply:
    with session_scope(ctx.engine) as session:
        member = find_member(session, ctx.team_id, ctx.user_id)
        level = member.level if member else "first-timer (default)"
    return Reply(text=f"Your level: {level}. Change it with {c.USAGE['level']}")


def _set_level(command: c.SetLevel, ctx: CommandContext) -> Reply:
    with session_scope(ctx.engine) as session:
        member = _member(session, ctx)
        member.level = command.level
        touch(member)
        session.add(member)
    return Reply(text=f"Saved. Your level: {command.level}.")


def inference_line(member: Member) -> str:
    """What GitHub told us about the member's stack, as one escaped sentence ("" if nothing)."""
    inferred = member.inferred or {}
    if inferred.get("error"):
        error = str(inferred["error"]).rstrip(".")
        return mrkdwn_escape(f"Last GitHub check failed: {error}.")
    if not inferred.get("explanation"):
        return ""
    terms = inferred_terms(member, skip_typed=False)[:MAX_INFERRED_TERMS]
    explanation = str(inferred["explanation"])
    explanation = explanation[:1].upper() + explanation[1:]
    if not terms:
        return mrkdwn_escape(f"{explanation}: no language or topic I know.")
    return mrkdwn_escape(f"{explanation}: {', '.join(terms)}") + " (your typed stack still wins)."


def github_summary(member: Member | None) -> str:
    """`login`, with the last failed GitHub check if any (escaped), or "not linked"."""
    if member is None or not member.github_login:
        return "not linked"
    error = str((member.inferred or {}).get("error") or "").rstrip(".")
    suffix = f" (last GitHub check failed: {error})" if error else ""
    return mrkdwn_escape(f"{member.github_login}{suffix}")


def _show_github(command: c.ShowGitHub, ctx: CommandContext) -> Reply:
    with session_scope(ctx.engine) as session:
        member = find_member(session, ctx.team_id, ctx.user_id)
        login = member.github_login if member else None
        inferred = inference_line(member) if member and login else ""
    if not login:
        return Reply(text=f"No GitHub login linked. {c.USAGE['github']}")
    return Reply(text=f"Linked GitHub login: {mrkdwn_escape(login)}. {inferred}".strip())


def _set_github(command: c.SetGitHub, ctx: CommandContext) -> Reply:
    if command.login is None:
        with session_scope(ctx.engine) as session:
            member = find_member(session, ctx.team_id, ctx.user_id)
            if member is not None:
                set_github(member, None)
                session.add(member)
        return Reply(text="Unlinked your GitHub login.")
    # Read GitHub before touching the database: a failure changes nothing.
    try:
        inferred = infer_github_stack(command.login, ctx.settings, ctx.now)
    except GitHubLookupError as exc:
        return Reply(text=f"{mrkdwn_escape(str(exc))} Nothing changed.")
    login = str(inferred.get("login") or command.login)  # GitHub's spelling
    with session_scope(ctx.engine) as session:
        member = _member(session, ctx)
        set_github(member, login, inferred)
        session.add(member)
        line = inference_line(member)
    return Reply(text=f"Linked {mrkdwn_escape(login)}. {line}".strip())


def picks_reply(recs: Sequence[Any], member: Member) -> Reply:
    """The ephemeral reply with pick cards (and a tip when the profile is empty)."""
    blocks = pick_blocks(recs, header="Your picks")
    if not (member.languages or member.topics or member.github_login):
        blocks.insert(1, context(f"Tip: tell me your stack for better picks: {c.USAGE['stack']}"))
    return Reply(text=fallback_text(recs), blocks=blocks)


def _picks(command: c.Picks, ctx: CommandContext) -> Reply:
    n = command.n or ctx.settings.digest.picks
    with session_scope(ctx.engine) as session:
        member = _member(session, ctx)
        assert member.id is not None
        recs = ctx.recommender(session, ctx.settings, [member.id], n, ctx.now).get(member.id, [])
    return picks_reply(recs, member)


def _show_digest(command: c.ShowDigest, ctx: CommandContext) -> Reply:
    with session_scope(ctx.engine) as session:
        member = find_member(session, ctx.team_id, ctx.user_id)
        schedule = describe_schedule(member) if member else "not set up yet"
    return Reply(text=f"Weekly digest: {schedule}. {c.USAGE['digest']}")


def _set_digest(command: c.SetDigest, ctx: CommandContext) -> Reply:
    with session_scope(ctx.engine) as session:
        member = _member(session, ctx)
        member.digest_enabled = command.enabled
        if command.day:
            member.digest_day = command.day
        if command.time:
            member.digest_time = command.time
        if command.timezone:
            member.timezone = command.timezone
        if command.enabled:
            member.ignored_digests = 0
            member.digest_every_weeks = 1
        touch(member)
        session.add(member)
        schedule = describe_schedule(member)
        upcoming = next_digest(member, ctx.now, last_sent_week=last_sent_week(session, member))
    if upcoming is None:
        return Reply(text="Weekly digest turned off. `/matchmaker digest weekly` turns it on.")
    return Reply(text=f"Weekly digest: {schedule}. Next one: {upcoming:%a %d %b %H:%M}.")


def _last_picks(session: Session, member_id: int, limit: int = 10) -> list[tuple[Pick, Issue]]:
    rows = session.exec(
        select(Pick, Issue)
        .join(Issue, col(Issue.id) == col(Pick.issue_id))
        .where(Pick.member_id == member_id)
        .order_by(col(Pick.created_at).desc(), col(Pick.id).desc())
        .limit(limit)
    ).all()
    return [(pick, issue) for pick, issue in rows]


STATE_LABELS: dict[str, str] = {state.value: label for state, label in PICK_STATE_LABELS.items()}


def pick_line(pick: Pick, issue: Issue, reason: Reason | None = None) -> str:
    """`• <url|title> — interested` (escaped), with why it is no longer available if it isn't."""
    from bot.slack.escape import link

    line = f"• {link(issue.url, issue.title, max_label=120)} — {STATE_LABELS.get(pick.state, '')}"
    if reason is not None and pick.state != PickState.TAKEN:
        line += f" · not available: {reason_text(reason)}"
    return line


def pick_reasons(
    session: Session, settings: Settings, member: Member, issue_ids: list[int], now: datetime
) -> dict[int, Reason | None]:
    """Why each of `issue_ids` is unavailable to `member` now (None: available)."""
    assert member.id is not None
    viewer = Viewer(member.id, member.team_id)
    return issue_reasons(session, issue_ids, Policy.at(settings, now), viewer)


def _status(command: c.Status, ctx: CommandContext) -> Reply:
    with session_scope(ctx.engine) as session:
        member = find_member(session, ctx.team_id, ctx.user_id)
        if member is None:
            return Reply(text=f"I don't know you yet. Start with {c.USAGE['stack']}")
        assert member.id is not None
        picks = _last_picks(session, member.id)
        reasons = pick_reasons(
            session, ctx.settings, member, [p.issue_id for p, _ in picks], ctx.now
        )
        lines = [
            f"*Stack:* {stack_summary(member)}",
            f"*Level:* {member.level}",
            f"*GitHub:* {github_summary(member)}",
            f"*Digest:* {describe_schedule(member)}",
        ]
        upcoming = next_digest(member, ctx.now, last_sent_week=last_sent_week(session, member))
        if upcoming is not None:
            lines.append(f"*Next digest:* {upcoming:%a %d %b %H:%M %Z}")
        from bot.slack.holds import holds_lines

        held = holds_lines(session, member, ctx.now)
        if held:
            lines.append("*Held for you:*")
            lines.extend(held)
        lines.append("*Last picks:*" if picks else "*Last picks:* none yet")
        lines.extend(pick_line(p, i, reasons.get(p.issue_id)) for p, i in picks)
    text = truncate_lines("\n".join(lines), MAX_SECTION_TEXT)
    return Reply(text="Your Matchmaker status", blocks=[section(text)])


def _forget(command: c.Forget, ctx: CommandContext) -> Reply:
    text = (
        "This deletes everything I store about you: stack, level, GitHub login, digest "
        "settings, picks and feedback, the issues held for you, mentor and buddy settings, your "
        "do-not-pair list and your intros. Sure?"
    )
    confirm = button("Yes, delete everything", ACTION_FORGET_CONFIRM, "forget", style="danger")
    cancel = button("Cancel", ACTION_FORGET_CANCEL, "cancel")
    actions = {"type": "actions", "block_id": "forget", "elements": [confirm, cancel]}
    blocks = [section(text), actions]
    return Reply(text="Delete everything Matchmaker stores about you?", blocks=blocks)


def forget(engine: Engine, team_id: str, user_id: str) -> Reply:
    """Delete the member's data (after the confirmation click)."""
    with session_scope(engine) as session:
        member = find_member(session, team_id, user_id)
        if member is None:
            return Reply(text="There was nothing stored about you.")
        forget_member(session, member)
    return Reply(text="Done: everything I stored about you is deleted.")


def _lists(command: c.AdminLists, ctx: CommandContext) -> Reply:
    with session_scope(ctx.engine) as session:
        sources = session.exec(select(ListSource).order_by(col(ListSource.id))).all()
        lines = []
        for source in sources:
            fetched = "never"
            if source.last_fetched_at:
                fetched = f"{source.last_fetched_at:%Y-%m-%d %H:%M} UTC"
            counts = source.counts or {}
            entries = counts.get("entries", counts.get("total", "?"))
            state = "" if source.enabled else " (disabled)"
            error = (
                f" — error: {mrkdwn_escape(truncate(source.last_error, 80))}"
                if (source.last_error)
                else ""
            )
            lines.append(
                f"• {mrkdwn_escape(source.url)}{state}: {entries} entries, fetched {fetched}{error}"
            )
    if not lines:
        configured = ", ".join(mrkdwn_escape(x) for x in ctx.settings.catalog.lists)
        return Reply(text=f"No list crawled yet. Configured: {configured}")
    return Reply(text="Crawled lists", blocks=[section("*Crawled lists*\n" + "\n".join(lines))])


def _crawl(command: c.AdminCrawl, ctx: CommandContext) -> Reply:
    def run() -> None:
        try:
            with exclusive_crawl(ctx.engine):
                summary = ctx.crawler(ctx.engine, ctx.settings)
            ctx.followup(Reply(text=f"Crawl finished: {mrkdwn_escape(summary)}"))
        except CrawlRunning as busy:
            from bot.slack.operators import crawl_busy_text

            ctx.followup(Reply(text=crawl_busy_text(busy)))
        except Exception as exc:  # report, never crash the worker
            log.exception("crawl from Slack failed")
            ctx.followup(Reply(text=f"Crawl failed: {mrkdwn_escape(type(exc).__name__)}"))

    return Reply(text="Crawl started. I'll tell you when it's done.", then=run)


def _stats(command: c.AdminStats, ctx: CommandContext) -> Reply:
    from bot.slack.operators import is_operator, stats_text

    everyone = is_operator(ctx.settings, ctx.team_id, ctx.user_id)
    text = stats_text(ctx.engine, ctx.settings, ctx.now, None if everyone else ctx.team_id)
    from bot.people.stats import people_stats

    with session_scope(ctx.engine) as session:  # people figures: always this workspace's own
        text += "\n" + "\n".join(people_stats(session, ctx.team_id).lines())
        quality = quality_text(session, None if everyone else ctx.team_id, ctx.now)
    return Reply(text="Matchmaker stats", blocks=[section(text), section(quality)])


def quality_text(session: Session, team_id: str | None, now: datetime) -> str:
    """The measured-quality block of `/matchmaker stats` (issue 19), last 8 ISO weeks."""
    from bot.match.quality import overall_hit, quality_lines, weekly_quality

    weeks = weekly_quality(session, team_id, now, 8)
    scope = "this workspace" if team_id is not None else "all workspaces"
    lines = quality_lines(weeks) or ["no picks in the last 8 weeks"]
    head = (
        f"*Quality ({scope}, per ISO week):* hit@3 within 60 days "
        f"{overall_hit(weeks, 'hit@3/60d'):.0%} of members with a GitHub login"
    )
    return truncate_lines("\n".join([head, *lines]), MAX_SECTION_TEXT)


def _show_celebrate(command: c.ShowCelebrate, ctx: CommandContext) -> Reply:
    from bot.deliver.celebrate import celebrate_enabled

    with session_scope(ctx.engine) as session:
        member = find_member(session, ctx.team_id, ctx.user_id)
        on = bool(member and member.id and celebrate_enabled(session, member.id))
    return Reply(text=f"Merge celebrations are *{'on' if on else 'off'}*. {c.USAGE['celebrate']}")


def _set_celebrate(command: c.SetCelebrate, ctx: CommandContext) -> Reply:
    from bot.deliver.celebrate import set_celebrate

    with session_scope(ctx.engine) as session:
        member = _member(session, ctx)
        session.flush()
        set_celebrate(session, member, command.on, ctx.now)
        linked = bool(member.github_login)
    if not command.on:
        return Reply(text="Merge celebrations are off. Nothing is posted about your PRs.")
    channel = ctx.settings.celebrate.channel_for(ctx.team_id)
    where = f" and a post in <#{channel}>" if channel else ""
    note = "" if linked else f" Link your GitHub login first: {c.USAGE['github']}"
    return Reply(
        text=f"Merge celebrations are on: a DM{where} when a PR of yours merges in a catalog "
        f"project.{note}"
    )


_HANDLERS: dict[type, Callable[[Any, CommandContext], Reply]] = {
    c.ShowStack: _show_stack,
    c.SetStack: _set_stack,
    c.ShowLevel: _show_level,
    c.SetLevel: _set_level,
    c.ShowGitHub: _show_github,
    c.SetGitHub: _set_github,
    c.Picks: _picks,
    c.ShowDigest: _show_digest,
    c.SetDigest: _set_digest,
    c.Status: _status,
    c.Forget: _forget,
    c.AdminLists: _lists,
    c.AdminCrawl: _crawl,
    c.AdminStats: _stats,
    c.ShowCelebrate: _show_celebrate,
    c.SetCelebrate: _set_celebrate,
}


def slack_error(exc: SlackApiError) -> str:
    """The `error` code of a Slack API error."""
    return str(exc.response.get("error", "unknown_error"))
