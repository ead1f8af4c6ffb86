"""The aiohttp routes of `HealthServer` (imported when it starts)."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.web.health import HealthServer, json_bytes
from bot.web.server import run_blocking


def health_routes(health: HealthServer) -> list[web.RouteDef]:
    """GET (and HEAD) `/healthz`, `/readyz`, `/metrics`; anything else is a JSON 404."""

    async def healthz(_request: web.Request) -> web.Response:
        return _answer(200, "application/json", json_bytes({"status": "ok"}))

    async def readyz(_request: web.Request) -> web.Response:
        ready, checks = await run_blocking(health.readiness)
        body = {"status": "ready" if ready else "not ready", "checks": checks}
        return _answer(200 if ready else 503, "application/json", json_bytes(body))

    async def metrics(_request: web.Request) -> web.Response:
        return _answer(200, CONTENT_TYPE_LATEST, await run_blocking(health.metrics_text))

    async def not_found(_request: web.Request) -> web.Response:
        return _answer(404, "application/json", json_bytes({"error": "not found"}))

    routes = []
    for path, handler in (("/healthz", healthz), ("/readyz", readyz), ("/metrics", metrics)):
        routes += [web.get(path, handler), web.get(path + "/", handler)]  # GET also serves HEAD
    return [*routes, web.route("*", "/{tail:.*}", not_found)]


def _answer(status: int, content_type: str, body: bytes) -> web.Response:
    response = web.Response(status=status, body=body, headers={"Cache-Control": "no-store"})
    response.headers["Content-Type"] = content_type
    return response
