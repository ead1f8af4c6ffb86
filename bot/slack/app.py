"""The Bolt app: `/matchmaker`, pick-card buttons, App Home, the profile modal.

`build_app(settings, engine)` wires everything. Socket Mode (app-level token) is the default;
HTTP mode verifies Slack's signatures at `/slack/events` and can install into several
workspaces via OAuth (installations stored in our database). Every listener acks at once;
database and Slack work runs after the ack (lazy listeners on their own thread pool).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine

from bot.config.settings import ConfigError, Settings
from bot.core.availability import reason_text
from bot.core.clock import Clock, utc_clock
from bot.core.vocabulary import FeedbackKind
from bot.deliver.taken import IssueChecker, confirm_report, default_checker, limit_message
from bot.slack import commands as c
from bot.slack.actions import FEEDBACK_KIND, parse_issue_id, record_feedback, rerender
from bot.slack.blocks import PICK_ACTIONS, mark_pick, sibling_ids
from bot.slack.handlers import (
    ACTION_FORGET_CANCEL,
    ACTION_FORGET_CONFIRM,
    CommandContext,
    Crawler,
    Recommender,
    Reply,
    default_crawler,
    default_recommender,
    execute,
    forget,
    quick_reply,
)
from bot.slack.home import (
    ACTION_EDIT_PROFILE,
    ACTION_HOME_PICKS,
    PROFILE_MODAL,
    home_view,
    profile_modal,
    save_profile,
)
from bot.slack.install_store import SqlInstallationStore, SqlOAuthStateStore
from bot.slack.people import after_interest, register_people
from bot.slack.picks_queue import PicksQueue, PicksRequest
from bot.slack.tenancy import require_workspace
from bot.slack.token_box import TokenBox

log = logging.getLogger(__name__)

COMMAND = "/matchmaker"
# Every scope a Web API method we call needs (kept equal to config/slack-manifest.yaml).
BOT_SCOPES = [
    "commands",
    "chat:write",
    "im:write",
    "im:history",
    "channels:history",
    "groups:history",
    "channels:read",
    "groups:read",
    "users:read",
    "usergroups:read",
    "mpim:write",
]
LAZY_WORKERS = 4  # work after the ack (DB updates, Home, card updates); picks have their own
# single batching worker (bot.slack.picks_queue) so CPU-heavy matching never starves the acks
ERROR_REPLY = "Sorry, something went wrong on my side. Please try again in a minute."


def uses_oauth(settings: Settings) -> bool:
    """True for multi-workspace installs (HTTP mode with an OAuth client id and secret)."""
    return bool(
        settings.slack_mode == "http" and settings.slack_client_id and settings.slack_client_secret
    )


def check_settings(settings: Settings) -> None:
    """Raise `ConfigError` naming every missing Slack setting for the chosen mode."""
    problems = []
    if settings.slack_mode == "http":
        if settings.slack_signing_secret is None:
            problems.append("SLACK_SIGNING_SECRET: required in HTTP mode")
        if uses_oauth(settings):
            try:
                TokenBox.from_settings(settings)
            except ConfigError as exc:
                problems.extend(exc.problems)
        if not uses_oauth(settings) and settings.slack_bot_token is None:
            problems.append(
                "SLACK_BOT_TOKEN: required in HTTP mode (or SLACK_CLIENT_ID + SLACK_CLIENT_SECRET "
                "for OAuth installs)"
            )
    else:
        if settings.slack_bot_token is None:
            problems.append("SLACK_BOT_TOKEN: required (xoxb-…)")
        if settings.slack_app_token is None:
            problems.append("SLACK_APP_TOKEN: required in Socket Mode (xapp-…)")
    if problems:
        raise ConfigError(problems)


def build_app(
    settings: Settings,
    engine: Engine,
    client: WebClient | None = None,
    *,
    recommender: Recommender | None = None,
    crawler: Crawler | None = None,
    issue_checker: IssueChecker | None = default_checker,
    clock: Clock = utc_clock,
) -> App:
    """A Bolt `App` for `settings` (Socket Mode or HTTP, optional OAuth), bound to `engine`.

    `client` overrides the Web API client (tests point it at the fake Slack); `issue_checker`
    re-checks an issue reported "Already taken" on GitHub (None: no re-check); every listener
    reads `clock` once when its event arrives and passes that time down.
    """
    oauth = uses_oauth(settings)
    if client is None:
        token = None
        if settings.slack_bot_token is not None and not oauth:
            token = settings.slack_bot_token.get_secret_value()
        client = WebClient(token=token, base_url=settings.slack_api_url)
    secret = settings.slack_signing_secret
    kwargs: dict[str, Any] = {
        "client": client,
        "signing_secret": secret.get_secret_value() if secret is not None else "",
        "request_verification_enabled": settings.slack_mode == "http",
        # Acks run in the request's own thread (ours are quick: parse, then ack) so they never
        # queue behind slow lazy work; lazy listeners run on a separate, bounded pool.
        "process_before_response": True,
        "listener_executor": ThreadPoolExecutor(
            max_workers=LAZY_WORKERS, thread_name_prefix="slack"
        ),
        "logger": log,
    }
    if oauth:
        assert settings.slack_client_secret is not None
        kwargs["oauth_settings"] = OAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            scopes=BOT_SCOPES,
            installation_store=SqlInstallationStore(engine, TokenBox.from_settings(settings)),
            state_store=SqlOAuthStateStore(engine),
            installation_store_bot_only=True,
        )
    app = App(**kwargs)
    app.use(require_workspace)
    register(
        app,
        settings,
        engine,
        recommender or default_recommender,
        crawler or default_crawler,
        issue_checker,
        clock,
    )
    return app


def _team(context: BoltContext, body: dict[str, Any]) -> str:
    return str(
        context.team_id
        or body.get("team_id")
        or (body.get("team") or {}).get("id")
        or (body.get("user") or {}).get("team_id")
        or ""
    )


def _user(context: BoltContext, body: dict[str, Any]) -> str:
    return str(context.user_id or body.get("user_id") or (body.get("user") or {}).get("id") or "")


def register(
    app: App,
    settings: Settings,
    engine: Engine,
    recommender: Recommender,
    crawler: Crawler,
    issue_checker: IssueChecker | None = default_checker,
    clock: Clock = utc_clock,
) -> None:
    """Attach all listeners to `app`."""
    picks_queue = PicksQueue(engine, settings, recommender, clock)

    def publish_home(client: WebClient, team_id: str, user_id: str) -> None:
        try:
            view = home_view(engine, settings, team_id, user_id, now=clock())
            client.views_publish(user_id=user_id, view=view)
        except SlackApiError as exc:
            log.warning("views.publish failed: %s", exc.response.get("error"))

    # -- /matchmaker -----------------------------------------------------------------------------

    def command_ack(ack: Ack, command: dict[str, Any]) -> None:
        reply = quick_reply(c.parse(command.get("text")))
        if reply is not None:
            ack(**reply.as_message())
        else:
            ack()

    def command_run(
        command: dict[str, Any],
        body: dict[str, Any],
        client: WebClient,
        respond: Respond,
        context: BoltContext,
    ) -> None:
        parsed = c.parse(command.get("text"))
        if quick_reply(parsed) is not None:
            return  # already answered in the ack
        team_id, user_id = _team(context, body), _user(context, body)
        if isinstance(parsed, c.Picks):

            def send_picks(reply: Reply) -> None:
                respond(**reply.as_message())
                publish_home(client, team_id, user_id)

            n = parsed.n or settings.digest.picks
            picks_queue.submit(PicksRequest(team_id, user_id, n, send_picks))
            return

        def followup(reply: Reply) -> None:
            respond(**reply.as_message())

        ctx = CommandContext(
            engine=engine,
            settings=settings,
            client=client,
            team_id=team_id,
            user_id=user_id,
            recommender=recommender,
            crawler=crawler,
            now=clock(),
            followup=followup,
        )
        try:
            reply = execute(parsed, ctx)
        except Exception:
            log.exception("/matchmaker %s failed", type(parsed).__name__)
            reply = Reply(text=ERROR_REPLY)
        respond(**reply.as_message())
        reply.run_then()
        if isinstance(parsed, c.PROFILE_CHANGES):
            publish_home(client, team_id, user_id)  # the Home tab shows the profile

    app.command(COMMAND)(ack=command_ack, lazy=[command_run])

    # -- pick-card buttons -----------------------------------------------------------------------

    def just_ack(ack: Ack) -> None:
        ack()

    def pick_clicked(
        body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        action = (body.get("actions") or [{}])[0]
        action_id = action.get("action_id")
        issue_id = parse_issue_id(action.get("value"))
        if action_id not in FEEDBACK_KIND or issue_id is None:
            return
        team_id, user_id = _team(context, body), _user(context, body)
        now = clock()
        click = record_feedback(engine, settings, team_id, user_id, issue_id, action_id, now=now)
        if click is None:
            respond(text="That issue is gone from my list.", replace_original=False)
            return
        if click.limited:
            respond(text=limit_message(settings), replace_original=False)
            return
        state = click.state
        container = body.get("container") or {}
        message = body.get("message")
        try:
            if container.get("type") == "view":
                publish_home(client, team_id, user_id)
            elif message and not str(container.get("channel_id", "")).startswith("D"):
                # a post in a shared channel: everyone sees it, so answer only the clicker
                text, blocks = rerender(engine, team_id, user_id, [issue_id], now=now)
                respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
            elif message and container.get("channel_id") and container.get("message_ts"):
                client.chat_update(
                    channel=container["channel_id"],
                    ts=container["message_ts"],
                    text=message.get("text") or "Your picks",
                    blocks=mark_pick(message.get("blocks") or [], issue_id, state),
                )
            else:  # ephemeral: Slack doesn't send its blocks back, rebuild them
                ids = sibling_ids(str(action.get("block_id", ""))) or [issue_id]
                text, blocks = rerender(engine, team_id, user_id, ids, now=now)
                respond(text=text, blocks=blocks, replace_original=True)
        except SlackApiError as exc:
            log.warning("updating a pick card failed: %s", exc.response.get("error"))
        if FEEDBACK_KIND[action_id] == FeedbackKind.INTERESTED:  # a mentor for this repo?
            after_interest(engine, settings, client, team_id, click.member_id, issue_id, now)
        if (
            FEEDBACK_KIND[action_id] == FeedbackKind.ALREADY_TAKEN
        ):  # after the card: GitHub may be slow
            confirmed = confirm_report(
                engine, settings, click.member_id, issue_id, now, issue_checker
            )
            if confirmed is not None:
                respond(
                    text=f"Thanks, GitHub confirms it: {reason_text(confirmed)}. "
                    "Nobody will get it now.",
                    replace_original=False,
                )

    for action_id in PICK_ACTIONS:
        app.action(action_id)(ack=just_ack, lazy=[pick_clicked])

    # -- forget ----------------------------------------------------------------------------------

    def forget_confirmed(
        body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        team_id, user_id = _team(context, body), _user(context, body)
        reply = forget(engine, team_id, user_id)
        respond(text=reply.text, replace_original=True)
        publish_home(client, team_id, user_id)

    def forget_cancelled(respond: Respond) -> None:
        respond(text="OK, nothing was deleted.", replace_original=True)

    app.action(ACTION_FORGET_CONFIRM)(ack=just_ack, lazy=[forget_confirmed])
    register_people(app, settings, engine, clock)  # mentor/buddy/intro buttons
    app.action(ACTION_FORGET_CANCEL)(ack=just_ack, lazy=[forget_cancelled])

    # -- App Home --------------------------------------------------------------------------------

    def home_opened(
        event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        if event.get("tab", "home") != "home":
            return
        publish_home(client, _team(context, body), str(event.get("user", "")))

    app.event("app_home_opened")(ack=just_ack, lazy=[home_opened])

    def edit_profile(
        ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        ack()
        # trigger_id expires after 3 s: open the modal right away, not lazily
        view = profile_modal(engine, _team(context, body), _user(context, body))
        try:
            client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))

    app.action(ACTION_EDIT_PROFILE)(edit_profile)

    def home_picks(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        team_id, user_id = _team(context, body), _user(context, body)

        def done(reply: Reply) -> None:
            publish_home(client, team_id, user_id)

        picks_queue.submit(PicksRequest(team_id, user_id, settings.digest.picks, done))

    app.action(ACTION_HOME_PICKS)(ack=just_ack, lazy=[home_picks])

    def profile_submitted(
        ack: Ack,
        body: dict[str, Any],
        view: dict[str, Any],
        client: WebClient,
        context: BoltContext,
    ) -> None:
        team_id, user_id = _team(context, body), _user(context, body)
        values = (view.get("state") or {}).get("values") or {}
        errors = save_profile(
            engine,
            team_id,
            user_id,
            values,
            settings=settings,
            now=clock(),
            on_inferred=lambda: publish_home(client, team_id, user_id),
        )
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        publish_home(client, team_id, user_id)

    app.view(PROFILE_MODAL)(profile_submitted)
