"""`HealthServer`: `/healthz`, `/readyz`, `/metrics` for operators and orchestrators.

Served by aiohttp.web (`bot.web.server.WebServer`, the same stack and limits as Slack's
events); the checks run on the server's worker threads.

    server = HealthServer(settings, engine)
    server.add_check("slack", slack_connection_check(handler.client.is_connected))
    server.start()          # binds settings.http_host:settings.http_port (0 = any free port)
    server.port, server.url
    server.stop()

`/healthz`  200 while the process serves requests (liveness; the Docker HEALTHCHECK).
`/readyz`   200 when every check passes, else 503; JSON names each check with a detail.
            Built in: the database answers, the last successful crawl is recent enough.
`/metrics`  Prometheus text format: `bot.web.metrics` plus gauges read from the database.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.logs import get_logger, redact
from bot.web.metrics import StoreCollector, last_digest_run, last_successful_crawl

if TYPE_CHECKING:  # aiohttp is imported when the server starts, not when `serve` is parsed
    from bot.web.server import WebServer

log = get_logger(__name__)


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one readiness check; `detail` is shown to operators (never a secret)."""

    ok: bool
    detail: str = ""


Check = Callable[[], "CheckResult | bool"]


def database_check(engine: Engine) -> Check:
    """Ready when the database answers `SELECT 1`."""

    def check() -> CheckResult:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return CheckResult(True, engine.dialect.name)

    return check


def last_crawl_check(
    engine: Engine, max_age: timedelta, *, started_at: datetime | None = None
) -> Check:
    """Ready when a crawl succeeded within `max_age`.

    A fresh install has no crawl yet: that counts as ready until `max_age` after start-up.
    """
    started = started_at or datetime.now(UTC)

    def check() -> CheckResult:
        with Session(engine) as session:
            finished = last_successful_crawl(session)
        now = datetime.now(UTC)
        if finished is None:
            waited = now - started
            ok = waited <= max_age
            return CheckResult(ok, f"no successful crawl yet ({_hours(waited)} since start-up)")
        age = now - finished
        limit = f"limit {_hours(max_age)}"
        return CheckResult(age <= max_age, f"last successful crawl {_hours(age)} ago ({limit})")

    return check


def slack_token_check(engine: Engine) -> Check:
    """Not ready while the newest digest run stopped because Slack refused the bot token.

    Read from the database, so every replica reports it, not just the one that sent.
    """

    def check() -> CheckResult:
        with Session(engine) as session:
            run = last_digest_run(session)
        if run is None or run.status != "token_error":
            return CheckResult(True, "no token error in the last digest run")
        return CheckResult(
            False,
            f"digests stopped at {run.started_at:%Y-%m-%d %H:%M} UTC: {run.error}; "
            "fix SLACK_BOT_TOKEN, pending digests go out on the next run",
        )

    return check


def slack_connection_check(is_connected: Callable[[], bool]) -> Check:
    """Ready when the Slack connection (e.g. the Socket Mode client's `is_connected`) is up."""

    def check() -> CheckResult:
        up = bool(is_connected())
        return CheckResult(up, "connected" if up else "not connected to Slack")

    return check


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"


class HealthServer:
    """Serves `/healthz`, `/readyz` and `/metrics` from a daemon thread."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        checks: Mapping[str, Check] | None = None,
        *,
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.registry = registry
        self.store_registry = CollectorRegistry(auto_describe=False)
        self.store_registry.register(StoreCollector(engine, settings))
        self.checks: dict[str, Check] = {
            "database": database_check(engine),
            "last_crawl": last_crawl_check(
                engine, timedelta(hours=settings.ready_max_crawl_age_hours)
            ),
            "slack_token": slack_token_check(engine),
        }
        self.checks.update(checks or {})
        self._lock = threading.Lock()
        self._web: WebServer | None = None

    # Lifecycle ---------------------------------------------------------------------------------

    def add_check(self, name: str, check: Check) -> None:
        """Register (or replace) a readiness check; it runs on every `/readyz` request."""
        with self._lock:
            self.checks[name] = check

    def remove_check(self, name: str) -> None:
        """Forget a readiness check (e.g. Slack was switched off)."""
        with self._lock:
            self.checks.pop(name, None)

    def start(self) -> int:
        """Bind and serve in the background; returns the port (useful with port 0)."""
        if self._web is not None:
            return self.port
        from aiohttp import web

        from bot.web.health_http import health_routes
        from bot.web.server import Limits, WebServer

        app = web.Application(client_max_size=1024)
        app.add_routes(health_routes(self))
        server = WebServer(
            app,
            self.settings.http_host,
            self.settings.http_port,
            Limits(max_body=1024, max_connections=100, workers=4),
            name="health",
        )
        server.start()
        self._web = server
        log.info("health server listening", url=self.url)
        return self.port

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        server, self._web = self._web, None
        if server is not None:
            server.stop()

    def __enter__(self) -> HealthServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (the real one when `http_port` was 0)."""
        if self._web is None:
            raise RuntimeError("HealthServer is not started")
        return self._web.port

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:8080 (0.0.0.0 is shown as 127.0.0.1)."""
        host = self.settings.http_host
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    # Endpoints ---------------------------------------------------------------------------------

    def readiness(self) -> tuple[bool, dict[str, dict[str, Any]]]:
        """Run every check; (all ok, {name: {"ok": …, "detail": …}})."""
        with self._lock:
            checks = dict(self.checks)
        results: dict[str, dict[str, Any]] = {}
        for name, check in checks.items():
            began = time.perf_counter()
            try:
                outcome = check()
                result = outcome if isinstance(outcome, CheckResult) else CheckResult(bool(outcome))
            except Exception as exc:  # any check's failure is a "not ready", never a 500 (logged)
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                result = CheckResult(False, redact(f"{type(exc).__name__}: {reason}"))
                log.warning("readiness_check_failed", check=name, detail=result.detail)
            results[name] = {
                "ok": result.ok,
                "detail": redact(result.detail),
                "seconds": round(time.perf_counter() - began, 4),
            }
        return all(r["ok"] for r in results.values()), results

    def metrics_text(self) -> bytes:
        """The Prometheus exposition of the process metrics and the store gauges."""
        return generate_latest(self.registry) + generate_latest(self.store_registry)


def json_bytes(payload: Any) -> bytes:
    """`payload` as sorted JSON plus a newline."""
    return json.dumps(payload, sort_keys=True).encode() + b"\n"
