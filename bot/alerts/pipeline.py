"""One evaluation of one rule end to end, and one person's action on an alert; each commits whole.

An evaluation is a chain of small stages, like Alertmanager's:

    query (the rule's window as of `now`) -> load (the rule's RuleState as of `now`)
    -> step (the pure lifecycle, new alerts numbered by the store)
    -> route (each event to the conversations subscribed to the rule, its category or
       "all", at its severity) -> commit (alerts, dimension states, health and outbox
       items in one transaction)

The scheduler calls `evaluate_slot`: the rule as of one of its slot times (bot.alerts.slots),
claimed in the commit's own transaction, so that of several replicas evaluating the same
slot exactly one writes; the others find the claim and drop their result (None). A slot
already evaluated is not queried again (a cheap check; the claim is what decides).

Restart safety rests on the last stage. A crash before the commit leaves no trace: the
next run evaluates again. After it, the outbox holds every (event, conversation) to
deliver, and enqueueing is idempotent per event key. Alert ids come from the store's
counter, each committed on its own before the step uses it, so an id handed out in a
cycle that never committed is skipped, never given to another alert.

`apply_action` is a person acknowledging, snoozing, unsnoozing or resolving an alert
(handling.py): the changed alerts (version-checked), the audit entry and the UPDATED
events for every conversation that was told about the alert commit in one transaction.
A write by someone else in between (ConflictError) is retried once, on the fresh state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.alerts.handling import ActionOutcome, Actor, AlertAction, handle
from bot.alerts.rule_model import Rule
from bot.alerts.runner import run_query
from bot.alerts.state import EngineState, QueryFailure, StepResult, step
from bot.models import AlertEvent, AlertInstance, OutboxItem
from bot.store import ConflictError, RuleState, SlotTakenError, Store, new_outbox_item
from bot.workspace.base import QueryResult, Workspace

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What one evaluation found and wrote."""

    rule: Rule
    at: datetime
    outcome: QueryResult | QueryFailure
    result: StepResult
    #: The alerts it created or changed, as saved.
    saved: list[AlertInstance]
    #: The deliveries handed to the outbox (keys it already held are skipped there).
    outbox: list[OutboxItem]


class AlertPipeline:
    """Evaluates rules and applies people's actions against one store and workspace."""

    def __init__(
        self,
        *,
        store: Store,
        workspace: Workspace,
        query_timeout: float | None = None,
        on_enqueued: Callable[[], None] = lambda: None,
        write_back: bool = False,
        worker: str = "",
    ) -> None:
        """`write_back`: people's actions on external alerts are written back (intake.py);
        `worker` names this replica in the slots it claims."""
        self._worker = worker
        self._store = store
        self._workspace = workspace
        self._query_timeout = query_timeout
        self._on_enqueued = on_enqueued
        self._write_back = write_back

    async def evaluate(self, rule: Rule, *, now: datetime) -> Evaluation:
        """Query, step and commit `rule` as of `now`."""
        evaluation = await self._evaluate(rule, now, slot=False)
        assert evaluation is not None  # only a claimed slot can be taken
        return evaluation

    async def evaluate_slot(self, rule: Rule, *, slot_at: datetime) -> Evaluation | None:
        """Query, step and commit `rule` as of its slot `slot_at`, unless that slot was
        (or is meanwhile) evaluated elsewhere: then None, and nothing written."""
        if await self._store.slot_evaluated(rule.id, slot_at):
            log.debug("rule %s: slot %s already evaluated", rule.id, slot_at.isoformat())
            return None
        return await self._evaluate(rule, slot_at, slot=True)

    async def _evaluate(self, rule: Rule, now: datetime, *, slot: bool) -> Evaluation | None:
        outcome = await self._query(rule, now)
        try:
            try:
                evaluation = await self._commit(rule, outcome, now, slot=slot)
            except ConflictError:
                # Someone acted on one of its alerts while the query ran: step on what they wrote.
                log.info("rule %s: an alert changed during the evaluation; stepping again", rule.id)
                evaluation = await self._commit(rule, outcome, now, slot=slot)
        except SlotTakenError:
            log.info("rule %s: slot %s was evaluated elsewhere first", rule.id, now.isoformat())
            return None
        _log_evaluation(evaluation)
        if evaluation.outbox:
            self._on_enqueued()
        return evaluation

    async def apply_action(
        self, action: AlertAction, *, actor: Actor, now: datetime
    ) -> ActionOutcome:
        """Apply a person's action; AlertActionError (user-facing) if it does not apply."""
        try:
            outcome = await self._act(action, actor, now)
        except ConflictError:  # someone else wrote first: decide again on what they wrote
            log.info("alert %d changed while %s acted; trying again", action.alert_id, actor.id)
            outcome = await self._act(action, actor, now)
        log.info(
            "alert %d: %s by %s (%d deliveries)",
            action.alert_id,
            action.verb,
            actor.id,
            len(outcome.outbox),
        )
        if outcome.outbox:
            self._on_enqueued()
        return outcome

    # --- evaluation stages ----------------------------------------------------------

    async def _query(self, rule: Rule, now: datetime) -> QueryResult | QueryFailure:
        try:
            async with asyncio.timeout(self._query_timeout):
                return await run_query(rule, self._workspace, at=now)
        except TimeoutError:
            message = f"the query did not finish within {self._query_timeout:g} s"
            return QueryFailure(message, retryable=True)

    async def _commit(
        self, rule: Rule, outcome: QueryResult | QueryFailure, now: datetime, *, slot: bool
    ) -> Evaluation:
        previous = engine_state(await self._store.load_rule_state(rule.id, now=now))
        result = await self._step(rule, outcome, previous, now)
        outbox = await self._route(rule, result.events, now)
        saved = await self._store.commit_cycle(
            rule_id=rule.id,
            alerts=changed_alerts(rule.id, previous, result),
            dimension_states=[d for d in result.state.dimensions.values() if d.rule_id == rule.id],
            health=result.state.health[rule.id],
            outbox=outbox,
            slot_at=now if slot else None,
            worker=self._worker,
        )
        return Evaluation(rule, now, outcome, result, saved, outbox)

    async def _step(
        self, rule: Rule, outcome: QueryResult | QueryFailure, previous: EngineState, now: datetime
    ) -> StepResult:
        """Step once to count the new alerts, take that many ids from the store, and step
        again with them: `step` is pure, so the second run decides exactly as the first."""
        placeholders = _Placeholders()
        trial = step(rule, outcome, previous, now=now, new_id=placeholders)
        if placeholders.handed_out == 0:
            return trial
        ids = [await self._store.next_alert_id() for _ in range(placeholders.handed_out)]
        return step(rule, outcome, previous, now=now, new_id=iter(ids).__next__)

    async def _route(
        self, rule: Rule, events: Sequence[AlertEvent], now: datetime
    ) -> list[OutboxItem]:
        if not events:
            return []
        subscribers = await self._store.find_subscribers(
            rule_id=rule.id, category=rule.category, severity=rule.severity
        )
        return [
            new_outbox_item(
                event, conversation_id=s.conversation_id, channel=s.channel, not_before=now
            )
            for event in events
            for s in subscribers
        ]

    async def _act(self, action: AlertAction, actor: Actor, now: datetime) -> ActionOutcome:
        async with self._store.transaction() as tx:
            return await handle(tx, action, actor=actor, now=now, write_back=self._write_back)


