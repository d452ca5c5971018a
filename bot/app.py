"""The composition root: the one place that names concrete implementations.

`create_app(settings)` checks the rules first (an invalid set raises ConfigError before
anything is served), then builds the aiohttp application. On start-up it opens, in order,
the store, the workspace, the outbox dispatcher with the alert pipeline, the chat side
(the command router behind Teams' POST /api/messages), and the scheduler with the rule
reloader; on shutdown it closes them in reverse, so evaluations in progress finish before
deliveries stop and the store closes last. The notifier is chosen by settings.notifier:
the chat channels (default: each outbox item goes to its channel's notifier), the log,
or a file.

The configured workspace and the bot's clock come from bot.workspace.factory (which the
command line uses without this module); the chat side is wired in bot.chat_wiring, the
rules and their schedule in bot.rule_wiring, notices in bot.notice_wiring.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Final

from aiohttp import web

from bot.alerts.pipeline import AlertPipeline
from bot.alerts.reload import RuleBook
from bot.ask.catalog import Catalog, load_catalog
from bot.azure_monitor import setup as azure_monitor
from bot.azure_monitor.webhook import add_routes as add_azure_monitor_routes
from bot.channels.teams import BotIdentity, TeamsChannel
from bot.channels.teams import add_routes as add_teams_routes
from bot.channels.teams.cards import CardRenderer
from bot.channels.teams.pacing import APP_WINDOWS, Pacer
from bot.chat_wiring import alert_presenter, chat_ctx
from bot.edge import EDGE, Edge, EdgeLimits
from bot.errors import ConfigError
from bot.health.hints import ErrorHints, load_hints
from bot.health.open_alerts import OpenAlertSource
from bot.health.scheduler import DigestScheduler
from bot.health.service import HealthService
from bot.metrics import BotMetrics, CountingNotifier, TimedWorkspace
from bot.models import ChannelKind, Clock
from bot.notice_wiring import (
    NOTICE_INTAKE,
    NOTICE_PARTS,
    notice_parts,
    notice_policy,
    notice_reaches,
    notice_reminders,
)
from bot.notices.delivery import NoticeNotifier
from bot.notices.intake import NoticeIntake
from bot.notify import (
    FileNotifier,
    LogNotifier,
    Notifier,
    OutboxDispatcher,
    RetryPolicy,
    RoutingNotifier,
)
from bot.notify.dispatcher import worker_name
from bot.rule_wiring import load_rule_set, schedule_ctx
from bot.settings import Settings, bot_identity_problems
from bot.store.sql import open_store
from bot.web import (
    CLOCK,
    DISPATCHER,
    HEALTH,
    METRICS,
    PIPELINE,
    RULES,
    SETTINGS,
    STORE,
    WORKSPACE,
    add_routes,
)
from bot.workspace import kql_syntax
from bot.workspace.factory import bot_clock, open_workspace

if TYPE_CHECKING:  # Slack's SDK is imported only when Slack is configured
    from bot.channels.slack import SlackChannel

log = logging.getLogger(__name__)

CleanupCtx = Callable[[web.Application], AsyncIterator[None]]

#: Our own limit on a query is the workspace's plus this: the workspace's should fire first.
QUERY_TIMEOUT_GRACE: Final = 15.0
#: Outbox items claimed per round; each delivery may take at most lease / this.
DISPATCH_BATCH: Final = 10
#: Seconds one Teams delivery may take (pacing and requests), at most.
TEAMS_DELIVERY_BUDGET: Final = 10.0


def bot_identity(settings: Settings) -> BotIdentity:
    """The bot's Bot Framework identity; no app id: no authentication (local use only).

    ConfigError if its app type lacks something (a password, a tenant)."""
    problems = bot_identity_problems(settings)
    if problems:
        raise ConfigError(problems)
    password = settings.microsoft_app_password
    return BotIdentity(
        app_id=settings.microsoft_app_id or "",
        app_password=password.get_secret_value() if password else None,
        app_type=settings.microsoft_app_type,
        tenant_id=settings.microsoft_app_tenant_id,
    )


def edge_limits(settings: Settings) -> EdgeLimits:
    """What the HTTP edge tolerates from callers not yet authenticated (bot.edge)."""
    return EdgeLimits(
        header_timeout=settings.http_header_timeout_seconds,
        body_timeout=settings.http_body_timeout_seconds,
        max_unauthenticated=settings.http_max_unauthenticated,
    )


def shared_pacer(settings: Settings) -> Pacer:
    """Teams' pacer; with several replicas, each keeps to its share of the app's limit."""
    pacer = Pacer(app_windows=APP_WINDOWS)
    # Until the replicas delivering are counted (bot.channels.pacing_state).
    pacer.share_app(settings.replicas)
    return pacer


def build_notifier(
    app: web.Application,
    *,
    teams: TeamsChannel,
    renderer: CardRenderer,
    slack: SlackChannel | None = None,
) -> Notifier:
    settings = app[SETTINGS]
    if settings.notifier == "file":
        return FileNotifier(settings.notifier_file)
    if settings.notifier == "log":
        return LogNotifier()
    presenter = alert_presenter(app)
    # Each delivery ends well within the dispatcher's limit per delivery (lease / batch).
    budget = min(TEAMS_DELIVERY_BUDGET, settings.outbox_lease_seconds / DISPATCH_BATCH * 0.8)
    notifiers: dict[ChannelKind, Notifier] = {
        ChannelKind.TEAMS: teams.notifier(
            store=app[STORE],
            presenter=presenter,
            renderer=renderer,
            time_budget=budget,
            wall=app[CLOCK],
        ),
    }
    if slack is not None:
        notifiers[ChannelKind.SLACK] = slack.notifier(
            store=app[STORE], presenter=presenter, time_budget=budget, wall=app[CLOCK]
        )
    routing = RoutingNotifier(notifiers)
    if not settings.notices_enabled:
        return routing
    chat = [slack.notice_reach(store=app[STORE], clock=app[CLOCK])] if slack is not None else []
    reaches = notice_reaches(
        settings, app[NOTICE_PARTS], teams=teams, store=app[STORE], renderer=renderer,
        clock=app[CLOCK], chat=chat,
    )  # fmt: skip
    return NoticeNotifier(
        others=routing,
        reaches=reaches,
        store=app[STORE],
        rules=lambda: app[RULES].rules,
        clock=app[CLOCK],
    )


def create_app(
    settings: Settings, *, clock: Clock | None = None, notifier: Notifier | None = None
) -> web.Application:
    """The bot's web application; ConfigError at once if the rules are invalid (or the
    bot's identity incomplete).

    `clock` and `notifier` replace the configured ones (tests)."""
    now = clock or bot_clock(settings)
    kql_syntax.remember_under(settings.cache_dir)
    rules = load_rule_set(settings)
    log.info("%d rules loaded from %s", len(rules), settings.rules_path)
    questions = load_catalog([settings.questions_path])  # a bad catalog stops start-up too
    health = load_catalog([settings.health_path])
    hints = load_hints(settings.health_hints_path)
    teams = TeamsChannel(bot_identity(settings), pacer=shared_pacer(settings))
    if not teams.identity.authenticated:
        log.warning("no Microsoft app id: POST /api/messages accepts unauthenticated requests")
    renderer = CardRenderer()
    slack = _slack_channel(settings)
    app = web.Application(client_max_size=256 * 1024)
    app[EDGE] = Edge(edge_limits(settings))
    app[SETTINGS] = settings
    app[CLOCK] = now
    app[RULES] = RuleBook(rules, loaded_at=now())
    app[METRICS] = BotMetrics(replica=worker_name())
    app[METRICS].set_rules(rules)
    app.cleanup_ctx.extend(
        [
            _store_ctx,
            _workspace_ctx,
            _notices_ctx,
            partial(_delivery_ctx, notifier=notifier, teams=teams, renderer=renderer, slack=slack),
            partial(_health_ctx, catalog=health, hints=hints),
            partial(chat_ctx, teams=teams, renderer=renderer, questions=questions, slack=slack),
            azure_monitor.azure_monitor_ctx,
            schedule_ctx,
        ]
    )
    add_routes(app)
    add_teams_routes(app)
    add_azure_monitor_routes(app)
    if slack is not None and settings.slack_mode == "http":
        from bot.channels.slack import add_routes as add_slack_routes

        add_slack_routes(app)
    return app


def _slack_channel(settings: Settings) -> SlackChannel | None:
    """The Slack side, when a bot token is set (only then is Slack's SDK imported)."""
    if not settings.slack_enabled:
        return None
    from bot.channels.slack.wiring import slack_channel

    return slack_channel(settings)


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    store = await open_store(app[SETTINGS].database_url, on_takeover=app[METRICS].count_takeover)
    app[STORE] = store
    try:
        yield
    finally:
        await store.close()


async def _workspace_ctx(app: web.Application) -> AsyncIterator[None]:
    async with open_workspace(app[SETTINGS], clock=app[CLOCK]) as workspace:
        app[WORKSPACE] = TimedWorkspace(workspace, app[METRICS])
        yield


async def _notices_ctx(app: web.Application) -> AsyncIterator[None]:
    async with notice_parts(app[SETTINGS]) as parts:
        app[NOTICE_PARTS] = parts
        yield


async def _delivery_ctx(
    app: web.Application,
    *,
    notifier: Notifier | None,
    teams: TeamsChannel,
    renderer: CardRenderer,
    slack: SlackChannel | None,
) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    notifier = notifier or build_notifier(app, teams=teams, renderer=renderer, slack=slack)
    dispatcher = OutboxDispatcher(
        store=app[STORE],
        notifier=CountingNotifier(notifier, app[METRICS]),
        clock=app[CLOCK],
        policy=RetryPolicy(max_attempts=settings.delivery_max_attempts),
        lease=timedelta(seconds=settings.outbox_lease_seconds),
        batch_size=DISPATCH_BATCH,
        concurrency=settings.delivery_concurrency,
        worker=app[METRICS].replica,
    )
    app[DISPATCHER] = dispatcher
    app[PIPELINE] = AlertPipeline(
        store=app[STORE],
        workspace=app[WORKSPACE],
        query_timeout=settings.query_timeout_seconds + QUERY_TIMEOUT_GRACE,
        on_enqueued=dispatcher.wake,
        write_back=settings.azure_monitor_writeback,
        worker=dispatcher.worker,
    )
    if settings.notices_enabled:
        app[NOTICE_INTAKE] = NoticeIntake(
            store=app[STORE],
            workspace=app[WORKSPACE],
            policy=notice_policy(settings, app[NOTICE_PARTS]),
            on_enqueued=dispatcher.wake,
        )
    dispatcher.start()
    log.info("delivering notifications with %s", type(notifier).__name__)
    reminders = notice_reminders(
        settings, store=app[STORE], book=app[RULES], clock=app[CLOCK], on_enqueued=dispatcher.wake
    )
    try:
        async with reminders:
            yield
    finally:
        await dispatcher.stop()
        await teams.close()


async def _health_ctx(
    app: web.Application, *, catalog: Catalog, hints: ErrorHints
) -> AsyncIterator[None]:
    """Provisioning health (`health`, `digest`) and the digest schedules (bot.health)."""
    health = HealthService(
        workspace=app[WORKSPACE],
        catalog=catalog,
        clock=app[CLOCK],
        alerts=OpenAlertSource(store=app[STORE], rule=app[RULES].get),
        hints=hints,
    )
    app[HEALTH] = health
    if not app[SETTINGS].scheduler_enabled:
        yield
        return
    digests = DigestScheduler(
        store=app[STORE], health=health, clock=app[CLOCK], on_enqueued=app[DISPATCHER].wake
    )
    health.on_schedule_change = digests.refresh
    await digests.start()
    await digests.catch_up()
    try:
        yield
    finally:
        await digests.stop()
