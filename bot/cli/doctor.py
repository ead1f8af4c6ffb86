"""`matchmaker doctor`: check configuration, database, GitHub and Slack; a fix for each failure.

Every check makes at most one or two cheap, read-only API calls (`/rate_limit` costs no GitHub
budget; `auth.test` and `apps.connections.open` are Tier 1+ Slack methods). Nothing printed
contains a secret: details come from API answers and pass through the log redactor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import httpx
import typer
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.cli.context import EXIT_FAILURE, console, describe_database
from bot.config import ConfigError, Settings, load_settings
from bot.logs import Redactor, secret_values
from bot.store import migrate
from bot.store.db import make_engine
from bot.words import plural

Status = Literal["ok", "warn", "fail", "skip"]
MARKS: dict[Status, str] = {
    "ok": "[green]✓[/]",
    "warn": "[yellow]![/]",
    "fail": "[bold red]✗[/]",
    "skip": "[dim]–[/]",
}
BROAD_GITHUB_SCOPES = ("repo", "delete_repo", "workflow", "admin:org", "admin:repo_hook", "user")
TIMEOUT_S = 10.0


@dataclass
class Item:
    """One line of the checklist."""

    name: str
    status: Status
    detail: str
    fix: str = ""


def check_config() -> tuple[Item, Settings | None]:
    """Load the settings; a problem is a failure listing every bad key."""
    try:
        current = load_settings()
    except ConfigError as exc:
        fix = "correct the values above in the environment or config/matchmaker.toml"
        return Item("config", "fail", "; ".join(exc.problems), fix), None
    mode = f"Slack {current.slack_mode} mode" if current.slack_bot_token else "console delivery"
    return Item("config", "ok", f"timezone {current.timezone}, {mode}"), current


def check_database(current: Settings) -> list[Item]:
    """Reachability, then whether the schema is at this version's head revision."""
    where = describe_database(current)
    if current.uses_embedded_db:
        path = Path(current.db_url.removeprefix("sqlite:///"))
        if not path.exists():
            fix = "run `matchmaker db upgrade` (or start `matchmaker serve`, which migrates)"
            return [Item("database", "warn", f"{where} does not exist yet", fix)]
    engine = make_engine(current.db_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = migrate.current_revision(engine)
    except (SQLAlchemyError, OSError) as exc:
        fix = (
            "start the database or correct DATABASE_URL (with docker compose: "
            "`docker compose -f docker/compose.yaml up -d postgres`)"
        )
        return [Item("database", "fail", f"{where} unreachable: {_first_line(exc)}", fix)]
    finally:
        engine.dispose()
    items = [Item("database", "ok", f"{where} reachable")]
    if revision is not None:
        items += _last_digest_items(current)
    head = migrate.head_revision()
    known = _known_revisions()
    if revision == head:
        items.append(Item("migrations", "ok", f"at head revision {head}"))
    elif revision is not None and revision not in known:
        fix = "run the bot version that created it, or restore a backup made before the upgrade"
        items.append(Item("migrations", "fail", f"unknown revision {revision} (newer?)", fix))
    else:
        fix = "run `matchmaker db upgrade` (`serve` also migrates on start)"
        items.append(Item("migrations", "warn", f"at {revision or 'empty'}, head is {head}", fix))
    return items


def _last_digest_items(current: Settings) -> list[Item]:
    """Whether the newest digest run stopped because Slack refused the bot token."""
    from sqlmodel import Session

    from bot.web.metrics import last_digest_run

    engine = make_engine(current.db_url)
    try:
        with Session(engine) as session:
            run = last_digest_run(session)
    except Exception:  # an older schema: `migrations` below says what to do
        return []
    finally:
        engine.dispose()
    if run is None or run.status != "token_error":
        return []
    fix = (
        "reinstall the app or copy a valid bot token into SLACK_BOT_TOKEN; "
        "the digests are kept pending and go out on the next run"
    )
    detail = f"stopped at {run.started_at:%Y-%m-%d %H:%M} UTC: {run.error}"
    return [Item("last digest run", "fail", detail, fix)]


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrate.alembic_config_for_scripts())
    return {rev.revision for rev in scripts.walk_revisions()}


