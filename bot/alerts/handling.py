"""People handling alerts: acknowledge, snooze, unsnooze, resolve, written to the store.

The pure decisions are in actions.py; `handle` runs one of them inside
a store transaction: it reads the alert with its rule's open alerts and active snoozes
(a snooze may match several), applies the action, saves the changed alerts (their
versions checked), appends the audit entry, and queues the UPDATED event for every
conversation that was told about the alert. AlertPipeline.apply_action commits it and
retries once on ConflictError.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Literal

from bot.alerts import actions
from bot.alerts.actions import ActionResult, AlertActionError
from bot.alerts.state import EngineState
from bot.models import (
    AlertEvent,
    AlertInstance,
    AuditEntry,
    DimensionState,
    Mute,
    OutboxItem,
    OutboxStatus,
)
from bot.store import StoreOperations, new_outbox_item


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, and from which conversation."""

    id: str
    name: str | None = None
    conversation_id: str | None = None


@dataclass(frozen=True, slots=True)
class Acknowledge:
    verb: ClassVar[str] = "ack"
    alert_id: int
    note: str | None = None

    def detail(self) -> str | None:
        return self.note


@dataclass(frozen=True, slots=True)
class Snooze:
    verb: ClassVar[str] = "snooze"
    alert_id: int
    until: datetime
    #: alert: this alert only; dimensions: every alert of its rule with its dimension
    #: values, a later one too; rule: every alert of its rule.
    scope: Literal["alert", "dimensions", "rule"] = "alert"
    note: str | None = None

    def detail(self) -> str | None:
        text = f"until {self.until.isoformat()} ({self.scope})"
        return f"{text}: {self.note}" if self.note else text


@dataclass(frozen=True, slots=True)
class Unsnooze:
    verb: ClassVar[str] = "unsnooze"
    alert_id: int

    def detail(self) -> str | None:
        return None


@dataclass(frozen=True, slots=True)
class Resolve:
    verb: ClassVar[str] = "resolve"
    alert_id: int
    note: str | None = None

    def detail(self) -> str | None:
        return self.note


AlertAction = Acknowledge | Snooze | Unsnooze | Resolve


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    action: AlertAction
    #: The alerts the action changed, as saved.
    alerts: list[AlertInstance]
    events: list[AlertEvent]
    audit: AuditEntry
    #: The UPDATED deliveries enqueued.
    outbox: list[OutboxItem]


async def handle(
    ops: StoreOperations,
    action: AlertAction,
    *,
    actor: Actor,
    now: datetime,
    write_back: bool = False,
) -> ActionOutcome:
    """Apply `action` with `ops` (one transaction): the changed alerts, the audit entry and
    the UPDATED deliveries, and, with `write_back`, the new state to write back to the
    system an external alert came from. AlertActionError if it does not apply;
    ConflictError if an alert changed since it was read."""
    alert, state = await _load_for_action(ops, action.alert_id, now)
    result = await _perform(ops, action, state, alert, actor, now)
    saved = [await ops.save_alert(changed) for changed in _touched(result.events)]
    audit = AuditEntry(
        at=now,
        actor=actor.id,
        actor_name=actor.name,
        action=action.verb,
        conversation_id=actor.conversation_id,
        alert_id=alert.id,
        detail=action.detail(),
    )
    await ops.append_audit(audit)
    if write_back:
        await _queue_write_back(ops, action, alert, actor, now)
    outbox = await ops.enqueue(await _told_before(ops, result.events, now))
    return ActionOutcome(action, saved, result.events, audit, outbox)


#: The state an external alert takes where it came from, after a person's action here.
EXTERNAL_STATES: dict[type, str] = {Acknowledge: "Acknowledged", Resolve: "Closed"}


async def _queue_write_back(
    ops: StoreOperations, action: AlertAction, alert: AlertInstance, actor: Actor, now: datetime
) -> None:
    new_state = EXTERNAL_STATES.get(type(action))
    link = await ops.get_external_link(alert.id) if new_state else None
    if link is not None and new_state is not None:
        await ops.queue_writeback(link, new_state=new_state, actor=actor.name or actor.id, at=now)


