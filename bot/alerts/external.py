"""Alerts evaluated elsewhere (Azure Monitor): the rule they are shown with, and their lifecycle.

Pure. Another system decided that something fired or resolved; the bot only keeps the
alert's state, posts its card and lets people act on it. An `ExternalSignal` is what the
edge (bot.azure_monitor) makes of a notification; `external_rule` is the read-only rule
the card, the `alerts` list and the `rule` command show for it (never scheduled: the
scheduler only runs the rule files); `apply_signal` is the lifecycle:

    Fired, nothing open        -> a new firing alert (FIRED)
    Resolved, open             -> resolved (RESOLVED); a person's ack or snooze ends with it
    anything else              -> nothing (a late Resolved, a Fired for an open alert)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.alerts.rule_model import Link, Measure, Operator, Remediation, Rule
from bot.models import (
    AlertEvent,
    AlertEventKind,
    AlertInstance,
    AlertStatus,
    Transition,
    fingerprint,
)

#: Rule ids of external alerts start with their source, so they never clash with rule files.
MAX_RULE_ID: Final = 64
MAX_EVIDENCE_ROWS: Final = 10
MAX_FREQUENCY: Final = timedelta(hours=12)


class ExternalSignal(BaseModel):
    """One notification from another monitoring system, in the bot's terms."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(pattern=r"^[a-z0-9-]+$", max_length=50)
    #: Shown on the card: where the alert comes from, e.g. "Azure Monitor".
    source_name: str
    external_id: str = Field(min_length=1, max_length=512)
    condition: Literal["fired", "resolved"]
    rule_name: str = Field(min_length=1)
    description: str | None = None
    category: str = Field(min_length=1)
    severity: int = Field(ge=0, le=4)
    #: The kind of signal there, e.g. "Log", "Metric", "Activity Log".
    signal_type: str
    fired_at: datetime
    resolved_at: datetime | None = None
    query: str | None = None
    measure: Measure = Measure()
    operator: Operator = ">"
    threshold: float = 0.0
    value: float | None = None
    dimensions: dict[str, str] = Field(default_factory=dict)
    window: timedelta = timedelta(minutes=5)
    links: tuple[Link, ...] = ()
    #: Facts shown as the card's evidence (e.g. the resources it concerns).
    evidence: tuple[dict[str, Any], ...] = ()

    @property
    def rule_id(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.rule_name.lower()).strip("-") or "alert"
        return f"{self.source}-{slug}"[:MAX_RULE_ID].rstrip("-")

    @property
    def notification_key(self) -> str:
        """One notification: a retry of it carries the same key."""
        return f"{self.external_id}:{self.condition}"


def external_rule(signal: ExternalSignal) -> Rule:
    """The read-only rule an external alert is shown with."""
    origin = f"{signal.source_name} {signal.signal_type.lower()} alert rule {signal.rule_name}"
    description = signal.description or f"Raised by the {origin}."
    return Rule(
        id=signal.rule_id,
        title=signal.rule_name[:120],
        description=f"From {signal.source_name}: {description}",
        category=signal.category,
        severity=signal.severity,
        query=signal.query or f"// {origin}: no log query",
        # Azure does not say how often its rule runs; at most the window, within our limits.
        frequency=min(signal.window, MAX_FREQUENCY),
        window=signal.window,
        measure=signal.measure,
        operator=signal.operator,
        threshold=signal.threshold,
        dimensions=tuple(signal.dimensions),
        remediation=Remediation(
            text=(
                f"This alert was raised by the {origin}. Open it in the portal for its "
                "details; acknowledging or resolving it here is written back there when "
                "write-back is on."
            ),
            links=signal.links,
        ),
    )


@dataclass(frozen=True, slots=True)
class SignalOutcome:
    """What a signal changed: the alert to save (new or updated) and its event, or nothing."""

    alert: AlertInstance | None
    event: AlertEvent | None


def apply_signal(
    signal: ExternalSignal,
    open_alert: AlertInstance | None,
    *,
    now: datetime,
    new_id: int,
) -> SignalOutcome:
    """The lifecycle step for `signal`, given the alert it already opened (if still open);
    `new_id` numbers the alert a Fired signal opens (see `opens_alert`)."""
    if opens_alert(signal, open_alert):
        alert = _fired(signal, new_id, now)
        return SignalOutcome(alert, _event(AlertEventKind.FIRED, alert, now))
    if signal.condition == "fired" or open_alert is None:
        return SignalOutcome(None, None)
    resolved = _resolved(signal, open_alert, now)
    return SignalOutcome(resolved, _event(AlertEventKind.RESOLVED, resolved, now))


def opens_alert(signal: ExternalSignal, open_alert: AlertInstance | None) -> bool:
    """Whether `signal` opens a new alert (which then needs an id)."""
    return signal.condition == "fired" and open_alert is None


def alert_fingerprint(signal: ExternalSignal) -> str:
    """One alert instance per external alert id."""
    return fingerprint(signal.rule_id, {"external_id": signal.external_id})


def _fired(signal: ExternalSignal, alert_id: int, now: datetime) -> AlertInstance:
    note = f"Fired in {signal.source_name} at {signal.fired_at.isoformat()}"
    return AlertInstance(
        id=alert_id,
        fingerprint=alert_fingerprint(signal),
        rule_id=signal.rule_id,
        dimensions=dict(signal.dimensions),
        status=AlertStatus.FIRING,
        value=signal.value if signal.value is not None else 0.0,
        threshold=signal.threshold,
        opened_at=signal.fired_at,
        last_evaluated_at=now,
        last_notified_at=now,
        notify_count=1,
        evidence=list(signal.evidence[:MAX_EVIDENCE_ROWS]),
        history=[Transition(at=now, from_status=None, to_status=AlertStatus.FIRING, note=note)],
    )


def _resolved(signal: ExternalSignal, alert: AlertInstance, now: datetime) -> AlertInstance:
    when = signal.resolved_at or now
    note = f"Resolved in {signal.source_name} at {when.isoformat()}"
    transition = Transition(
        at=now, from_status=alert.status, to_status=AlertStatus.RESOLVED, note=note
    )
    return alert.model_copy(
        update={
            "status": AlertStatus.RESOLVED,
            "resolved_at": when,
            "snoozed_until": None,
            "last_evaluated_at": now,
            "history": [*alert.history, transition],
        }
    )


def _event(kind: AlertEventKind, alert: AlertInstance, now: datetime) -> AlertEvent:
    return AlertEvent(kind=kind, at=now, rule_id=alert.rule_id, alert=alert)
