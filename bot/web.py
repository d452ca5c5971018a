"""HTTP routes that are not a chat channel: liveness and readiness; and the app's typed keys."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Final

from aiohttp import web

from bot.alerts.pipeline import AlertPipeline
from bot.alerts.reload import RuleBook
from bot.alerts.scheduler import RuleScheduler
from bot.health.service import HealthService
from bot.metrics import CONTENT_TYPE, BotMetrics, rule_set_hash
from bot.notify import OutboxDispatcher
from bot.settings import Settings
from bot.store import Store, StoreError
from bot.workspace.base import Workspace

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
CLOCK: web.AppKey[Callable[[], datetime]] = web.AppKey("clock")
STORE = web.AppKey("store", Store)
WORKSPACE = web.AppKey("workspace", Workspace)
RULES = web.AppKey("rules", RuleBook)
PIPELINE = web.AppKey("pipeline", AlertPipeline)
DISPATCHER = web.AppKey("dispatcher", OutboxDispatcher)
METRICS = web.AppKey("metrics", BotMetrics)
#: Present only when the scheduler is enabled.
SCHEDULER = web.AppKey("scheduler", RuleScheduler)
HEALTH = web.AppKey("health", HealthService)

#: A store that takes longer than this to answer `SELECT 1` is not ready.
STORE_PING_TIMEOUT: Final = 2.0


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process is up and serving HTTP."""
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    """The bot's metrics in the Prometheus text format (bot.metrics)."""
    app = request.app
    registry = app[METRICS]
    store = app.get(STORE)
    if store is not None:
        try:
            await registry.refresh(store, now=app[CLOCK]())
        except StoreError as error:  # the rest is still worth reporting
            log.warning("metrics: the store did not answer: %s", error)
    return web.Response(body=registry.exposition(), headers={"Content-Type": CONTENT_TYPE})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the store answers, the rules are loaded, the scheduler runs (if enabled).

    503 names the checks that failed; the details go to the log, not to the caller.
    """
    app = request.app
    checks = {
        "store": await _store_check(app),
        "rules": _rules_check(app),
        "scheduler": _scheduler_check(app),
    }
    failed = [name for name, (ok, _) in checks.items() if not ok]
    body = {
        "status": "not ready" if failed else "ready",
        "checks": {name: text for name, (_, text) in checks.items()},
        "failed": failed,
    }
    return web.json_response(body, status=503 if failed else 200)


async def _store_check(app: web.Application) -> tuple[bool, str]:
    store = app.get(STORE)
    if store is None:
        return False, "not open"
    # Not cancelled on timeout: a cancelled ping would wait for the database anyway, to
    # roll back. It finishes in the background (SQLite's busy timeout bounds it).
    ping = asyncio.ensure_future(store.ping())
    done, _ = await asyncio.wait({ping}, timeout=STORE_PING_TIMEOUT)
    if not done:
        ping.add_done_callback(_forget)
        log.warning("readyz: the store did not answer within %g s", STORE_PING_TIMEOUT)
        return False, "unreachable"
    error = ping.exception()
    if error is not None:
        if not isinstance(error, StoreError):
            raise error
        log.warning("readyz: the store does not answer: %s", error)
        return False, "unreachable"
    return True, "ok"


def _forget(ping: asyncio.Future[None]) -> None:
    if not ping.cancelled() and ping.exception() is not None:
        log.debug("readyz: a late store ping failed: %s", ping.exception())


def _rules_check(app: web.Application) -> tuple[bool, str]:
    book = app.get(RULES)
    if book is None:
        return False, "not loaded"
    loaded = f"{len(book.rules)} rules loaded at {book.loaded_at.isoformat()}"
    return True, f"{loaded}; content hash {rule_set_hash(book.rules)[:16]}"


def _scheduler_check(app: web.Application) -> tuple[bool, str]:
    if not app[SETTINGS].scheduler_enabled:
        return True, "disabled"
    scheduler = app.get(SCHEDULER)
    if scheduler is None or not scheduler.running:
        return False, "not running"
    return True, "running"


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
