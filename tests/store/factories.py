"""Small builders of domain objects for the store tests, with fixed times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.models import (
    AlertEvent,
    AlertEventKind,
    AlertInstance,
    AlertStatus,
    ChannelKind,
    ConversationRef,
    OutboxItem,
    Subscription,
    Transition,
    fingerprint,
)
from bot.store import new_outbox_item

NOW = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
RULE = "provisioning-job-quarantined"


def alert(
    alert_id: int, *, rule_id: str = RULE, job: str = "job-1", **changes: Any
) -> AlertInstance:
    dimensions = {"JobId": job}
    fields: dict[str, Any] = {
        "id": alert_id,
        "fingerprint": fingerprint(rule_id, dimensions),
        "rule_id": rule_id,
        "dimensions": dimensions,
        "status": AlertStatus.FIRING,
        "value": 3.0,
        "threshold": 0.0,
        "opened_at": NOW,
        "last_evaluated_at": NOW,
        "history": [Transition(at=NOW, from_status=None, to_status=AlertStatus.FIRING)],
    }
    fields.update(changes)
    return AlertInstance(**fields)


def event(
    kind: AlertEventKind = AlertEventKind.FIRED,
    subject: AlertInstance | None = None,
    *,
    rule_id: str = RULE,
    at: datetime = NOW,
) -> AlertEvent:
    return AlertEvent(kind=kind, at=at, rule_id=rule_id, alert=subject)


def delivery(
    subject: AlertEvent, conversation_id: str = "19:ops@thread.tacv2", *, due: datetime = NOW
) -> OutboxItem:
    return new_outbox_item(
        subject, conversation_id=conversation_id, channel=ChannelKind.TEAMS, not_before=due
    )


def conversation(
    conversation_id: str = "19:ops@thread.tacv2", *, at: datetime = NOW
) -> ConversationRef:
    return ConversationRef(
        conversation_id=conversation_id,
        channel=ChannelKind.TEAMS,
        kind="channel",
        reference={
            "serviceUrl": "https://smba.trafficmanager.net/emea/",
            "conversation": {"id": conversation_id, "tenantId": "t-1", "isGroup": True},
            "bot": {"id": "28:bot", "name": "Alert bot"},
        },
        updated_at=at,
    )


def subscription(
    conversation_id: str, target: str, *, max_severity: int = 4, at: datetime = NOW
) -> Subscription:
    return Subscription(
        conversation_id=conversation_id,
        channel=ChannelKind.TEAMS,
        target=target,
        max_severity=max_severity,
        created_by="aad-object-id-of-alex",
        created_at=at,
    )


def minutes(count: float) -> timedelta:
    return timedelta(minutes=count)
