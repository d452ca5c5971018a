"""Alert card and thread-reply views from the domain: an alert, its rule, and `now`. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from bot import messages
from bot.alerts.binding import bound_query
from bot.alerts.rule_model import Rule, format_duration
from bot.models import AlertEvent, AlertEventKind, AlertInstance, AlertStatus, Transition
from bot.views import evidence as evidence_table
from bot.views.actions import SNOOZE_DURATIONS, Verb, alert_data
from bot.views.model import (
    AlertCardView,
    AlertStatusView,
    Button,
    Fact,
    Finding,
    Link,
    Option,
    ReplyView,
    Severity,
    Window,
)
from bot.views.portal import LogAnalyticsTarget, log_analytics_url
from bot.views.rule_text import measure_text, operator_text, threshold_text
from bot.views.text import clip, number, one_line

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
        as_of=now,
        alert_id=alert.id,
        title=rule.title,
        rule_id=rule.id,
        category=rule.category,
        description=clip(rule.description, _TEXT_LIMIT),
        severity=severity(rule.severity),
        status=status_view(alert),
        finding=finding(alert, rule),
        window=window(alert, rule),
        evidence=evidence_table.from_rows(
            alert.evidence,
            dimensions=rule.dimensions,
            measure_column=rule.measure.column,
            total_rows=_row_count(alert, rule),
        ),
        remediation=clip(rule.remediation.text, _TEXT_LIMIT),
        links=tuple(Link(title=link.title, url=link.url) for link in rule.remediation.links),
        query_lines=tuple(kql.rstrip().splitlines()),
        buttons=buttons(alert),
        portal_url=_portal_url(alert, rule, kql, log_analytics),
    )


def shown_alert_view(
    alert: AlertInstance, rule: Rule, *, now: datetime, log_analytics: LogAnalyticsTarget | None
) -> AlertCardView:
    """The alert's card as chat shows it (posted, updated, answered): with the KQL as the
    workspace runs it."""
    return alert_card_view(
        alert, rule, now=now, query=bound_query(rule), log_analytics=log_analytics
    )


def status_view(alert: AlertInstance) -> AlertStatusView:
    state = alert.status
    latest = _latest(alert.history, state)
    actor = _who(latest) if latest else None
    acknowledged_by = _acknowledger(alert) if state is AlertStatus.SNOOZED else None
    return AlertStatusView(
        state=state,
        since=alert.opened_at,
        at=_status_time(alert, latest),
        actor=actor or (alert.acknowledged_by if state is AlertStatus.ACKNOWLEDGED else None),
        until=alert.snoozed_until,
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
        measure=measure_text(rule),
        value=number(alert.value),
        operator=operator_text(rule),
        threshold=number(rule.threshold),
        dimensions=tuple(
            Fact(name=name, value=one_line(value, 200)) for name, value in alert.dimensions.items()
        ),
    )


def window(alert: AlertInstance, rule: Rule) -> Window:
    end = alert.last_evaluated_at
    return Window(
        length=format_duration(rule.window),
        start=end - rule.window,
        end=end,
        frequency=format_duration(rule.frequency),
    )


def _row_count(alert: AlertInstance, rule: Rule) -> int:
    """All rows behind the alert when the measure counts them; else only those kept."""
    if rule.measure.aggregation == "count" and alert.value >= len(alert.evidence):
        return int(alert.value)
    return len(alert.evidence)


#: The snooze button's choices, in the words people read.
SNOOZE_OPTIONS: Final = tuple(
    Option(label=label, value=value)
    for label, value in zip(
        ("1 hour", "4 hours", "24 hours", "1 week"), SNOOZE_DURATIONS, strict=True
    )
)
DEFAULT_SNOOZE: Final = "4h"


def buttons(alert: AlertInstance) -> tuple[Button, ...]:
    """The alert's buttons in its state: each sends the alert id and the version shown."""
    status = alert.status
    data = alert_data(alert.id, alert.version)
    shown: list[Button] = []
    if status.is_open and alert.acknowledged_by is None:
        shown.append(Button(verb=Verb.ACKNOWLEDGE, label="Acknowledge", data=data, style="primary"))
    if status in (AlertStatus.FIRING, AlertStatus.ACKNOWLEDGED):
        shown.append(
            Button(
                verb=Verb.SNOOZE,
                label="Snooze",
                data=data,
                options=SNOOZE_OPTIONS,
                option_field="duration",
                default_option=DEFAULT_SNOOZE,
            )
        )
    if status is AlertStatus.SNOOZED:
        shown.append(Button(verb=Verb.UNSNOOZE, label="End snooze", data=data))
    if status.is_open:
        shown.append(Button(verb=Verb.RESOLVE, label="Resolve", data=data))
    return tuple(shown)


def _portal_url(
    alert: AlertInstance, rule: Rule, kql: str, target: LogAnalyticsTarget | None
) -> str | None:
    if target is None:
        return None
    end = alert.last_evaluated_at
    return log_analytics_url(target, query=kql, start=end - rule.window, end=end)


# --- Thread replies ------------------------------------------------------------------

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
    fields: dict[str, Any] = {}
    if alert is not None:
        fields |= {
            "value": number(alert.value),
            "threshold": threshold_text(rule),
            "measure": measure_text(rule),
        }
    if event.kind is AlertEventKind.EVALUATION_ERROR:
        fields |= {
            "error": clip((event.detail or "unknown error").strip(), _ERROR_LIMIT),
            "failures": messages.failures_in_a_row(failures) if failures else None,
            "hints": ERROR_HINTS,
        }
    return ReplyView(
        as_of=now,
        kind=kind,
        alert_id=alert.id if alert else None,
        title=rule.title,
        rule_id=rule.id,
        at=event.at,
        **fields,
    )
