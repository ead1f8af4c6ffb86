"""The app's one error handler, and the lazy-listener runner that sends it every exception.

Whatever a listener raises (in its ack or after it) ends in `on_error`: it logs the error with
the request's kind, workspace and user (never the body: it holds the response_url) and answers
the member with one line, never a traceback. Bolt's own lazy runner only logs and drops what a
lazy listener raises, so `ReportingLazyRunner` takes its place and calls the error handler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import structlog
from slack_bolt import BoltContext, BoltResponse, Respond
from slack_bolt.kwargs_injection import build_required_kwargs
from slack_bolt.lazy_listener import LazyListenerRunner
from slack_bolt.listener.listener_error_handler import ListenerErrorHandler
from slack_bolt.request import BoltRequest
from slack_bolt.util.utils import get_arg_names_of_callable

log = structlog.get_logger(__name__)

ERROR_REPLY = "Sorry, something went wrong on my side. Please try again in a minute."


def request_kind(body: dict[str, Any]) -> str:
    """`/matchmaker`, `block_actions`, `view_submission`, `event:app_home_opened`, …"""
    if body.get("command"):
        return str(body["command"])
    if body.get("type") == "event_callback":
        return f"event:{(body.get('event') or {}).get('type', '?')}"
    return str(body.get("type") or "unknown")


def error_view() -> dict[str, Any]:
    """A modal that replaces one whose submission failed."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Matchmaker"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [{"type": "section", "text": {"type": "plain_text", "text": ERROR_REPLY}}],
    }


def on_error(
    error: Exception,
    body: dict[str, Any],
    context: BoltContext,
    respond: Respond | None,
    response: BoltResponse | None,
) -> BoltResponse | None:
    """Log a listener's exception and tell the member, in the ack when it is still open."""
    kind = request_kind(body)
    log.error(
        "slack listener failed",
        request=kind,
        team_id=context.team_id,
        user_id=context.user_id,
        error=type(error).__name__,
        exc_info=error,
    )
    in_ack = response is not None  # None: a lazy listener, the ack was sent already
    if in_ack and body.get("command"):
        return BoltResponse(status=200, body={"text": ERROR_REPLY, "response_type": "ephemeral"})
    if in_ack and body.get("type") == "view_submission":
        return BoltResponse(status=200, body={"response_action": "update", "view": error_view()})
    if respond is not None:
        try:
            respond(text=ERROR_REPLY, response_type="ephemeral", replace_original=False)
        except Exception as exc:  # the answer is best effort; the error is logged above
            log.warning("telling the member about an error failed", error=type(exc).__name__)
    return BoltResponse(status=200) if in_ack else None


class ReportingLazyRunner(LazyListenerRunner):
    """Runs lazy listeners on `executor`; what they raise goes to the app's error handler."""

    def __init__(
        self,
        logger: logging.Logger,
        executor: Executor,
        error_handler: Callable[[], ListenerErrorHandler],
    ) -> None:
        self.logger = logger
        self.executor = executor
        self.error_handler = error_handler  # read on use: `@app.error` may replace it

    def start(self, function: Callable[..., None], request: BoltRequest) -> None:
        """Run `function` for `request` on the pool."""
        self.executor.submit(self.run, function, request)

    def run(self, function: Callable[..., None], request: BoltRequest) -> None:
        """Run `function` for `request` now; an exception goes to the error handler."""
        try:
            function(
                **build_required_kwargs(
                    logger=self.logger,
                    required_arg_names=get_arg_names_of_callable(function),
                    request=request,
                    response=None,
                    this_func=function,
                )
            )
        except Exception as error:  # every listener failure is reported, none crash the pool
            self.error_handler().handle(error=error, request=request, response=None)
