"""A due digest becomes one outbox item per (conversation, period), keyed
`digest:{conversation}:{date}` (the local date of the digest time).

The outbox stores each (conversation, idempotency key) once, so a digest enqueued twice
(a second replica, a restart, `digest` scheduled twice) is delivered once. The view
travels in the event as JSON, so delivery needs no workspace.
"""

from __future__ import annotations

from datetime import datetime

from bot.health.schedule import DigestSchedule, schedule_of
from bot.health.service import HealthService
from bot.models import AlertEvent, AlertEventKind, DigestSubscription, OutboxItem
from bot.store.base import OutboxOperations
from bot.views.digest import DigestView

DIGEST_RULE = "provisioning-digest"


def digest_key(conversation_id: str, schedule: DigestSchedule, now: datetime) -> str:
    return f"digest:{conversation_id}:{schedule.period_key(now)}"


def digest_item(subscription: DigestSubscription, view: DigestView, *, now: datetime) -> OutboxItem:
    schedule = schedule_of(subscription)
    return OutboxItem(
        id=0,
        idempotency_key=digest_key(subscription.conversation_id, schedule, now),
        conversation_id=subscription.conversation_id,
        channel=subscription.channel,
        event=AlertEvent(
            kind=AlertEventKind.DIGEST,
            at=schedule.latest_due(now),
            rule_id=DIGEST_RULE,
            detail=view.model_dump_json(),
        ),
        next_attempt_at=now,
    )


async def send_digest(
    store: OutboxOperations,
    health: HealthService,
    subscription: DigestSubscription,
    *,
    now: datetime,
) -> bool:
    """Enqueue this period's digest for the conversation; False if it already was."""
    schedule = schedule_of(subscription)
    view = await health.digest(period=schedule.period)
    return bool(await store.enqueue([digest_item(subscription, view, now=now)]))
