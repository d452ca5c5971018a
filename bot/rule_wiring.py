"""Rules at run time: the configured set, checked, and its schedule with the reloader.

`load_rule_set` checks the rules as `alertbot rules validate` does (create_app calls it
before serving anything, and the reloader on each change); `schedule_ctx` runs the
scheduler (when enabled) and the reloader for the application's lifetime.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from functools import partial
from time import monotonic

from aiohttp import web

from bot.alerts.pipeline import Evaluation
from bot.alerts.reload import RuleReloader
from bot.alerts.rule_model import Rule
from bot.alerts.rules import load_rules
from bot.alerts.scheduler import RuleScheduler
from bot.alerts.state import QueryFailure
from bot.logs import log_context
from bot.models import RuleHealth
from bot.notice_wiring import NOTICE_INTAKE
from bot.settings import Settings, evaluation_concurrency
from bot.store import Store
from bot.web import CLOCK, METRICS, PIPELINE, RULES, SCHEDULER, SETTINGS, STORE
from bot.workspace.probe import empty_tables_probe

log = logging.getLogger(__name__)


def load_rule_set(settings: Settings) -> list[Rule]:
    """The configured rules, checked as `alertbot rules validate` checks them.

    Raises ConfigError with one `file:line:col: rule-id: message` line per problem.
    """
    with empty_tables_probe(translations=settings.cache_dir / "kql") as probe:
        return load_rules(
            [settings.rules_path], probe=probe, engine_gaps_are_errors=settings.workspace == "local"
        )


async def schedule_ctx(app: web.Application) -> AsyncIterator[None]:
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
