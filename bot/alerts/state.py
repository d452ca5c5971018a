"""The alert lifecycle: one pure step per evaluation, from the previous state to the next.

    OK --breach--> firing --(ack)--> acknowledged --clear--> resolved
                     |  ^                                      ^
               snooze|  |snooze ends while still firing        |
                     v  |  (SNOOZE_EXPIRED)                    |
                   snoozed ----------------clear---------------+

`step(rule, outcome, previous, now=..., new_id=...)` never reads the clock. New
alert instances take their short human id from `new_id`, an allocator the caller
passes in: the store backs it with a counter it reads once at start-up (one engine
process numbers the alerts) and saves the id with the instance, so ids stay unique
across restarts; `alertbot evaluate` passes a plain counter.

Semantics, following Azure Monitor log search alerts:
- A combination fires when the current evaluation breaches and at least
  `min_failing` of its last `evaluations` evaluations did (N of M).
- auto_resolve (stateful): notify once, remind per `renotify`, resolve with a notice
  when the condition no longer holds. Fire-every-time: notify at every breaching
  evaluation (no more often than `renotify` if set, like muteActionsDuration) and
  close silently when clear.
- Acknowledged and snoozed alerts get no reminders; a snooze that ends while the
  alert still fires tells people again (SNOOZE_EXPIRED). Clearing always resolves.
- A failed query changes no alert: it records RuleHealth and emits one
  EVALUATION_ERROR per new kind of error (a throttle's "retry after 1 s", "2 s", ... is
  one kind), and the first evaluation that runs again emits EVALUATION_RECOVERED.
- A reminder is due at the first evaluation no earlier than half a frequency
  before its time, so scheduler jitter does not push it back a whole period.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from bot.alerts.evaluate import MeasureError, Measurement, is_failing, measure
from bot.alerts.rule_model import Rule
from bot.models import (
    AlertEvent,
    AlertEventKind,
    AlertInstance,
    AlertStatus,
    DimensionState,
    Mute,
    PeriodOutcome,
    RuleHealth,
    Transition,
    fingerprint,
)
from bot.workspace.base import QueryResult

IdAllocator = Callable[[], int]


class EngineState(BaseModel):
    """What the engine remembers between evaluations (persisted by the store)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Open alert instances (not resolved), by fingerprint.
    alerts: dict[str, AlertInstance] = Field(default_factory=dict)
    #: Recent period outcomes, by fingerprint.
    dimensions: dict[str, DimensionState] = Field(default_factory=dict)
    mutes: tuple[Mute, ...] = ()
    health: dict[str, RuleHealth] = Field(default_factory=dict)

    def alert(self, alert_id: int) -> AlertInstance | None:
        return next((a for a in self.alerts.values() if a.id == alert_id), None)


@dataclass(frozen=True, slots=True)
class QueryFailure:
    """The query could not be answered; `step` records it without touching alerts."""

    message: str
    retryable: bool = False
    #: What failed, to tell people once per kind: the error's class (`ThrottledError`),
    #: `binding`, `partial` or `measure`. Messages vary from one attempt to the next.
    kind: str = "query"


@dataclass(frozen=True, slots=True)
class StepResult:
    state: EngineState
    events: list[AlertEvent]
    measurements: list[Measurement] = field(default_factory=list)
    #: Instances resolved by this step: no longer in `state.alerts`, still to be saved.
    closed: list[AlertInstance] = field(default_factory=list)


def step(
    rule: Rule,
    outcome: QueryResult | QueryFailure,
    previous: EngineState,
    *,
    now: datetime,
    new_id: IdAllocator,
) -> StepResult:
    """The state after evaluating `rule` at `now` with `outcome`, and what to tell people."""
    if isinstance(outcome, QueryFailure):
        return _failed(rule, outcome, previous, now)
    try:
        measurements = measure(rule, outcome, known=_known_dimensions(rule, previous))
    except MeasureError as error:
        return _failed(rule, QueryFailure(str(error), kind="measure"), previous, now)
    return _apply(rule, measurements, previous, now=now, new_id=new_id)


def _apply(
    rule: Rule,
    measurements: list[Measurement],
    previous: EngineState,
    *,
    now: datetime,
    new_id: IdAllocator,
) -> StepResult:
    work = _Work(
        rule=rule,
        now=now,
        mutes=tuple(mute for mute in previous.mutes if mute.until > now),
        alerts=dict(previous.alerts),
        dimensions={k: d for k, d in previous.dimensions.items() if d.rule_id != rule.id},
    )
    for measurement in measurements:
        _advance(work, measurement, previous.dimensions.get(work.key(measurement)), new_id)
    measured = {work.key(m) for m in measurements}
    for key, alert in list(work.alerts.items()):
        if alert.rule_id == rule.id and key not in measured:  # the rule's dimensions changed
            work.resolve(key, "no longer measured")
    state = EngineState(
        alerts=work.alerts,
        dimensions=work.dimensions,
        mutes=work.mutes,
        health=_healthy(rule, previous, now),
    )
    events = [*_recovered(rule, previous, now), *work.events]
    return StepResult(state, events, measurements, work.closed)


