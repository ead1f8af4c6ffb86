"""`/matchmaker …`: parsed once in the ack; help and bad input are answered right in the ack,
everything else after it (a lazy listener)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.slack import commands as c
from bot.slack.handlers import CommandContext, Reply, execute, quick_reply
from bot.slack.listeners.common import deps_of, publish_home, team_of, user_of
from bot.slack.picks_queue import PicksRequest
from bot.slack.workers import run_later

COMMAND = "/matchmaker"
PARSED = "matchmaker_command"  # context key: the parsed command, for the lazy listener
ANSWERED = "matchmaker_answered"  # context key: True when the ack already carried the reply


def ack_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    """Parse the text once; answer help and bad input inside the ack."""
    parsed = c.parse(command.get("text"))
    reply = quick_reply(parsed)
    context[PARSED] = parsed
    context[ANSWERED] = reply is not None
    if reply is not None:
        ack(**reply.as_message())
    else:
        ack()


def run_command(
    body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    """Run the parsed command after the ack and send its ephemeral reply."""
    parsed: c.Command | None = context.get(PARSED)
    if parsed is None or context.get(ANSWERED):
        return  # answered in the ack (when the ack failed, the error handler answered)
    deps = deps_of(context)
    team_id, user_id = team_of(context, body), user_of(context, body)
    if isinstance(parsed, c.Picks):

        def send_picks(reply: Reply) -> None:
            respond(**reply.as_message())

        def refresh_home() -> None:
            publish_home(deps, client, team_id, user_id)

        n = parsed.n or deps.settings.digest.picks
        deps.picks.submit(PicksRequest(team_id, user_id, n, send_picks, refresh_home))
        return

    def followup(reply: Reply) -> None:
        respond(**reply.as_message())

    ctx = CommandContext(
        engine=deps.engine,
        settings=deps.settings,
        client=client,
        team_id=team_id,
        user_id=user_id,
        recommender=deps.recommender,
        crawler=deps.crawler,
        now=deps.clock(),
        followup=followup,
    )
    reply = execute(parsed, ctx)
    respond(**reply.as_message())
    if reply.then is not None:
        run_later(deps.executor, reply.then, f"/matchmaker {type(parsed).__name__}")
    if isinstance(parsed, (*c.PROFILE_CHANGES, c.ReleaseHolds)):
        publish_home(deps, client, team_id, user_id)  # the Home tab shows profile and holds


def register(app: App) -> None:
    """Attach `/matchmaker`."""
    app.command(COMMAND)(ack=ack_command, lazy=[run_command])
