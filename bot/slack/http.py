"""HTTP mode: `/slack/events` (+ the OAuth install pages) on aiohttp.web in front of Bolt.

The server (`bot.web.server.WebServer`) enforces the body limit, timeouts and connection cap;
`SlackGate` verifies the signature and refuses replays on the raw bytes before anything is
parsed; only then is the request converted for Bolt, dispatched on a worker thread, and its
answer converted back with Bolt's aiohttp adapter. Client errors get a short plain-text answer,
never a traceback, and their bodies are never logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from sqlalchemy.engine import Engine

from bot.slack.gate import Admission, SlackGate
from bot.slack.replay import ReplayGuard
from bot.web.server import BodyError, Limits, WebServer, read_body, run_blocking, text_response

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY = 1_000_000


def slack_routes(app: App, gate: SlackGate) -> list[web.RouteDef]:
    """The aiohttp routes serving `app`: events, and the OAuth pages when OAuth is on."""

    async def events(request: web.Request) -> web.StreamResponse:
        try:
            raw = await read_body(request)
        except BodyError as exc:
            return text_response(exc.status, exc.reason, close=True)
        now = time.time()  # the request's clock, read once
        headers = _headers(request)  # the same view of the headers for the gate and Bolt
        query = request.query_string
        try:  # one hop to a worker thread: the gate's checks, then Bolt
            admission, response = await run_blocking(
                _admit_then_dispatch, app, gate, raw, query, headers, now
            )
        except ValueError:  # a signed body that doesn't parse: Slack never sends one
            return text_response(400, "malformed body")
        if response is None:
            if admission.status >= 400:
                log.info("slack request refused: %s %s", admission.status, admission.reason)
            refused = text_response(admission.status, admission.reason)
            refused.headers["X-Slack-No-Retry"] = "1"
            return refused
        return await to_aiohttp_response(response)

    routes = [web.post(EVENTS_PATH, events)]
    flow = app.oauth_flow
    if flow is not None:

        async def install(request: web.Request) -> web.StreamResponse:
            bolt = BoltRequest(body="", query=request.query_string, headers=_bolt_headers(request))
            return await to_aiohttp_response(await run_blocking(flow.handle_installation, bolt))

        async def callback(request: web.Request) -> web.StreamResponse:
            bolt = BoltRequest(body="", query=request.query_string, headers=_bolt_headers(request))
            return await to_aiohttp_response(await run_blocking(flow.handle_callback, bolt))

        routes += [web.get(flow.install_path, install), web.get(flow.redirect_uri_path, callback)]
    return routes


def _headers(request: web.Request) -> dict[str, str]:
    """Lower-cased names; a repeated header keeps its first value."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers.setdefault(name.lower(), value)
    return headers


def _bolt_headers(request: web.Request) -> dict[str, str | Sequence[str]]:
    """`_headers` typed as Bolt takes them."""
    return dict(_headers(request))


def _admit_then_dispatch(
    app: App, gate: SlackGate, raw: bytes, query: str, headers: dict[str, Any], now: float
) -> tuple[Admission, BoltResponse | None]:
    """The gate's verdict, and Bolt's response when the gate let the request through."""
    admission = gate.admit(raw, headers, now)
    if not admission.dispatch:
        return admission, None
    return admission, app.dispatch(BoltRequest(body=admission.text, query=query, headers=headers))


class SlackHTTPServer:
    """Serve a Bolt app at `EVENTS_PATH` (and its OAuth paths) on `host:port`.

    Accepted requests are remembered in `engine` (replay protection shared by replicas).
    """

    def __init__(
        self,
        app: App,
        engine: Engine,
        signing_secret: str,
        host: str = "127.0.0.1",
        port: int = 3000,
        *,
        limits: Limits | None = None,
    ) -> None:
        limits = limits or Limits(max_body=MAX_BODY)
        self.app = app
        gate = SlackGate(signing_secret, ReplayGuard(engine))
        web_app = web.Application(client_max_size=limits.max_body)
        web_app.add_routes(slack_routes(app, gate))
        self.web = WebServer(web_app, host, port, limits, name="slack")

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:3000."""
        return self.web.url

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) the server listens on."""
        return self.web.host, self.web.port

    def start(self) -> str:
        """Serve in the background; returns the events URL. Raises OSError if it can't bind."""
        self.web.start()
        return self.url + EVENTS_PATH

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        self.web.stop()
