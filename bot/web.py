"""HTTP routes that are not a chat channel: health and readiness."""

from __future__ import annotations

from aiohttp import web

from bot.workspace.base import Workspace

WORKSPACE = web.AppKey("workspace", Workspace)


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process is up and serving HTTP."""
    return web.json_response({"status": "ok"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
