"""What people do to alerts: acknowledge, snooze, end a snooze, resolve. Pure, like
`state.step`.

Each returns the new EngineState and UPDATED events (so cards can show who did
what); the history of every touched alert records who, when and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.alerts.state import EngineState, matching_mute, snoozed
from bot.errors import AlertBotError
from bot.models import AlertEvent, AlertEventKind, AlertInstance, AlertStatus, Mute, Transition


class AlertActionError(AlertBotError):
    """The action does not apply (no such open alert, already acknowledged, ...)."""


@dataclass(frozen=True, slots=True)
class ActionResult:
    state: EngineState
    events: list[AlertEvent]


def acknowledge(
    state: EngineState,
    alert_id: int,
    *,
    actor: str,
    now: datetime,
    actor_name: str | None = None,
    note: str | None = None,
) -> ActionResult:
    """Someone owns the problem: no more reminders; it still resolves when it clears."""
    alert = _open_alert(state, alert_id)
    if alert.acknowledged_by is not None:
        raise AlertActionError(
            f"alert {alert_id} was already acknowledged by {alert.acknowledged_by}"
        )
    after = AlertStatus.SNOOZED if alert.status is AlertStatus.SNOOZED else AlertStatus.ACKNOWLEDGED
    entry = Transition(
        at=now,
        from_status=alert.status,
        to_status=after,
        actor=actor,
        actor_name=actor_name,
        note=note or "acknowledged",
    )
    acked = alert.model_copy(
        update={
            "status": after,
            "acknowledged_by": actor,
            "acknowledged_at": now,
            "history": [*alert.history, entry],
        }
    )
    return _replace(state, acked, now, f"acknowledged by {actor_name or actor}")


def snooze(state: EngineState, mute: Mute, *, now: datetime) -> ActionResult:
    """Add `mute` and silence every open alert it matches, from now until `mute.until`."""
    if mute.until <= now:
        raise AlertActionError("a snooze must end in the future")
    if mute.alert_id is not None:
        _open_alert(state, mute.alert_id)
    mutes = (*state.mutes, mute)
    updated = state.model_copy(update={"mutes": mutes})
    events: list[AlertEvent] = []
    for alert in state.alerts.values():
        if mute.matches(alert, now=now):
            updated, new_events = _apply_replace(updated, snoozed(alert, mute, now), now, "snoozed")
            events += new_events
    return ActionResult(updated, events)


def unsnooze(state: EngineState, mute_id: int, *, actor: str, now: datetime) -> ActionResult:
    """End a snooze early; alerts it silenced (and no other snooze does) wake up."""
    if not any(mute.id == mute_id for mute in state.mutes):
        raise AlertActionError(f"there is no snooze {mute_id}")
    mutes = tuple(mute for mute in state.mutes if mute.id != mute_id)
    updated = state.model_copy(update={"mutes": mutes})
    events: list[AlertEvent] = []
    for alert in state.alerts.values():
        if alert.status is AlertStatus.SNOOZED and matching_mute(alert, mutes, now) is None:
            updated, new_events = _apply_replace(
                updated, _woken(alert, actor, now), now, "snooze ended"
            )
            events += new_events
    return ActionResult(updated, events)


def resolve(
    state: EngineState,
    alert_id: int,
    *,
    actor: str,
    now: datetime,
    actor_name: str | None = None,
    note: str | None = None,
) -> ActionResult:
    """A person closes an alert (pure, like the other actions). It leaves the open set; its
    dimension is held quiet until an evaluation finds the condition clear (handling.handle
    records that), so a problem that persists does not fire again as a new alert."""
    alert = _open_alert(state, alert_id)
    entry = Transition(
        at=now,
        from_status=alert.status,
        to_status=AlertStatus.RESOLVED,
        actor=actor,
        actor_name=actor_name,
        note=note or "resolved",
    )
    closed = alert.model_copy(
        update={
            "status": AlertStatus.RESOLVED,
            "resolved_at": now,
            "snoozed_until": None,
            "history": [*alert.history, entry],
        }
    )
    alerts = {key: open_ for key, open_ in state.alerts.items() if open_.id != alert_id}
    event = AlertEvent(
        kind=AlertEventKind.UPDATED,
        at=now,
        rule_id=alert.rule_id,
        alert=closed,
        detail=f"resolved by {actor_name or actor}",
    )
    return ActionResult(state.model_copy(update={"alerts": alerts}), [event])


def _woken(alert: AlertInstance, actor: str, now: datetime) -> AlertInstance:
    after = AlertStatus.ACKNOWLEDGED if alert.acknowledged_by else AlertStatus.FIRING
    entry = Transition(
        at=now, from_status=alert.status, to_status=after, actor=actor, note="snooze ended"
    )
    return alert.model_copy(
        update={"status": after, "snoozed_until": None, "history": [*alert.history, entry]}
    )


def _open_alert(state: EngineState, alert_id: int) -> AlertInstance:
    alert = state.alert(alert_id)
    if alert is None:
        raise AlertActionError(f"there is no open alert {alert_id}")
    return alert


def _replace(state: EngineState, alert: AlertInstance, now: datetime, detail: str) -> ActionResult:
    updated, events = _apply_replace(state, alert, now, detail)
    return ActionResult(updated, events)


def _apply_replace(
    state: EngineState, alert: AlertInstance, now: datetime, detail: str
) -> tuple[EngineState, list[AlertEvent]]:
    alerts = {**state.alerts, alert.fingerprint: alert}
    event = AlertEvent(
        kind=AlertEventKind.UPDATED, at=now, rule_id=alert.rule_id, alert=alert, detail=detail
    )
    return state.model_copy(update={"alerts": alerts}), [event]
