"""What chat platforms send fits: display names up to Entra's 256 characters and beyond,
user and conversation ids up to the Teams edge's 1 KB (PostgreSQL refused them over
VARCHAR(200)/(512) before migration 0004: an ack, a snooze or a subscription failed)."""

from __future__ import annotations

from datetime import timedelta

from bot.channels.teams.http import MAX_ID_BYTES
from bot.models import AlertStatus, AuditEntry, Mute, RuleHealth
from bot.store.sql import SqlStore
from tests.store.factories import (
    NOW,
    RULE,
    alert,
    conversation,
    delivery,
    event,
    subscription,
)

#: Entra's longest display name, then a name no directory holds (Text has no limit).
NAMES = ("Ä" * 256, "n" * 2000)
#: The longest id the Teams edge lets in.
CONVERSATION = "19:" + "c" * (MAX_ID_BYTES - 3)
USER = "29:" + "u" * (MAX_ID_BYTES - 3)


async def test_long_conversation_ids_are_stored_everywhere(store: SqlStore) -> None:
    await store.upsert_conversation(conversation(CONVERSATION))
    await store.subscribe(subscription(CONVERSATION, "all").model_copy(update={"created_by": USER}))
    fired = await store.save_alert(alert(await store.next_alert_id()))
    (queued,) = await store.enqueue([delivery(event(subject=fired), CONVERSATION)])
    assert await store.mark_sent(queued.id or 0, message_id="1:" + "m" * (MAX_ID_BYTES - 2))

    stored = await store.get_conversation(CONVERSATION)
    assert stored is not None
    assert stored.conversation_id == CONVERSATION
    (subscribed,) = await store.list_subscriptions(CONVERSATION)
    assert subscribed.created_by == USER
    (sent,) = await store.list_outbox(conversation_id=CONVERSATION)
    assert len(sent.message_id or "") == MAX_ID_BYTES
    assert await store.delete_conversation(CONVERSATION)


async def test_long_names_and_ids_go_on_the_record(store: SqlStore) -> None:
    for name in NAMES:
        entry = AuditEntry(
            at=NOW, actor=USER, actor_name=name, action="ack", conversation_id=CONVERSATION
        )
        await store.append_audit(entry)
    stored = await store.list_audit(conversation_id=CONVERSATION)
    assert [(e.actor, e.actor_name) for e in stored] == [(USER, name) for name in NAMES]


async def test_long_names_acknowledge_and_snooze(store: SqlStore) -> None:
    opened = await store.save_alert(alert(await store.next_alert_id()))
    acked = opened.model_copy(
        update={"status": AlertStatus.ACKNOWLEDGED, "acknowledged_by": USER, "acknowledged_at": NOW}
    )
    await store.save_alert(acked)
    mute = Mute(
        id=0,
        rule_id=RULE,
        alert_id=opened.id,
        until=NOW + timedelta(hours=1),
        created_by=USER,
        created_by_name=NAMES[1],
        created_at=NOW,
    )
    added = await store.add_mute(mute)
    stored = await store.get_alert(opened.id)
    assert stored is not None
    assert stored.acknowledged_by == USER
    assert added.created_by_name == NAMES[1]


async def test_a_rule_errors_kind_is_kept(store: SqlStore) -> None:
    health = RuleHealth(
        rule_id=RULE, last_error="throttled", last_error_kind="ThrottledError", consecutive_errors=2
    )
    await store.save_rule_health(health)
    assert await store.get_rule_health(RULE) == health
