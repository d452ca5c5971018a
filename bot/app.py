"""The composition root: the one place that names concrete implementations.

`create_app(settings)` checks the rules first (an invalid set raises ConfigError before
anything is served), then builds the aiohttp application. On start-up it opens, in order,
the store, the workspace, the outbox dispatcher with the alert pipeline, and the
scheduler with the rule reloader; on shutdown it closes them in reverse, so evaluations in
progress finish before deliveries stop and the store closes last.

`open_workspace` builds the configured workspace (embedded demo or Azure), for the CLI too.
`bot_clock` is the bot's "now": the wall clock, or, in the demo with ALERTBOT_DEMO_NOW
set, that moment moving forward from start-up. The engine evaluates, and the outbox
schedules, on it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Final

from aiohttp import web

from bot.alerts.pipeline import AlertPipeline
from bot.alerts.reload import RuleBook, RuleReloader
from bot.alerts.rule_model import Rule
from bot.alerts.rules import load_rules
from bot.alerts.scheduler import RuleScheduler
from bot.models import RuleHealth
from bot.notify import (
    FileNotifier,
    LogNotifier,
    Notifier,
    OutboxDispatcher,
    RetryPolicy,
)
from bot.settings import Settings
from bot.store import Store
from bot.store.sql import open_store
from bot.web import (
    CLOCK,
    DISPATCHER,
    PIPELINE,
    RULES,
    SCHEDULER,
    SETTINGS,
    STORE,
    WORKSPACE,
    add_routes,
)
from bot.workspace.base import Workspace
from bot.workspace.probe import empty_tables_probe

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
CleanupCtx = Callable[[web.Application], AsyncIterator[None]]

#: Our own limit on a query is the workspace's plus this: the workspace's should fire first.
QUERY_TIMEOUT_GRACE: Final = 15.0


def wall_clock() -> datetime:
    return datetime.now(UTC)


def bot_clock(settings: Settings, wall: Clock = wall_clock) -> Clock:
    """The bot's "now" (see the module docstring)."""
    if settings.workspace != "local" or settings.demo_now is None:
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

    anchor = settings.demo_anchor(now=clock())
    spec = DemoSpec(
        now=anchor, seed=settings.demo_seed, days=settings.demo_days, size=settings.demo_size
    )
    con = duckdb_kql.connect()
    manifest = await asyncio.to_thread(load_demo, con, spec)
    log.info("demo workspace loaded: %d jobs, data up to %s", len(manifest.jobs), anchor)
    return LocalWorkspace(
        con,
        clock=clock,
        timeout=settings.query_timeout_seconds,
        max_rows=settings.max_result_rows,
    )


def load_rule_set(settings: Settings) -> list[Rule]:
    """The configured rules, checked as `alertbot rules validate` checks them.

    Raises ConfigError with one `file:line:col: rule-id: message` line per problem.
    """
    with empty_tables_probe() as probe:
        return load_rules([settings.rules_path], probe=probe)


def build_notifier(settings: Settings) -> Notifier:
    if settings.notifier == "file":
        return FileNotifier(settings.notifier_file)
    return LogNotifier()


def create_app(
    settings: Settings, *, clock: Clock | None = None, notifier: Notifier | None = None
) -> web.Application:
    """The bot's web application; ConfigError at once if the rules are invalid.

    `clock` and `notifier` replace the configured ones (tests)."""
    now = clock or bot_clock(settings)
    rules = load_rule_set(settings)
    log.info("%d rules loaded from %s", len(rules), settings.rules_path)
    app = web.Application(client_max_size=256 * 1024)
    app[SETTINGS] = settings
    app[CLOCK] = now
    app[RULES] = RuleBook(rules, loaded_at=now())
    app.cleanup_ctx.extend(
        [
            _store_ctx,
            _workspace_ctx,
            partial(_delivery_ctx, notifier=notifier or build_notifier(settings)),
            _schedule_ctx,
        ]
    )
    add_routes(app)
    return app


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    store = await open_store(app[SETTINGS].database_url)
    app[STORE] = store
    try:
        yield
    finally:
        await store.close()


async def _workspace_ctx(app: web.Application) -> AsyncIterator[None]:
    async with open_workspace(app[SETTINGS], clock=app[CLOCK]) as workspace:
        app[WORKSPACE] = workspace
        yield


async def _delivery_ctx(app: web.Application, *, notifier: Notifier) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    dispatcher = OutboxDispatcher(
        store=app[STORE],
        notifier=notifier,
        clock=app[CLOCK],
        policy=RetryPolicy(max_attempts=settings.delivery_max_attempts),
        lease=timedelta(seconds=settings.outbox_lease_seconds),
    )
    app[DISPATCHER] = dispatcher
    app[PIPELINE] = AlertPipeline(
        store=app[STORE],
        workspace=app[WORKSPACE],
        query_timeout=settings.query_timeout_seconds + QUERY_TIMEOUT_GRACE,
        on_enqueued=dispatcher.wake,
    )
    dispatcher.start()
    log.info("delivering notifications with %s", type(notifier).__name__)
    try:
        yield
    finally:
        await dispatcher.stop()


async def _schedule_ctx(app: web.Application) -> AsyncIterator[None]:
    settings, store, book, clock = app[SETTINGS], app[STORE], app[RULES], app[CLOCK]
    scheduler = _scheduler(app) if settings.scheduler_enabled else None
    if scheduler is None:
        log.info("the scheduler is disabled: rules are not evaluated on their own")
    else:
        scheduler.start(book.rules, await _health(store))
        app[SCHEDULER] = scheduler

    async def apply(rules: list[Rule]) -> None:
        book.replace(rules, loaded_at=clock())
        if scheduler is not None:
            log.info("scheduler: %s", scheduler.set_rules(rules, await _health(store)))

    reloader = RuleReloader(
        paths=[settings.rules_path],
        load=partial(load_rule_set, settings),
        apply=apply,
        poll_interval=settings.rules_reload_seconds,
    )
    await reloader.start()
    try:
        yield
    finally:
        await reloader.stop()
        if scheduler is not None:
            await scheduler.stop()


def _scheduler(app: web.Application) -> RuleScheduler:
    settings, pipeline = app[SETTINGS], app[PIPELINE]

    async def evaluate(rule: Rule, now: datetime) -> object:
        return await pipeline.evaluate(rule, now=now)

    return RuleScheduler(
        evaluate=evaluate,
        clock=app[CLOCK],
        max_concurrent=settings.max_concurrent_queries,
        spread=timedelta(seconds=settings.scheduler_spread_seconds),
    )


async def _health(store: Store) -> dict[str, RuleHealth]:
    return {health.rule_id: health for health in await store.list_rule_health()}
