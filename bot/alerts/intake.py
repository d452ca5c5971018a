"""Alerts from other monitoring systems into the store: once per notification, in one commit.

`ExternalIntake.receive` records the notification (a retry with the same key changes
nothing), steps the alert's lifecycle (external.apply_signal), saves the alert, the rule
it is shown with and its link to the external id, and queues its card for every
subscribed conversation, all in one transaction: a crash half-way leaves no trace, and
the sender's retry then does the work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.alerts.external import (
    ExternalSignal,
    SignalOutcome,
    alert_fingerprint,
    apply_signal,
    external_rule,
    opens_alert,
)
from bot.alerts.rule_model import Rule
from bot.models import AlertInstance, ExternalLink, OutboxItem
from bot.store import Store, StoreOperations, new_outbox_item

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IntakeOutcome:
    """What one notification did: nothing (a repeat, or nothing to change) or one event."""

    duplicate: bool
    rule: Rule
    alert: AlertInstance | None = None
    outbox: tuple[OutboxItem, ...] = ()


class ExternalIntake:
    """Takes external signals into the store and the outbox."""

    def __init__(
        self,
        *,
        store: Store,
        on_rule: Callable[[Rule], None] = lambda rule: None,
        on_enqueued: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._on_rule = on_rule
        self._on_enqueued = on_enqueued

    async def receive(self, signal: ExternalSignal, *, now: datetime) -> IntakeOutcome:
        rule = external_rule(signal)
        async with self._store.transaction() as tx:
            outcome = await _receive(tx, signal, rule, now)
        self._on_rule(rule)
        _log(signal, outcome)
        if outcome.outbox:
            self._on_enqueued()
        return outcome


async def _receive(
    tx: StoreOperations, signal: ExternalSignal, rule: Rule, now: datetime
) -> IntakeOutcome:
    if not await tx.record_notification(signal.source, signal.notification_key, at=now):
        return IntakeOutcome(duplicate=True, rule=rule)
    await tx.save_external_rule(
        rule.id, source=signal.source, definition=rule.model_dump(mode="json"), at=now
    )
    open_alert = await _open_alert(tx, signal)
    new_id = await tx.next_alert_id() if opens_alert(signal, open_alert) else 0
    step = apply_signal(signal, open_alert, now=now, new_id=new_id)
    if step.alert is None or step.event is None:
        return IntakeOutcome(duplicate=False, rule=rule)
    return await _commit(tx, signal, rule, step, now)


async def _commit(
    tx: StoreOperations, signal: ExternalSignal, rule: Rule, step: SignalOutcome, now: datetime
) -> IntakeOutcome:
    alert, event = step.alert, step.event
    assert alert is not None
    assert event is not None
    saved = await tx.save_alert(alert)
    if alert.version == 0:
        await tx.link_external_alert(
            ExternalLink(
                alert_id=saved.id,
                source=signal.source,
                external_id=signal.external_id,
                rule_id=rule.id,
            )
        )
    subscribers = await tx.find_subscribers(
        rule_id=rule.id, category=rule.category, severity=rule.severity
    )
    items = [
        new_outbox_item(
            event.model_copy(update={"alert": saved}),
            conversation_id=s.conversation_id,
            channel=s.channel,
            not_before=now,
        )
        for s in subscribers
    ]
    added = await tx.enqueue(items)
    return IntakeOutcome(duplicate=False, rule=rule, alert=saved, outbox=tuple(added))


async def _open_alert(tx: StoreOperations, signal: ExternalSignal) -> AlertInstance | None:
    wanted = alert_fingerprint(signal)
    alerts = await tx.list_alerts(open_only=True, rule_id=signal.rule_id)
    return next((alert for alert in alerts if alert.fingerprint == wanted), None)


def _log(signal: ExternalSignal, outcome: IntakeOutcome) -> None:
    if outcome.duplicate:
        log.info("%s %s %s: a repeat, ignored", signal.source, signal.external_id, signal.condition)
    elif outcome.alert is None:
        log.info("%s %s %s: nothing to change", signal.source, signal.external_id, signal.condition)
    else:
        log.info(
            "%s %s %s: alert %d %s -> %d conversation(s)",
            signal.source,
            signal.external_id,
            signal.condition,
            outcome.alert.id,
            outcome.alert.status.value,
            len(outcome.outbox),
        )