async def _load_for_action(
    ops: StoreOperations, alert_id: int, now: datetime
) -> tuple[AlertInstance, EngineState]:
    """The alert, and its rule's open alerts and active snoozes (a snooze may match several)."""
    alert = await ops.get_alert(alert_id)
    if alert is None or not alert.status.is_open:
        raise AlertActionError(f"there is no open alert {alert_id}")
    siblings = await ops.list_alerts(open_only=True, rule_id=alert.rule_id)
    mutes = await ops.list_mutes(now=now, rule_id=alert.rule_id)
    state = EngineState(alerts={a.fingerprint: a for a in siblings}, mutes=tuple(mutes))
    return alert, state


async def _perform(
    ops: StoreOperations,
    action: AlertAction,
    state: EngineState,
    alert: AlertInstance,
    actor: Actor,
    now: datetime,
) -> ActionResult:
    match action:
        case Acknowledge(note=note):
            return actions.acknowledge(
                state, alert.id, actor=actor.id, actor_name=actor.name, now=now, note=note
            )
        case Snooze():
            mute = await ops.add_mute(_mute(action, alert, actor, now))
            return actions.snooze(state, mute, now=now)
        case Unsnooze():
            return await _unsnooze(ops, state, alert, actor, now)
        case Resolve(note=note):
            await _hold_until_clear(ops, alert)
            return actions.resolve(
                state, alert.id, actor=actor.id, actor_name=actor.name, now=now, note=note
            )


async def _hold_until_clear(ops: StoreOperations, alert: AlertInstance) -> None:
    """Keep the closed alert's dimension quiet until its condition clears (see state.py)."""
    states = await ops.list_dimension_states(alert.rule_id)
    mine = next((d for d in states if d.fingerprint == alert.fingerprint), None)
    held = (mine or _fresh_dimension_state(alert)).model_copy(update={"held_until_clear": True})
    others = [d for d in states if d.fingerprint != alert.fingerprint]
    await ops.replace_dimension_states(alert.rule_id, [*others, held])


def _fresh_dimension_state(alert: AlertInstance) -> DimensionState:
    return DimensionState(
        fingerprint=alert.fingerprint, rule_id=alert.rule_id, dimensions=dict(alert.dimensions)
    )


def _mute(action: Snooze, alert: AlertInstance, actor: Actor, now: datetime) -> Mute:
    return Mute(
        id=0,
        rule_id=alert.rule_id,
        matchers=dict(alert.dimensions) if action.scope == "dimensions" else {},
        alert_id=alert.id if action.scope == "alert" else None,
        until=action.until,
        created_by=actor.id,
        created_by_name=actor.name,
        created_at=now,
        reason=action.note,
    )


async def _unsnooze(
    ops: StoreOperations, state: EngineState, alert: AlertInstance, actor: Actor, now: datetime
) -> ActionResult:
    """End every snooze that silences this alert (and so the others they silence)."""
    silencing = [mute for mute in state.mutes if mute.matches(alert, now=now)]
    if not silencing:
        raise AlertActionError(f"alert {alert.id} is not snoozed")
    result = ActionResult(state, [])
    for mute in silencing:
        ended = actions.unsnooze(result.state, mute.id, actor=actor.id, now=now)
        result = ActionResult(ended.state, [*result.events, *ended.events])
        await ops.delete_mute(mute.id)
    return result


def _touched(events: Sequence[AlertEvent]) -> list[AlertInstance]:
    """Each changed alert once, as its last event left it."""
    latest = {event.alert.id: event.alert for event in events if event.alert is not None}
    return list(latest.values())


async def _told_before(
    ops: StoreOperations, events: Sequence[AlertEvent], now: datetime
) -> list[OutboxItem]:
    """Each event for every conversation that was told about its alert (not given up on)."""
    items: list[OutboxItem] = []
    for event in events:
        if event.alert is None:
            continue
        earlier = await ops.list_outbox(alert_id=event.alert.id)
        places = {
            (i.conversation_id, i.channel) for i in earlier if i.status != OutboxStatus.FAILED
        }
        items += [
            new_outbox_item(event, conversation_id=conversation, channel=channel, not_before=now)
            for conversation, channel in sorted(places)
        ]
    return items
