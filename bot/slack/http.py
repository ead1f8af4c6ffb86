"""HTTP mode: a threaded server for `/slack/events` (+ OAuth install pages) in front of Bolt.

Bolt's own development server handles one request at a time; this one serves each request in
its own thread so acks stay fast under concurrent load. Bolt verifies every signature.
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from slack_bolt import App, BoltRequest, BoltResponse

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY = 1_000_000


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 resets bursts of concurrent requests


class SlackHTTPServer:
    """Serve a Bolt app at `EVENTS_PATH` (and its OAuth paths) on `host:port`."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 3000) -> None:
        self.app = app
        handler = _make_handler(app)
        self.server = _Server((host, port), handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:3000."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        """Serve in a background thread; returns the events URL."""
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self.url + EVENTS_PATH

    def serve_forever(self) -> None:
        """Serve in the calling thread until `stop()`."""
        self.server.serve_forever()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(5)


def _make_handler(app: App) -> type[BaseHTTPRequestHandler]:
    flow = app.oauth_flow

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # one small answer: send it now, not 40 ms later

        def log_message(self, format: str, *args: object) -> None:
            log.debug("slack http: " + format, *args)

        def _send(self, response: BoltResponse) -> None:
            body = (response.body or "").encode("utf-8")
            self.send_response(response.status)
            for name, values in response.headers.items():
                for value in values:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _headers(self) -> dict[str, str]:
            return {name.lower(): value for name, value in self.headers.items()}

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if flow is not None and parts.path in (flow.install_path, flow.redirect_uri_path):
                request = BoltRequest(body="", query=parts.query, headers=self._headers())
                if parts.path == flow.install_path:
                    self._send(flow.handle_installation(request))
                else:
                    self._send(flow.handle_callback(request))
                return
            self._send(BoltResponse(status=404, body="not found"))

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != EVENTS_PATH:
                self._send(BoltResponse(status=404, body="not found"))
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(BoltResponse(status=413, body="too large"))
                return
            raw = self.rfile.read(length).decode("utf-8", errors="replace")
            request = BoltRequest(body=raw, query=parts.query, headers=self._headers())
            self._send(app.dispatch(request))

    return Handler