@dataclass
class _Work:
    """The next state while one step builds it (never escapes `step`)."""

    rule: Rule
    now: datetime
    mutes: tuple[Mute, ...]
    alerts: dict[str, AlertInstance]
    dimensions: dict[str, DimensionState]
    events: list[AlertEvent] = field(default_factory=list)
    closed: list[AlertInstance] = field(default_factory=list)

    def key(self, measurement: Measurement) -> str:
        return fingerprint(self.rule.id, dict(measurement.dimensions))

    def resolve(self, key: str, why: str) -> None:
        resolved, events = _resolve(self.rule, self.alerts.pop(key), self.now, why)
        self.closed.append(resolved)
        self.events += events


def _advance(
    work: _Work,
    measurement: Measurement,
    remembered: DimensionState | None,
    new_id: IdAllocator,
) -> None:
    """One dimension combination: record the period, then open, keep or resolve its alert."""
    rule, now, key = work.rule, work.now, work.key(measurement)
    recent = _record(rule, remembered, measurement, now)
    failing = is_failing(recent, rule.failing_periods)
    # Closed by a person while breaching: quiet until one evaluation finds it clear.
    held = remembered is not None and remembered.held_until_clear and measurement.breached
    if key in work.alerts and failing:
        work.alerts[key], events = _still_firing(
            rule, work.alerts[key], measurement, work.mutes, now
        )
        work.events += events
    elif key in work.alerts:
        work.resolve(key, "the condition no longer holds")
    elif failing and measurement.breached and not held:
        work.alerts[key], events = _open(rule, key, measurement, work.mutes, now, new_id())
        work.events += events
    if key in work.alerts or held or any(outcome.breached for outcome in recent):
        work.dimensions[key] = DimensionState(
            fingerprint=key,
            rule_id=rule.id,
            dimensions=dict(measurement.dimensions),
            recent=recent,
            held_until_clear=held,
        )


def _known_dimensions(rule: Rule, state: EngineState) -> list[dict[str, str]]:
    remembered = [d.dimensions for d in state.dimensions.values() if d.rule_id == rule.id]
    return remembered + [a.dimensions for a in state.alerts.values() if a.rule_id == rule.id]


def _record(
    rule: Rule, previous: DimensionState | None, measurement: Measurement, now: datetime
) -> list[PeriodOutcome]:
    """The last M outcomes with this one; outcomes older than M periods are forgotten."""
    horizon = now - rule.frequency * rule.failing_periods.evaluations
    earlier = [o for o in (previous.recent if previous else []) if horizon < o.at < now]
    recent = [*earlier, PeriodOutcome(at=now, breached=measurement.breached)]
    return recent[-rule.failing_periods.evaluations :]


def _open(
    rule: Rule,
    key: str,
    measurement: Measurement,
    mutes: Sequence[Mute],
    now: datetime,
    alert_id: int,
) -> tuple[AlertInstance, list[AlertEvent]]:
    alert = AlertInstance(
        id=alert_id,
        fingerprint=key,
        rule_id=rule.id,
        dimensions=dict(measurement.dimensions),
        status=AlertStatus.FIRING,
        value=measurement.value or 0.0,
        threshold=rule.threshold,
        opened_at=now,
        last_evaluated_at=now,
        last_notified_at=now,
        notify_count=1,
        evidence=list(measurement.evidence),
        history=[_transition(now, None, AlertStatus.FIRING, _condition(rule, measurement))],
    )
    mute = matching_mute(alert, mutes, now)
    if mute is not None:
        silent = alert.model_copy(update={"last_notified_at": None, "notify_count": 0})
        return snoozed(silent, mute, now), []
    return alert, [_event(AlertEventKind.FIRED, now, alert)]


def _still_firing(
    rule: Rule,
    alert: AlertInstance,
    measurement: Measurement,
    mutes: Sequence[Mute],
    now: datetime,
) -> tuple[AlertInstance, list[AlertEvent]]:
    changed = measurement.value is not None and measurement.value != alert.value
    current = alert.model_copy(
        update={
            "value": alert.value if measurement.value is None else measurement.value,
            "last_evaluated_at": now,
            "evidence": list(measurement.evidence) or alert.evidence,
        }
    )
    mute = matching_mute(current, mutes, now)
    if mute is not None:
        return snoozed(current, mute, now), []
    if current.status is AlertStatus.SNOOZED:
        return _snooze_ended(current, now)
    if current.status is AlertStatus.FIRING and _reminder_due(rule, current, now):
        reminded = _notified(current, now)
        return reminded, [_event(AlertEventKind.RENOTIFY, now, reminded, _repeat_note(rule))]
    if changed and rule.auto_resolve:
        return current, [
            _event(AlertEventKind.UPDATED, now, current, _condition(rule, measurement))
        ]
    return current, []


def _reminder_due(rule: Rule, alert: AlertInstance, now: datetime) -> bool:
    if rule.renotify is None:
        return not rule.auto_resolve  # fire every time: each breaching evaluation notifies
    if alert.last_notified_at is None:
        return True
    due = alert.last_notified_at + rule.renotify.delay(max(alert.notify_count - 1, 0))
    return now >= due - rule.frequency / 2


