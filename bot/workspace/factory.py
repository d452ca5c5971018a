"""The configured workspace (embedded demo or Azure Log Analytics) and the bot's clock.

Kept apart from the web application (bot.app) so that the command line's `query`, `ask`
and `evaluate` import only the workspace they use: no web server, chat SDK or store.

`bot_clock` is the bot's "now": the wall clock, or, in the demo with ALERTBOT_DEMO_NOW
set, that moment moving forward from start-up (unless ALERTBOT_DEMO_CLOCK=wall: `make
run` anchors the logs at its start and keeps the real time, so cards show when things
really happened). The engine evaluates, and the outbox schedules, on it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from bot.models import Clock
from bot.settings import Settings
from bot.workspace.base import Workspace

log = logging.getLogger(__name__)


def wall_clock() -> datetime:
    return datetime.now(UTC)


def bot_clock(settings: Settings, wall: Clock = wall_clock) -> Clock:
    """The bot's "now" (see the module docstring)."""
    if settings.workspace != "local" or settings.demo_now is None or settings.demo_clock == "wall":
        return wall
    anchor, started = settings.demo_now, wall()
    return lambda: anchor + (wall() - started)


@asynccontextmanager
async def open_workspace(
    settings: Settings, *, clock: Clock | None = None
) -> AsyncIterator[Workspace]:
    """The configured workspace, closed on exit."""
    workspace = (
        await _azure_workspace(settings)
        if settings.workspace == "azure"
        else await _demo_workspace(settings, clock=clock or bot_clock(settings))
    )
    try:
        yield workspace
    finally:
        await workspace.close()


async def _azure_workspace(settings: Settings) -> Workspace:
    from bot.workspace.azure import AzureWorkspace, build_credential
    from bot.workspace.query_limiter import QueryLimiter

    assert settings.azure_workspace_id is not None  # enforced by Settings
    return AzureWorkspace(
        workspace_id=settings.azure_workspace_id,
        credential=build_credential(
            settings.azure_credential, settings.azure_managed_identity_client_id
        ),
        endpoint=settings.azure_endpoint,
        server_timeout=settings.query_timeout_seconds,
        max_batch=settings.azure_batch_size,
        limiter=QueryLimiter(max_concurrent=settings.max_concurrent_queries),
    )


async def _demo_workspace(settings: Settings, *, clock: Clock) -> Workspace:
    from bot.workspace.demo.cache import open_demo
    from bot.workspace.demo.spec import DemoSpec
    from bot.workspace.local import LocalWorkspace

    anchor = settings.demo_anchor(now=clock())
    spec = DemoSpec(
        now=anchor, seed=settings.demo_seed, days=settings.demo_days, size=settings.demo_size
    )
    con = await asyncio.to_thread(open_demo, spec, settings.cache_dir)
    log.info("demo workspace loaded: %s demo, data up to %s", spec.size, anchor)
    return LocalWorkspace(
        con,
        clock=clock,
        timeout=settings.query_timeout_seconds,
        max_rows=settings.max_result_rows,
        translations=settings.cache_dir / "kql",
    )
