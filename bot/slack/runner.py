"""Run the Slack app in the configured mode: Socket Mode (default) or HTTP at /slack/events.

The Slack HTTP server module (bot.slack.http) is imported only in HTTP mode; aiohttp itself is
loaded in every mode by the health server (/healthz, /readyz, /metrics).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.config.settings import Settings
from bot.core.clock import utc_clock
from bot.slack.app import build_app, check_settings, stop_app

if TYPE_CHECKING:
    from bot.slack.http import SlackHTTPServer

log = logging.getLogger(__name__)


@dataclass
class SlackRunner:
    """A started Slack app; `stop()` disconnects / stops serving."""

    app: App
    mode: str
    socket: SocketModeHandler | None = None
    http: SlackHTTPServer | None = None

    @property
    def url(self) -> str | None:
        """The events URL in HTTP mode."""
        return self.http.url + "/slack/events" if self.http else None

    def stop(self) -> None:
        """Disconnect (Socket Mode) or stop the HTTP server, then the app's worker pool."""
        if self.socket is not None:
            self.socket.close()
        if self.http is not None:
            self.http.stop()
        stop_app(self.app)


def warm_picks(settings: Settings, engine: Engine) -> threading.Thread:
    """Load the ranker's inputs in the background, so the first `/matchmaker picks` is fast."""
    from bot.match.inputs import warm

    thread = threading.Thread(
        target=warm, args=(engine, settings, utc_clock()), name="picks-warm", daemon=True
    )
    thread.start()
    return thread


def start_slack(settings: Settings, engine: Engine, client: WebClient | None = None) -> SlackRunner:
    """Build the app and start it in the background (raises ConfigError when misconfigured)."""
    check_settings(settings)
    app = build_app(settings, engine, client)
    warm_picks(settings, engine)
    if settings.slack_mode == "http":
        from bot.slack.http import SlackHTTPServer

        assert settings.slack_signing_secret is not None  # check_settings made sure
        server = SlackHTTPServer(
            app,
            engine,
            settings.slack_signing_secret.get_secret_value(),
            settings.http_host,
            settings.slack_http_port,
        )
        url = server.start()
        log.info("slack app listening at %s", url)
        return SlackRunner(app, "http", http=server)
    assert settings.slack_app_token is not None
    handler = SocketModeHandler(
        app, settings.slack_app_token.get_secret_value(), web_client=app.client
    )
    handler.connect()
    log.info("slack app connected over Socket Mode")
    return SlackRunner(app, "socket", socket=handler)
