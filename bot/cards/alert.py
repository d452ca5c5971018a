"""Alert card and thread-reply views from the domain: an alert, its rule, and `now`. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from bot import messages
from bot.alerts.rule_model import Rule, format_duration
from bot.cards import evidence as evidence_table
from bot.cards.actions import alert_data
from bot.cards.portal import LogAnalyticsTarget, log_analytics_url
from bot.cards.text import clip, number, one_line, when
from bot.cards.views import (
    AlertActions,
    AlertCardView,
    AlertStatusView,
    ContainerStyle,
    Fact,
    Finding,
    Link,
    ReplyView,
    Severity,
    TextColor,
    Window,
)
from bot.models import AlertEvent, AlertEventKind, AlertInstance, AlertStatus, Transition

_SEVERITY_COLORS: Final[tuple[TextColor, ...]] = (
    "Attention",
    "Attention",
    "Warning",
    "Accent",
    "Default",
)
_NAME_LIMIT: Final = 80
_NOTE_LIMIT: Final = 300
_ERROR_LIMIT: Final = 1500
#: Rule descriptions and remediation texts are written by people, but not always short.
_TEXT_LIMIT: Final = 1500


def severity(level: int) -> Severity:
    return Severity(
        level=level,
        code=messages.severity_code(level),
        label=messages.SEVERITY_LABELS[level],
        color=_SEVERITY_COLORS[level],
    )


def alert_card_view(
    alert: AlertInstance,
    rule: Rule,
    *,
    now: datetime,
    query: str | None = None,
    log_analytics: LogAnalyticsTarget | None = None,
) -> AlertCardView:
    """The card for `alert` as it stands at `now`.

    `query` is the KQL as sent to the workspace (parameters bound); the rule's own
    text is shown when it is not given. `log_analytics` adds the portal button.
    """
    kql = query if query is not None else rule.query
    return AlertCardView(
        alert_id=alert.id,
        title=rule.title,
        rule_id=rule.id,
        category=rule.category,
        description=clip(rule.description, _TEXT_LIMIT),
        severity=severity(rule.severity),
        header_style=_header_style(alert.status, rule.severity),
        status=status_view(alert, now=now),
        finding=finding(alert, rule),
        window=window(alert, rule, now=now),
        evidence=evidence_table.from_rows(
            alert.evidence,
            dimensions=rule.dimensions,
            measure_column=rule.measure.column,
            total_rows=_row_count(alert, rule),
        ),
        remediation=clip(rule.remediation.text, _TEXT_LIMIT),
        links=tuple(Link(title=link.title, url=link.url) for link in rule.remediation.links),
        query_lines=tuple(kql.rstrip().splitlines()),
        actions=_actions(alert, rule, kql, log_analytics),
    )


def _header_style(status: AlertStatus, level: int) -> ContainerStyle:
    if status is AlertStatus.RESOLVED:
        return "good"
    if status is AlertStatus.FIRING:
        return "attention" if level <= 1 else "warning"
    return "emphasis"


def status_view(alert: AlertInstance, *, now: datetime) -> AlertStatusView:
    state = alert.status
    latest = _latest(alert.history, state)
    actor = _who(latest) if latest else None
    acknowledged_by = _acknowledger(alert) if state is AlertStatus.SNOOZED else None
    return AlertStatusView(
        state=state.value,
        firing=state is AlertStatus.FIRING,
        acknowledged=state is AlertStatus.ACKNOWLEDGED,
        snoozed=state is AlertStatus.SNOOZED,
        resolved=state is AlertStatus.RESOLVED,
        since=when(alert.opened_at, now=now),
        at=when(_status_time(alert, latest), now=now),
        actor=actor or (alert.acknowledged_by if state is AlertStatus.ACKNOWLEDGED else None),
        until=when(alert.snoozed_until, now=now) if alert.snoozed_until else None,
        note=_note(latest),
        acknowledged_by=acknowledged_by,
    )


def _latest(history: Sequence[Transition], status: AlertStatus) -> Transition | None:
    return next((t for t in reversed(history) if t.to_status is status), None)


def _who(transition: Transition) -> str:
    return one_line(transition.actor_name or transition.actor, _NAME_LIMIT)


def _acknowledger(alert: AlertInstance) -> str | None:
    if alert.acknowledged_by is None:
        return None
    entry = next((t for t in reversed(alert.history) if t.actor == alert.acknowledged_by), None)
    return _who(entry) if entry else one_line(alert.acknowledged_by, _NAME_LIMIT)


def _status_time(alert: AlertInstance, latest: Transition | None) -> datetime:
    if alert.status is AlertStatus.RESOLVED and alert.resolved_at:
        return alert.resolved_at
    if alert.status is AlertStatus.ACKNOWLEDGED and alert.acknowledged_at:
        return alert.acknowledged_at
    return latest.at if latest else alert.opened_at


def _note(latest: Transition | None) -> str | None:
    """A person's note; the engine's own notes ("acknowledged") add nothing."""
    if latest is None or latest.note is None or latest.actor == "system":
        return None
    if latest.note in ("acknowledged", "snoozed", "resolved", "snooze ended"):
        return None
    return clip(latest.note, _NOTE_LIMIT)


def finding(alert: AlertInstance, rule: Rule) -> Finding:
    return Finding(
        measure=_measure_text(rule),
        value=number(alert.value),
        operator=messages.OPERATOR_TEXT[rule.operator],
        threshold=number(rule.threshold),
        dimensions=tuple(
            Fact(name=name, value=one_line(value, 200)) for name, value in alert.dimensions.items()
        ),
    )


def _measure_text(rule: Rule) -> str:
    template = messages.AGGREGATION_TEXT[rule.measure.aggregation]
    return template.format(column=rule.measure.column).capitalize()


def window(alert: AlertInstance, rule: Rule, *, now: datetime) -> Window:
    end = alert.last_evaluated_at
    return Window(
        length=format_duration(rule.window),
        start=when(end - rule.window, now=now),
        end=when(end, now=now),
        frequency=format_duration(rule.frequency),
    )


def _row_count(alert: AlertInstance, rule: Rule) -> int:
    """All rows behind the alert when the measure counts them; else only those kept."""
    if rule.measure.aggregation == "count" and alert.value >= len(alert.evidence):
        return int(alert.value)
    return len(alert.evidence)


def _actions(
    alert: AlertInstance, rule: Rule, kql: str, target: LogAnalyticsTarget | None
) -> AlertActions:
    status = alert.status
    is_open = status.is_open
    url = None
    if target is not None:
        end = alert.last_evaluated_at
        url = log_analytics_url(target, query=kql, start=end - rule.window, end=end)
    return AlertActions(
        data=alert_data(alert.id, alert.version),
        acknowledge=is_open and alert.acknowledged_by is None,
        snooze=status in (AlertStatus.FIRING, AlertStatus.ACKNOWLEDGED),
        unsnooze=status is AlertStatus.SNOOZED,
        resolve=is_open,
        query=True,
        portal_url=url,
    )


# --- Thread replies ------------------------------------------------------------------

_REPLY_STYLES: Final[Mapping[AlertEventKind, ContainerStyle]] = {
    AlertEventKind.RENOTIFY: "attention",
    AlertEventKind.RESOLVED: "good",
    AlertEventKind.SNOOZE_EXPIRED: "warning",
    AlertEventKind.EVALUATION_ERROR: "warning",
    AlertEventKind.EVALUATION_RECOVERED: "good",
}
_REPLY_KINDS: Final = {
    AlertEventKind.RENOTIFY: "renotify",
    AlertEventKind.RESOLVED: "resolved",
    AlertEventKind.SNOOZE_EXPIRED: "snooze_expired",
    AlertEventKind.EVALUATION_ERROR: "evaluation_error",
    AlertEventKind.EVALUATION_RECOVERED: "evaluation_recovered",
}

#: What to check when a rule's query failed.
ERROR_HINTS: Final = (
    "Run the rule's query in Log Analytics (or `alertbot evaluate --rule <id>`) to see "
    "whether it is the query or the workspace.",
    "Check that the bot's identity can still read the workspace and that the tables the "
    "query uses receive data.",
    "The rule is tried again at its next evaluation; this reply is not repeated while "
    "the error persists.",
)


def reply_kinds() -> tuple[AlertEventKind, ...]:
    """The event kinds that are answered with a thread reply."""
    return tuple(_REPLY_KINDS)


def reply_view(
    event: AlertEvent, rule: Rule, *, now: datetime, failures: int | None = None
) -> ReplyView:
    """The thread reply for a re-notification, resolution, snooze expiry or failed run."""
    kind = _REPLY_KINDS.get(event.kind)
    if kind is None:
        raise ValueError(f"{event.kind.value} events update the card; they have no reply")
    alert = event.alert
    fields: dict[str, Any] = {kind: True}
    if alert is not None:
        fields |= {
            "value": number(alert.value),
            "threshold": f"{messages.OPERATOR_TEXT[rule.operator]} {number(rule.threshold)}",
            "measure": _measure_text(rule),
        }
    if event.kind is AlertEventKind.EVALUATION_ERROR:
        fields |= {
            "error": clip((event.detail or "unknown error").strip(), _ERROR_LIMIT),
            "failures": messages.failures_in_a_row(failures) if failures else None,
            "hints": ERROR_HINTS,
        }
    return ReplyView(
        kind=kind,
        style=_REPLY_STYLES[event.kind],
        alert_id=alert.id if alert else None,
        title=rule.title,
        rule_id=rule.id,
        at=when(event.at, now=now),
        **fields,
    )
