"""The composition root: the one place that names concrete implementations.

`open_workspace` builds the configured workspace (embedded demo or Azure);
`create_app` builds the aiohttp application around it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from aiohttp import web

from bot.settings import Settings
from bot.web import WORKSPACE, add_routes
from bot.workspace.base import Workspace

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    return datetime.now(UTC)


@asynccontextmanager
async def open_workspace(
    settings: Settings, *, clock: Clock = wall_clock
) -> AsyncIterator[Workspace]:
    """The configured workspace, closed on exit."""
    workspace = (
        await _azure_workspace(settings)
        if settings.workspace == "azure"
        else await _demo_workspace(settings, clock=clock)
    )
    try:
        yield workspace
    finally:
        await workspace.close()


async def _azure_workspace(settings: Settings) -> Workspace:
    from bot.workspace.azure import AzureWorkspace, build_credential

    assert settings.azure_workspace_id is not None  # enforced by Settings
    return AzureWorkspace(
        workspace_id=settings.azure_workspace_id,
        credential=build_credential(
            settings.azure_credential, settings.azure_managed_identity_client_id
        ),
        endpoint=settings.azure_endpoint,
        server_timeout=settings.query_timeout_seconds,
    )


async def _demo_workspace(settings: Settings, *, clock: Clock) -> Workspace:
    import duckdb_kql

    from bot.workspace.demo import DemoSpec, load_demo
    from bot.workspace.local import LocalWorkspace

    started = clock()
    anchor = settings.demo_anchor(now=started)
    spec = DemoSpec(
        now=anchor, seed=settings.demo_seed, days=settings.demo_days, size=settings.demo_size
    )
    con = duckdb_kql.connect()
    manifest = await asyncio.to_thread(load_demo, con, spec)
    log.info("demo workspace loaded: %d jobs, data up to %s", len(manifest.jobs), anchor)

    def demo_clock() -> datetime:
        # A configured demo "now" keeps moving from there, so schedules still advance.
        return clock() if settings.demo_now is None else anchor + (clock() - started)

    return LocalWorkspace(
        con,
        clock=demo_clock,
        timeout=settings.query_timeout_seconds,
        max_rows=settings.max_result_rows,
    )


def create_app(settings: Settings) -> web.Application:
    """The bot's web application; resources open on start-up and close on shutdown."""
    app = web.Application(client_max_size=256 * 1024)

    async def workspace_ctx(app: web.Application) -> AsyncIterator[None]:
        async with open_workspace(settings) as workspace:
            app[WORKSPACE] = workspace
            yield

    app.cleanup_ctx.append(workspace_ctx)
    add_routes(app)
    return app