def check_github(current: Settings) -> list[Item]:
    """Token accepted, its scopes (X-OAuth-Scopes), and the rate budget (/rate_limit, free)."""
    token = current.github_token.get_secret_value() if current.github_token else None
    headers = {"Accept": "application/vnd.github+json", "User-Agent": "matchmaker-doctor"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with httpx.Client(
            base_url=current.github_api_url.rstrip("/"), headers=headers, timeout=TIMEOUT_S
        ) as client:
            response = client.get("/rate_limit")
    except httpx.HTTPError as exc:
        fix = f"check network access to {current.github_api_url} (proxy, firewall, DNS)"
        return [Item("github api", "fail", f"unreachable: {_first_line(exc)}", fix)]
    if response.status_code == 401:
        fix = "create a new token (no scopes needed for public repositories); set GITHUB_TOKEN"
        return [Item("github token", "fail", "rejected by GitHub (401 Bad credentials)", fix)]
    if response.status_code != 200:
        fix = "retry later; if it persists check GITHUB_API_URL / your GitHub Enterprise server"
        detail = f"/rate_limit answered HTTP {response.status_code}"
        return [Item("github api", "fail", detail, fix)]
    items = [_github_token_item(token, response.headers.get("X-OAuth-Scopes"))]
    items.append(_github_budget_item(token, response.json()))
    return items


def _github_token_item(token: str | None, scopes_header: str | None) -> Item:
    if not token:
        fix = "optional: set GITHUB_TOKEN (a token without scopes) for a fast GraphQL crawl"
        detail = "not set: the crawl uses unauthenticated REST search (10 requests/min, slow)"
        return Item("github token", "skip", detail, fix)
    if scopes_header is None:
        return Item("github token", "ok", "accepted (fine-grained or app token: no scope list)")
    scopes = [s.strip() for s in scopes_header.split(",") if s.strip()]
    broad = [s for s in scopes if s in BROAD_GITHUB_SCOPES or s.startswith(("admin:", "write:"))]
    if broad:
        fix = "the bot only reads public data: use a token with no scopes"
        detail = f"accepted, broader than needed: {', '.join(broad)}"
        return Item("github token", "warn", detail, fix)
    shown = ", ".join(scopes) if scopes else "none (read-only public access, all the bot needs)"
    return Item("github token", "ok", f"accepted; scopes: {shown}")


def _github_budget_item(token: str | None, payload: dict) -> Item:
    resources = payload.get("resources") or {}
    name = "graphql" if token else "search"
    bucket = resources.get(name) or resources.get("core") or payload.get("rate") or {}
    remaining, limit = bucket.get("remaining"), bucket.get("limit")
    if remaining is None or limit is None:
        return Item("github budget", "warn", "rate limit not reported", "")
    reset = bucket.get("reset")
    when = datetime.fromtimestamp(reset, UTC).strftime("%H:%M UTC") if reset else "the next hour"
    detail = f"{name}: {remaining}/{limit} left, resets {when}"
    if remaining == 0:
        return Item("github budget", "fail", detail, f"wait until {when}; another client spends it")
    if remaining < limit * 0.1:
        return Item("github budget", "warn", detail, "another client spends this token's budget")
    return Item("github budget", "ok", detail)


def _slack_client(current: Settings, token: str) -> WebClient:
    base = current.slack_api_url.rstrip("/") + "/"
    return WebClient(token=token, base_url=base, timeout=int(TIMEOUT_S))


def check_slack(current: Settings) -> list[Item]:
    """The bot token (auth.test) and Socket Mode (apps.connections.open) or the signing secret."""
    bot = current.slack_bot_token.get_secret_value() if current.slack_bot_token else None
    app = current.slack_app_token.get_secret_value() if current.slack_app_token else None
    if not bot:
        detail = "SLACK_BOT_TOKEN not set: digests are printed to the console"
        return [Item("slack bot token", "skip", detail, "optional: set SLACK_BOT_TOKEN (xoxb-…)")]
    items = [_slack_call("slack bot token", lambda: _auth_test(current, bot), bot, "xoxb-")]
    if current.digest.channel and items[0].status == "ok":
        items.append(_channel_item(current, bot, current.digest.channel))
    if current.slack_mode == "http":
        if current.slack_signing_secret is None:
            fix = "copy the Signing Secret (Basic Information) into SLACK_SIGNING_SECRET"
            items.append(Item("slack signing secret", "fail", "not set (HTTP mode needs it)", fix))
        else:
            items.append(Item("slack signing secret", "ok", "set (HTTP mode)"))
        return items
    if not app:
        fix = "create an app-level token with connections:write; set SLACK_APP_TOKEN (xapp-…)"
        items.append(Item("slack socket mode", "fail", "SLACK_APP_TOKEN not set", fix))
        return items
    items.append(
        _slack_call("slack socket mode", lambda: _connections_open(current, app), app, "xapp-")
    )
    return items


def _channel_item(current: Settings, token: str, channel: str) -> Item:
    """Can the bot post in the community channel? It must be a member (conversations.info)."""
    name = "slack channel"
    invite = f"invite the bot: type `/invite @matchmaker` in {channel} (see docs/slack.md)"
    try:
        info = _slack_client(current, token).conversations_info(channel=channel)["channel"]
    except SlackApiError as exc:
        error = str(exc.response.get("error", "unknown_error"))
        if error == "missing_scope":
            needed = exc.response.get("needed", "channels:read")
            fix = f"add the {needed} scope (see config/slack-manifest.yaml) and reinstall the app"
        elif error == "channel_not_found":
            fix = "set digest.channel to the channel id (C…), and invite the bot if it is private"
        else:
            fix = SLACK_FIXES.get(error, "check digest.channel and the app's configuration")
        return Item(name, "fail", f"{channel}: Slack answered {error}", fix)
    except (OSError, SlackClientError) as exc:  # URLError and timeouts are OSErrors
        return Item(name, "fail", f"unreachable: {_first_line(exc)}", "check network access")
    if info.get("is_archived"):
        return Item(name, "fail", f"{channel} is archived", "choose another digest.channel")
    if not info.get("is_member"):
        return Item(name, "fail", f"the bot is not a member of {channel}", invite)
    return Item(name, "ok", f"the bot can post in {channel}")


def _auth_test(current: Settings, token: str) -> str:
    answer = _slack_client(current, token).auth_test()
    return f"accepted: bot {answer.get('user', '?')} in workspace {answer.get('team', '?')}"


def _connections_open(current: Settings, token: str) -> str:
    _slack_client(current, token).apps_connections_open(app_token=token)
    return "apps.connections.open gave a WebSocket URL"


SLACK_FIXES = {
    "invalid_auth": "the token is wrong or revoked: copy it again from the app's settings",
    "not_authed": "the token is empty: set it in the environment",
    "account_inactive": "the app was uninstalled or the user deactivated: reinstall the app",
    "token_revoked": "the token was revoked: reinstall the app and copy the new token",
    "not_allowed_token_type": "wrong token kind: SLACK_BOT_TOKEN is xoxb-…, SLACK_APP_TOKEN xapp-…",
    "missing_scope": "add the scope (connections:write for xapp-) and reinstall the app",
}


def _slack_call(name: str, call: Callable[[], str], token: str, prefix: str) -> Item:
    shape = "" if token.startswith(prefix) else f" (expected a {prefix}… token)"
    try:
        return Item(name, "ok", call() + shape)
    except SlackApiError as exc:
        error = str(exc.response.get("error", "unknown_error"))
        fix = SLACK_FIXES.get(error, "check the token and the app's configuration at api.slack.com")
        return Item(name, "fail", f"Slack answered {error}{shape}", fix)
    except (OSError, SlackClientError) as exc:  # slack_sdk uses urllib: URLError, timeouts
        fix = "check network access to the Slack API (proxy, firewall, DNS)"
        return Item(name, "fail", f"unreachable: {_first_line(exc)}", fix)


def _first_line(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip()
    return (text_.splitlines()[0] if text_ else type(exc).__name__)[:300]


def run_checks() -> list[Item]:
    """All checks in order; later ones are skipped when the config cannot be loaded."""
    config, current = check_config()
    if current is None:
        return [config]
    return [config, *check_database(current), *check_github(current), *check_slack(current)]


def print_checklist(items: list[Item], redactor: Redactor) -> None:
    """The checklist, one line per check and an indented fix under each problem."""
    console.print("[bold]Matchmaker doctor[/]")
    width = max(len(item.name) for item in items)
    for item in items:
        line = f"{item.name.ljust(width)}  {redactor.redact_text(item.detail)}"
        console.print(f" {MARKS[item.status]} ", end="")
        console.print(line, markup=False, highlight=False, soft_wrap=True)
        if item.fix and item.status != "ok":
            console.print(
                f"     fix: {redactor.redact_text(item.fix)}",
                markup=False,
                highlight=False,
                soft_wrap=True,
                style="dim" if item.status == "skip" else None,
            )


def doctor() -> None:
    """Check config, database and migrations, GitHub token and budget, Slack tokens and Socket
    Mode; print a checklist with a fix for each problem. Exit code 1 when a check fails."""
    items = run_checks()
    try:
        redactor = Redactor(secret_values(load_settings()))
    except ConfigError:
        redactor = Redactor()
    print_checklist(items, redactor)
    failed = [item.name for item in items if item.status == "fail"]
    if failed:
        console.print(f"[bold red]{plural(len(failed), 'check')} failed:[/] {', '.join(failed)}")
        raise typer.Exit(EXIT_FAILURE)
    console.print("[green]All checks passed.[/]")
