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
command line uses without this module).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from functools import partial
from time import monotonic
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from bot.alerts.pipeline import AlertPipeline, Evaluation
from bot.alerts.reload import RuleBook, RuleReloader
from bot.alerts.rule_model import Rule
from bot.alerts.rules import load_rules
from bot.alerts.scheduler import RuleScheduler
from bot.alerts.state import QueryFailure
from bot.ask.catalog import Catalog, load_catalog
from bot.ask.chat import ChatAnswers
from bot.ask.service import Asker
from bot.azure_monitor import setup as azure_monitor
from bot.azure_monitor.webhook import add_routes as add_azure_monitor_routes
from bot.channels.presenter import AlertPresenter
from bot.channels.teams import TEAMS_ENDPOINT, BotIdentity, TeamsChannel
from bot.channels.teams import add_routes as add_teams_routes
from bot.channels.teams.cards import CardRenderer
from bot.channels.teams.pacing import APP_WINDOWS, Pacer
from bot.commands.access import AccessPolicy, EdgeGate, GraphGroupMembership
from bot.commands.router import CommandRouter
from bot.edge import EDGE, Edge, EdgeLimits
from bot.errors import ConfigError
from bot.health.hints import ErrorHints, load_hints
from bot.health.open_alerts import OpenAlertSource
from bot.health.scheduler import DigestScheduler
from bot.health.service import HealthService
from bot.logs import log_context
from bot.metrics import BotMetrics, CountingNotifier, TimedWorkspace
from bot.models import ChannelKind, Clock, RuleHealth
from bot.notice_wiring import (
    NOTICE_INTAKE,
    NOTICE_PARTS,
    notice_parts,
    notice_policy,
    notice_reaches,
    notice_reminders,
)
from bot.notices.answers import NoticeAnswers
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
from bot.settings import Settings, bot_identity_problems, evaluation_concurrency
from bot.store import Store
from bot.store.sql import open_store
from bot.views import ASK_CHOOSE, LogAnalyticsTarget
from bot.web import (
    CLOCK,
    DISPATCHER,
    METRICS,
    PIPELINE,
    RULES,
    SCHEDULER,
    SETTINGS,
    STORE,
    WORKSPACE,
    add_routes,
)
from bot.workspace.factory import bot_clock, open_workspace
from bot.workspace.probe import empty_tables_probe

if TYPE_CHECKING:  # Slack's SDK is imported only when Slack is configured
    from bot.channels.slack import SlackChannel

log = logging.getLogger(__name__)

HEALTH = web.AppKey("health", HealthService)

CleanupCtx = Callable[[web.Application], AsyncIterator[None]]

#: Our own limit on a query is the workspace's plus this: the workspace's should fire first.
QUERY_TIMEOUT_GRACE: Final = 15.0
#: Outbox items claimed per round; each delivery may take at most lease / this.
DISPATCH_BATCH: Final = 10
#: Seconds one Teams delivery may take (pacing and requests), at most.
TEAMS_DELIVERY_BUDGET: Final = 10.0


def load_rule_set(settings: Settings) -> list[Rule]:
    """The configured rules, checked as `alertbot rules validate` checks them.

    Raises ConfigError with one `file:line:col: rule-id: message` line per problem.
    """
    with empty_tables_probe(translations=settings.cache_dir / "kql") as probe:
        return load_rules(
            [settings.rules_path], probe=probe, engine_gaps_are_errors=settings.workspace == "local"
        )


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


def log_analytics_target(settings: Settings) -> LogAnalyticsTarget | None:
    """Where "Open in Log Analytics" leads; None (no button) unless both ids are set."""
    if settings.azure_tenant_id and settings.azure_workspace_resource_id:
        return LogAnalyticsTarget(settings.azure_tenant_id, settings.azure_workspace_resource_id)
    return None


def _presenter(app: web.Application) -> AlertPresenter:
    return AlertPresenter(
        store=app[STORE],
        rules=app[RULES],
        clock=app[CLOCK],
        log_analytics=log_analytics_target(app[SETTINGS]),
    )


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
    presenter = _presenter(app)
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
            partial(_chat_ctx, teams=teams, renderer=renderer, questions=questions, slack=slack),
            azure_monitor.azure_monitor_ctx,
            _schedule_ctx,
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


