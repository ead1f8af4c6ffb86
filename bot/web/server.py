"""`WebServer`: an aiohttp.web application served from a background thread, with hard limits.

    server = WebServer(aiohttp_app, host, port, Limits())
    server.start()      # returns the bound port (0 picks a free one)
    server.url, server.port
    server.stop()

Both HTTP surfaces (Slack events + OAuth pages, and `/healthz` `/readyz` `/metrics`) run on
this one stack. The limits hold before any handler code runs:

- `idle_timeout`: aiohttp's keep-alive timer, armed when a connection opens, closes one that
  has not sent complete headers (or sits idle between requests) within that many seconds.
- `max_body`: a body above it is refused with 413 (aiohttp's `client_max_size` as a backstop).
- `read_timeout`: handlers read bodies through `read_body`, which answers 408 when the body
  doesn't arrive in time.
- `max_connections`: a connection above the cap is closed at once, before it is read.
- Malformed requests (e.g. a negative or non-numeric `Content-Length`) get aiohttp's 400,
  logged at debug level without a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_server import Server

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    """Resource limits for one server (seconds, bytes, counts)."""

    max_body: int = 1_000_000
    read_timeout: float = 10.0
    idle_timeout: float = 20.0
    max_connections: int = 500
    workers: int = 16  # threads running blocking handler code (Bolt dispatch, DB checks)


LIMITS_KEY = web.AppKey("limits", Limits)


class BodyError(Exception):
    """The request body can't be read: `status` says why (400, 408, 413)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def read_body(request: web.Request) -> bytes:
    """The request body within the app's limits, or `BodyError`.

    A `Content-Length` is required (Slack always sends one); above `max_body` the body is not
    read at all.
    """
    limits = request.app[LIMITS_KEY]
    length = request.content_length
    if length is None:
        raise BodyError(400, "Content-Length required")
    if length > limits.max_body:
        raise BodyError(413, f"body larger than {limits.max_body} bytes")
    try:
        async with asyncio.timeout(limits.read_timeout):
            return await request.read()
    except TimeoutError:
        raise BodyError(408, "body not received in time") from None
    except web.HTTPRequestEntityTooLarge:
        raise BodyError(413, f"body larger than {limits.max_body} bytes") from None


def text_response(status: int, text: str, *, close: bool = False, **headers: str) -> web.Response:
    """A short plain-text answer, never cached; `close` ends the connection after it."""
    response = web.Response(
        status=status, text=text + "\n", headers={"Cache-Control": "no-store", **headers}
    )
    if close:
        response.force_close()
    return response


class _ClientErrorsQuiet(logging.Filter):
    """aiohttp logs malformed requests at error level with a traceback: keep one debug line."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and 400 <= (exc.code or 0) < 500:
            reason = (str(exc.message).strip().splitlines() or [""])[0][:120]
            log.debug("malformed request refused: %s %s", exc.code, reason)
            return False
        return True


_server_log = logging.getLogger("bot.web.server.protocol")
_server_log.addFilter(_ClientErrorsQuiet())


class _Refused(asyncio.Protocol):
    """Stands in for a connection above the cap: closed as soon as it is accepted."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.close()


class WebServer:
    """Serve an aiohttp application on `host:port` from a daemon thread with its own loop."""

    def __init__(
        self,
        app: web.Application,
        host: str = "127.0.0.1",
        port: int = 0,
        limits: Limits | None = None,
        *,
        name: str = "web",
    ) -> None:
        self.limits = limits or Limits()
        self.host = host
        self.requested_port = port
        self.name = name
        app[LIMITS_KEY] = self.limits
        self.app = app
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self._port: int | None = None
        self.refused = 0  # connections closed because of the cap
        self._accepting = 0

    # Lifecycle ---------------------------------------------------------------------------------

    def start(self) -> int:
        """Bind and serve in the background; returns the bound port. Raises OSError."""
        if self._port is not None:
            return self._port
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name=f"{self.name}-http", daemon=True)
        thread.start()
        try:
            self._port = asyncio.run_coroutine_threadsafe(self._start(), loop).result(30)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            loop.close()
            raise
        self._loop, self._thread = loop, thread
        return self._port

    async def _start(self) -> int:
        runner = web.AppRunner(
            self.app,
            access_log=None,
            logger=_server_log,
            handle_signals=False,
            keepalive_timeout=self.limits.idle_timeout,
            max_line_size=8190,
            max_field_size=8190,
            lingering_time=1.0,  # unread body after an early answer: drain briefly, then close
        )
        loop = asyncio.get_running_loop()
        loop.set_default_executor(
            ThreadPoolExecutor(self.limits.workers, thread_name_prefix=f"{self.name}-req")
        )
        await runner.setup()
        self._runner = runner
        server = runner.server
        assert server is not None
        self._listener = await loop.create_server(
            lambda: self._protocol(server),
            self.host,
            self.requested_port,
            backlog=256,
            reuse_address=True,
        )
        sockets = self._listener.sockets
        return int(sockets[0].getsockname()[1])

    def _protocol(self, server: Server) -> asyncio.BaseProtocol:
        # Connections accepted in this loop iteration are registered (connection_made) only on
        # the next one: count them too, so a burst can't overshoot the cap.
        if len(server.connections) + self._accepting >= self.limits.max_connections:
            self.refused += 1
            return _Refused()
        if self._accepting == 0:
            asyncio.get_running_loop().call_soon(self._accepted)
        self._accepting += 1
        return server()

    def _accepted(self) -> None:
        self._accepting = 0

    def stop(self) -> None:
        """Stop serving, close every connection and release the port (idempotent)."""
        loop, self._loop = self._loop, None
        if loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._stop(), loop).result(15)
        except Exception as exc:  # stopping must not fail the caller's shutdown
            log.warning("%s server did not stop cleanly: %s", self.name, type(exc).__name__)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        loop.close()
        self._port = None

    async def _stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
            await self._listener.wait_closed()
        if self._runner is not None:
            await self._runner.shutdown()
            await self._runner.cleanup()
        current = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks() if task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    @property
    def port(self) -> int:
        """The bound port (the real one when `port` was 0)."""
        if self._port is None:
            raise RuntimeError(f"the {self.name} server is not started")
        return self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:3000 (0.0.0.0 is shown as 127.0.0.1)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        host = "::1" if host == "::" else host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def connections(self) -> int:
        """Open connections right now."""
        server = self._runner.server if self._runner is not None else None
        return len(server.connections) if server is not None else 0


async def run_blocking(func: Callable[..., T], *args: Any) -> T:
    """Run blocking `func(*args)` on the server's bounded thread pool."""
    return await asyncio.get_running_loop().run_in_executor(None, func, *args)
