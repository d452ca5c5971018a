"""Conversations, subscriptions, the audit log and the outbox (idempotency, leases)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.models import AlertEventKind, AuditEntry, OutboxStatus
from bot.store import StoreError
from bot.store.sql import SqlStore
from tests.store.conftest import Database
from tests.store.factories import (
    NOW,
    alert,
    conversation,
    delivery,
    event,
    minutes,
    subscription,
)

OPS, SEC, ALEX = "19:ops@thread.tacv2", "19:sec@thread.tacv2", "a:1personal-alex"
LEASE = timedelta(minutes=2)


async def test_conversation_references_are_upserted(store: SqlStore) -> None:
    first = conversation(OPS)
    await store.upsert_conversation(first)
    assert await store.get_conversation(OPS) == first
    moved = first.model_copy(
        update={"reference": {**first.reference, "serviceUrl": "https://x/"}, "updated_at": NOW}
    )
    await store.upsert_conversation(moved)
    await store.upsert_conversation(conversation(ALEX).model_copy(update={"kind": "personal"}))
    assert await store.get_conversation(OPS) == moved
    assert [ref.conversation_id for ref in await store.list_conversations()] == [OPS, ALEX]
    assert await store.get_conversation("unknown") is None


async def test_pruning_a_conversation_takes_its_subscriptions_and_pending_deliveries(
    store: SqlStore,
) -> None:
    for conversation_id in (OPS, SEC):
        await store.upsert_conversation(conversation(conversation_id))
        await store.subscribe(subscription(conversation_id, "all"))
    fired = event(subject=alert(1))
    [_, for_sec] = await store.enqueue([delivery(fired, OPS), delivery(fired, SEC)])
    await store.mark_sent(for_sec.id, message_id="m-1")

    assert await store.delete_conversation(SEC) is True
    assert await store.delete_conversation(SEC) is False
    assert await store.get_conversation(SEC) is None
    assert [s.conversation_id for s in await store.list_subscriptions()] == [OPS]
    assert (await store.list_outbox(conversation_id=SEC))[0].status == OutboxStatus.SENT
    await store.delete_conversation(OPS)
    [given_up] = await store.list_outbox(conversation_id=OPS)
    assert (given_up.status, given_up.last_error) == (OutboxStatus.FAILED, "conversation removed")
    assert await store.claim_due(worker="w", now=NOW, lease=LEASE) == []


async def test_subscriptions_are_per_conversation_and_target(store: SqlStore) -> None:
    await store.upsert_conversation(conversation(OPS))
    await store.subscribe(subscription(OPS, "Provisioning", max_severity=2))
    await store.subscribe(subscription(OPS, "Provisioning", max_severity=3))  # replaces
    await store.subscribe(subscription(OPS, "pim-spike"))
    assert [(s.target, s.max_severity) for s in await store.list_subscriptions(OPS)] == [
        ("Provisioning", 3),
        ("pim-spike", 4),
    ]
    assert await store.unsubscribe(OPS, "pim-spike") is True
    assert await store.unsubscribe(OPS, "pim-spike") is False
    assert await store.list_subscriptions(SEC) == []
    with pytest.raises(StoreError, match="save its reference first"):
        await store.subscribe(subscription(SEC, "all"))


async def test_subscribers_are_found_by_rule_category_or_all_and_severity(
    store: SqlStore,
) -> None:
    table = [
        # conversation, target, max severity
        (OPS, "provisioning", 4),  # category, any case
        (OPS, "all", 1),
        (SEC, "pim-spike", 2),
        (SEC, "Provisioning", 0),
        (ALEX, "ALL", 2),
    ]
    for conversation_id, target, max_severity in table:
        await store.upsert_conversation(conversation(conversation_id))
        await store.subscribe(subscription(conversation_id, target, max_severity=max_severity))

    cases = [
        # rule id, category, severity -> conversation: the target that matched
        (
            "prov-quarantine",
            "Provisioning",
            0,
            {OPS: "provisioning", SEC: "Provisioning", ALEX: "ALL"},
        ),
        ("prov-quarantine", "Provisioning", 3, {OPS: "provisioning"}),
        ("pim-spike", "Privileged Identity Management", 2, {SEC: "pim-spike", ALEX: "ALL"}),
        (
            "pim-spike",
            "Privileged Identity Management",
            1,
            {OPS: "all", SEC: "pim-spike", ALEX: "ALL"},
        ),
        ("pim-spike", "Privileged Identity Management", 4, {}),
    ]
    for rule_id, category, severity, expected in cases:
        found = await store.find_subscribers(rule_id=rule_id, category=category, severity=severity)
        assert {s.conversation_id: s.target for s in found} == expected, (rule_id, severity)
        assert len(found) == len(expected)


async def test_the_audit_log_lists_by_alert_or_conversation_oldest_first(store: SqlStore) -> None:
    entries = [
        AuditEntry(
            at=NOW + minutes(i),
            actor="alex",
            actor_name="Alex Wilber",
            action=action,
            conversation_id=conversation_id,
            alert_id=alert_id,
            detail=f"#{i}",
        )
        for i, (action, conversation_id, alert_id) in enumerate(
            [("ack", OPS, 1), ("snooze", SEC, 1), ("subscribe", OPS, None), ("resolve", OPS, 2)]
        )
    ]
    for entry in entries:
        await store.append_audit(entry)
    assert await store.list_audit(alert_id=1) == entries[:2]
    assert await store.list_audit(conversation_id=OPS) == [entries[0], entries[2], entries[3]]
    assert await store.list_audit(conversation_id=OPS, limit=2) == entries[2:]
    assert await store.list_audit(alert_id=1, conversation_id=SEC) == [entries[1]]


async def test_enqueueing_the_same_key_twice_in_a_conversation_is_a_no_op(
    store: SqlStore,
) -> None:
    fired = event(subject=alert(5))
    added = await store.enqueue([delivery(fired, OPS), delivery(fired, OPS), delivery(fired, SEC)])
    assert [(item.conversation_id, item.id > 0) for item in added] == [(OPS, True), (SEC, True)]
    assert await store.enqueue([delivery(fired, OPS)]) == []
    later = event(AlertEventKind.RENOTIFY, alert(5), at=NOW + minutes(60))
    assert len(await store.enqueue([delivery(later, OPS)])) == 1
    stored = await store.list_outbox()
    assert [item.idempotency_key for item in stored] == [
        "5:fired:2026-05-01T10:00:00+00:00",
        "5:fired:2026-05-01T10:00:00+00:00",
        "5:renotify:2026-05-01T11:00:00+00:00",
    ]
    assert stored[0] == added[0]


async def test_a_claimed_item_is_leased_then_sent_or_retried(store: SqlStore) -> None:
    first, second, later = await store.enqueue(
        [
            delivery(event(subject=alert(1)), OPS),
            delivery(event(AlertEventKind.EVALUATION_ERROR, None), OPS, due=NOW - minutes(1)),
            delivery(event(subject=alert(2)), OPS, due=NOW + minutes(5)),
        ]
    )
    claimed = await store.claim_due(worker="w1", now=NOW, lease=LEASE)
    assert [(item.id, item.attempts) for item in claimed] == [(second.id, 1), (first.id, 1)]
    assert await store.claim_due(worker="w2", now=NOW + minutes(1), lease=LEASE) == []

    assert await store.mark_sent(first.id, message_id="1:activity-1") is True
    assert await store.mark_failed(second.id, worker="w2", error="429", retry_at=NOW) is False
    assert await store.mark_failed(
        second.id, worker="w1", error="429 Too Many Requests", retry_at=NOW + minutes(3)
    )
    # Expired leases and due retries go to whoever asks next.
    retried = await store.claim_due(worker="w2", now=NOW + minutes(5), lease=LEASE)
    assert [(item.id, item.attempts) for item in retried] == [(second.id, 2), (later.id, 1)]
    assert retried[0].last_error == "429 Too Many Requests"
    again = await store.claim_due(worker="w3", now=NOW + minutes(8), lease=LEASE)
    assert [item.id for item in again] == [second.id, later.id]  # w2 died holding them
    assert await store.mark_failed(second.id, worker="w3", error="403", retry_at=None)

    [sent] = await store.list_outbox(alert_id=1, conversation_id=OPS)
    assert (sent.status, sent.message_id, sent.last_error) == (
        OutboxStatus.SENT,
        "1:activity-1",
        None,
    )
    assert [item.id for item in await store.list_outbox(status=OutboxStatus.FAILED)] == [second.id]
    assert await store.mark_sent(12345, message_id=None) is False


async def test_two_workers_never_claim_the_same_item(database: Database, store: SqlStore) -> None:
    other_process = await database.open()
    try:
        await store.enqueue(
            [delivery(event(subject=alert(n)), OPS, due=NOW - minutes(n)) for n in range(1, 41)]
        )

        async def drain(worker: str, via: SqlStore) -> list[int]:
            mine: list[int] = []
            while batch := await via.claim_due(worker=worker, now=NOW, lease=LEASE, limit=3):
                mine += [item.id for item in batch]
                await asyncio.sleep(0)
            return mine

        claims = await asyncio.gather(
            drain("a", store),
            drain("b", other_process),
            drain("c", store),
            drain("d", other_process),
        )
    finally:
        await other_process.close()
    everything = [item_id for claim in claims for item_id in claim]
    assert sorted(everything) == sorted(item.id for item in await store.list_outbox())
    assert len(everything) == len(set(everything)) == 40
    assert sum(1 for claim in claims if claim) >= 2  # they really competed


async def test_concurrent_enqueues_of_one_key_store_one_item(
    database: Database, store: SqlStore
) -> None:
    other_process = await database.open()
    try:
        fired = [delivery(event(subject=alert(n)), OPS) for n in range(1, 11)]
        results = await asyncio.gather(
            *(via.enqueue(fired) for via in (store, other_process, store, other_process))
        )
    finally:
        await other_process.close()
    assert sum(len(added) for added in results) == 10
    assert len(await store.list_outbox()) == 10


async def test_conversation_kinds_stored_in_teams_words_read_as_neutral_ones(
    store: SqlStore,
) -> None:
    await store.upsert_conversation(conversation(ALEX).model_copy(update={"kind": "groupChat"}))
    found = await store.get_conversation(ALEX)
    assert found is not None
    assert found.kind == "group"