async def _chat_ctx(
    app: web.Application,
    *,
    teams: TeamsChannel,
    renderer: CardRenderer,
    questions: Catalog,
    slack: SlackChannel | None,
) -> AsyncIterator[None]:
    """People in chat: the command router behind Teams' POST /api/messages and Slack
    (POST /slack/events or Socket Mode); text that is no command is a question for the
    catalog (bot.ask)."""
    settings = app[SETTINGS]
    answers = ChatAnswers(
        Asker(catalog=questions, workspace=app[WORKSPACE], clock=app[CLOCK]),
        log_analytics=log_analytics_target(settings),
    )
    notice_answers = NoticeAnswers(
        store=app[STORE],
        rules=lambda: app[RULES].rules,
        clock=app[CLOCK],
        on_enqueued=app[DISPATCHER].wake,
    )
    async with _group_membership(settings) as membership:
        access = AccessPolicy.from_settings(
            settings, membership=membership, **(await _slack_access(settings, slack))
        )
        router = CommandRouter(
            store=app[STORE],
            pipeline=app[PIPELINE],
            rules=app[RULES],
            access=access,
            clock=app[CLOCK],
            log_analytics=log_analytics_target(settings),
            fallback=answers.answer,
            read_only_actions={ASK_CHOOSE: answers.answer_choice, **notice_answers.actions()},
            health=app[HEALTH],
        )
        app[TEAMS_ENDPOINT] = teams.endpoint(
            router=router,
            store=app[STORE],
            renderer=renderer,
            gate=EdgeGate(access),
            clock=app[CLOCK],
        )
        if slack is None:
            yield
            return
        slack.listen(
            router=router,
            store=app[STORE],
            gate=EdgeGate(access),
            clock=app[CLOCK],
            alert_view=_presenter(app).alert_view_by_id,
            slash_command=settings.slack_slash_command,
            entra=membership.user_by_email if membership and _maps_slack_emails(settings) else None,
        )
        from bot.channels.slack import SLACK_APP

        app[SLACK_APP] = slack.app
        if settings.slack_mode == "socket":
            await slack.start_socket_mode()
            log.info("slack: connected in Socket Mode")
        try:
            yield
        finally:
            await slack.close()


async def _slack_access(settings: Settings, slack: SlackChannel | None) -> dict[str, Any]:
    if slack is None:
        return {}
    from bot.channels.slack.wiring import slack_access

    return await slack_access(settings, slack)


def _maps_slack_emails(settings: Settings) -> bool:
    return settings.slack_enabled and settings.slack_map_emails_to_entra


@asynccontextmanager
async def _group_membership(settings: Settings) -> AsyncIterator[GraphGroupMembership | None]:
    """Admin groups (and, for Slack, users by email) are looked up in Microsoft Graph, with
    the Azure credential."""
    if not settings.admin_group_ids and not _maps_slack_emails(settings):
        yield None
        return
    from bot.workspace.azure import build_credential

    credential = build_credential(
        settings.azure_credential, settings.azure_managed_identity_client_id
    )
    membership = GraphGroupMembership(credential, cache_seconds=settings.admin_group_cache_seconds)
    try:
        yield membership
    finally:
        await membership.close()
        await credential.close()


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
        app[METRICS].set_rules(rules)
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
    settings, pipeline, metrics = app[SETTINGS], app[PIPELINE], app[METRICS]

    async def evaluate(rule: Rule, now: datetime) -> object:
        if rule.notify_person is not None:  # notices: only when they are on
            intake = app.get(NOTICE_INTAKE)
            return None if intake is None else await intake.evaluate(rule, now=now)
        started = monotonic()
        with log_context(rule_id=rule.id, slot=now.isoformat()):
            evaluation = await pipeline.evaluate_slot(rule, slot_at=now)
        metrics.observe_evaluation(
            rule.id,
            outcome=evaluation_outcome(evaluation),
            seconds=monotonic() - started,
            slot_at=now,
        )
        return evaluation

    return RuleScheduler(
        evaluate=evaluate,
        clock=app[CLOCK],
        max_concurrent=evaluation_concurrency(settings),
        spread=timedelta(seconds=settings.scheduler_spread_seconds),
    )


async def _health(store: Store) -> dict[str, RuleHealth]:
    return {health.rule_id: health for health in await store.list_rule_health()}


def evaluation_outcome(evaluation: Evaluation | None) -> str:
    """How an evaluation ended, for metrics: ok, query_failed, or slot_taken (another
    replica wrote that slot)."""
    if evaluation is None:
        return "slot_taken"
    return "query_failed" if isinstance(evaluation.outcome, QueryFailure) else "ok"