def engine_state(loaded: RuleState) -> EngineState:
    """The engine's view of one rule's stored state."""
    return EngineState(
        alerts={alert.fingerprint: alert for alert in loaded.open_alerts},
        dimensions={state.fingerprint: state for state in loaded.dimension_states},
        mutes=tuple(loaded.mutes),
        health={loaded.rule_id: loaded.health} if loaded.health else {},
    )


def changed_alerts(rule_id: str, previous: EngineState, result: StepResult) -> list[AlertInstance]:
    """The alerts a step created, changed or closed: what the commit must write."""
    still_open = [
        alert
        for alert in result.state.alerts.values()
        if alert.rule_id == rule_id and alert != previous.alerts.get(alert.fingerprint)
    ]
    return [*result.closed, *still_open]


class _Placeholders:
    """An id allocator that only counts: -1, -2, ... never collide with stored ids."""

    def __init__(self) -> None:
        self.handed_out = 0

    def __call__(self) -> int:
        self.handed_out += 1
        return -self.handed_out


def _log_evaluation(evaluation: Evaluation) -> None:
    rule, at = evaluation.rule, evaluation.at.isoformat()
    if isinstance(evaluation.outcome, QueryFailure):
        log.warning("rule %s at %s: the query failed: %s", rule.id, at, evaluation.outcome.message)
    open_alerts = sum(1 for a in evaluation.result.state.alerts.values() if a.rule_id == rule.id)
    log.info("rule %s evaluated at %s: %d open alert(s)", rule.id, at, open_alerts)
    for event in evaluation.result.events:
        places = sum(1 for i in evaluation.outbox if i.idempotency_key == event.idempotency_key)
        log.info(
            "rule %s: %s%s -> %s",
            rule.id,
            event.kind.value,
            _subject(event),
            f"{places} conversation(s)" if places else "no conversation is subscribed",
            extra={"alert_id": event.alert.id} if event.alert else None,
        )


def _subject(event: AlertEvent) -> str:
    if event.alert is None:
        return f": {event.detail}" if event.detail else ""
    dimensions = ", ".join(f"{k}={v}" for k, v in sorted(event.alert.dimensions.items()))
    return f" alert {event.alert.id}" + (f" ({dimensions})" if dimensions else "")