def _repeat_note(rule: Rule) -> str:
    return "still firing" if rule.auto_resolve else "fired again"


def _snooze_ended(alert: AlertInstance, now: datetime) -> tuple[AlertInstance, list[AlertEvent]]:
    back = AlertStatus.ACKNOWLEDGED if alert.acknowledged_by else AlertStatus.FIRING
    awake = _notified(
        alert.model_copy(
            update={
                "status": back,
                "snoozed_until": None,
                "history": [
                    *alert.history,
                    _transition(now, alert.status, back, "snooze ended while still firing"),
                ],
            }
        ),
        now,
    )
    return awake, [_event(AlertEventKind.SNOOZE_EXPIRED, now, awake, "snooze ended, still firing")]


def _resolve(
    rule: Rule, alert: AlertInstance, now: datetime, why: str
) -> tuple[AlertInstance, list[AlertEvent]]:
    resolved = alert.model_copy(
        update={
            "status": AlertStatus.RESOLVED,
            "resolved_at": now,
            "last_evaluated_at": now,
            "snoozed_until": None,
            "history": [*alert.history, _transition(now, alert.status, AlertStatus.RESOLVED, why)],
        }
    )
    if not rule.auto_resolve:
        return resolved, []  # fire-every-time alerts close without a notice
    return resolved, [_event(AlertEventKind.RESOLVED, now, resolved, why)]


def _failed(rule: Rule, failure: QueryFailure, previous: EngineState, now: datetime) -> StepResult:
    before = previous.health.get(rule.id) or RuleHealth(rule_id=rule.id)
    health = before.model_copy(
        update={
            "last_evaluated_at": now,
            "last_error": failure.message,
            "last_error_kind": failure.kind,
            "consecutive_errors": before.consecutive_errors + 1,
        }
    )
    state = previous.model_copy(update={"health": {**previous.health, rule.id: health}})
    if before.consecutive_errors and before.last_error_kind == failure.kind:
        return StepResult(state=state, events=[])
    event = AlertEvent(
        kind=AlertEventKind.EVALUATION_ERROR, at=now, rule_id=rule.id, detail=failure.message
    )
    return StepResult(state=state, events=[event])


def _recovered(rule: Rule, previous: EngineState, now: datetime) -> list[AlertEvent]:
    """The all-clear after failed evaluations (whose first failure people were told of)."""
    before = previous.health.get(rule.id)
    if before is None or not before.consecutive_errors:
        return []
    detail = f"evaluated again after {before.consecutive_errors} failed evaluations"
    return [
        AlertEvent(kind=AlertEventKind.EVALUATION_RECOVERED, at=now, rule_id=rule.id, detail=detail)
    ]


def _healthy(rule: Rule, previous: EngineState, now: datetime) -> dict[str, RuleHealth]:
    health = RuleHealth(rule_id=rule.id, last_evaluated_at=now, last_success_at=now)
    return {**previous.health, rule.id: health}


def matching_mute(alert: AlertInstance, mutes: Sequence[Mute], now: datetime) -> Mute | None:
    """The active mute silencing `alert` that lasts longest, if any."""
    matching = [mute for mute in mutes if mute.matches(alert, now=now)]
    return max(matching, key=lambda mute: mute.until, default=None)


def snoozed(alert: AlertInstance, mute: Mute, now: datetime) -> AlertInstance:
    """`alert` silenced by `mute` (recorded in its history once)."""
    if alert.status is AlertStatus.SNOOZED and alert.snoozed_until == mute.until:
        return alert
    # The card's status line says until when and by whom, the audit log keeps the snooze's
    # scope; the note is only what the person wrote, because cards show it as theirs.
    entry = Transition(
        at=now,
        from_status=alert.status,
        to_status=AlertStatus.SNOOZED,
        actor=mute.created_by,
        actor_name=mute.created_by_name,
        note=mute.reason,
    )
    return alert.model_copy(
        update={
            "status": AlertStatus.SNOOZED,
            "snoozed_until": mute.until,
            "history": [*alert.history, entry],
        }
    )


def _notified(alert: AlertInstance, now: datetime) -> AlertInstance:
    return alert.model_copy(
        update={"last_notified_at": now, "notify_count": alert.notify_count + 1}
    )


def _condition(rule: Rule, measurement: Measurement) -> str:
    value = "no data" if measurement.value is None else f"{measurement.value:g}"
    return f"{rule.measure.describe()} = {value} {rule.operator} {rule.threshold:g}"


def _transition(
    now: datetime, before: AlertStatus | None, after: AlertStatus, note: str
) -> Transition:
    return Transition(at=now, from_status=before, to_status=after, note=note)


def _event(
    kind: AlertEventKind, now: datetime, alert: AlertInstance, detail: str | None = None
) -> AlertEvent:
    return AlertEvent(kind=kind, at=now, rule_id=alert.rule_id, alert=alert, detail=detail)
