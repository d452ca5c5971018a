"""Takeovers: a claim another replica held and lost, taken over, is told to the store's
TakeoverHook with its kind and previous holder; a free claim, or one's own, is not.
Each "replica" is a store of its own (its own connection pool) on one database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.models import ExternalLink, RuleHealth
from bot.store import SlotTakenError
from bot.store.base import TakeoverKind
from bot.store.sql import SqlStore, open_store
from tests.store.conftest import Database
from tests.store.factories import NOW, RULE, alert, delivery, event, minutes

LEASE = timedelta(minutes=2)
OPS = "19:ops@thread.tacv2"


class Told:
    """A TakeoverHook that remembers what it was told."""

    def __init__(self) -> None:
        self.takeovers: list[tuple[TakeoverKind, str]] = []

    def __call__(self, kind: TakeoverKind, previous: str) -> None:
        self.takeovers.append((kind, previous))


@pytest.fixture
async def told(database: Database) -> AsyncIterator[tuple[SqlStore, Told]]:
    hook = Told()
    store = await open_store(database.url, schema=database.schema, on_takeover=hook)
    try:
        yield store, hook
    finally:
        await store.close()


async def test_a_conversation_whose_holder_stopped_is_taken_over_once_its_lease_expires(
    told: tuple[SqlStore, Told],
) -> None:
    store, hook = told
    await store.enqueue([delivery(event(subject=alert(n)), OPS) for n in (1, 2)])
    claim = {"now": NOW, "lease": LEASE, "conversations": 4, "per_conversation": 1}
    assert len(await store.claim_conversations(worker="dead", **claim)) == 1
    assert hook.takeovers == []  # a free conversation is no takeover
    assert await store.claim_conversations(worker="alive", **claim) == []  # still leased

    later = claim | {"now": NOW + LEASE}
    [[item]] = await store.claim_conversations(worker="alive", **later)
    assert item.attempts == 2  # the dead one's item, again
    assert hook.takeovers == [("conversation", "dead")]
    await store.mark_sent(item.id, message_id=None)
    await store.release_conversation(OPS, worker="alive", now=NOW + LEASE)
    assert len(await store.claim_conversations(worker="alive", **later)) == 1
    assert hook.takeovers == [("conversation", "dead")]  # released, then claimed: no takeover


async def test_a_write_back_whose_holder_stopped_is_taken_over(
    told: tuple[SqlStore, Told],
) -> None:
    store, hook = told
    await store.save_alert(alert(1))
    link = ExternalLink(alert_id=1, source="azure-monitor", external_id="/alerts/1", rule_id=RULE)
    await store.link_external_alert(link)
    await store.queue_writeback(link, new_state="Acknowledged", actor="alex", at=NOW)
    assert len(await store.claim_writebacks(now=NOW, owner="dead", lease=LEASE, limit=5)) == 1
    assert await store.claim_writebacks(now=NOW, owner="alive", lease=LEASE, limit=5) == []
    assert hook.takeovers == []

    later = NOW + LEASE + minutes(1)
    [taken] = await store.claim_writebacks(now=later, owner="alive", lease=LEASE, limit=5)
    assert taken.attempts == 2
    assert hook.takeovers == [("writeback", "dead")]


async def test_a_slot_whose_cycle_died_uncommitted_is_taken_over_by_the_one_waiting(
    database: Database, told: tuple[SqlStore, Told]
) -> None:
    """PostgreSQL: replica A claims a slot and holds its cycle open; B's claim of the same
    slot waits; A's transaction ends uncommitted (its process died): B takes it over. A
    later claim of a committed slot is refused, and is no takeover."""
    if database.backend != "postgresql":
        pytest.skip("SQLite serialises whole transactions: no claim is ever held open")
    waiting, hook = told
    holder = await database.open()
    health = RuleHealth(rule_id=RULE, last_evaluated_at=NOW, last_success_at=NOW)
    cycle = {"rule_id": RULE, "alerts": [], "dimension_states": [], "outbox": []}
    try:
        held = asyncio.Event()

        async def die_holding_the_claim() -> None:
            async with holder._own_transaction() as session:
                await holder._claim_slot(session, RULE, NOW, "replica-a")
                held.set()
                await asyncio.sleep(0.5)
                raise RuntimeError("replica A died")

        dying = asyncio.create_task(die_holding_the_claim())
        await held.wait()
        await waiting.commit_cycle(**cycle, health=health, slot_at=NOW, worker="replica-b")
        with pytest.raises(RuntimeError):
            await dying
        assert hook.takeovers == [("slot", "")]

        with pytest.raises(SlotTakenError):
            await holder.commit_cycle(**cycle, health=health, slot_at=NOW, worker="replica-a")
        await waiting.commit_cycle(
            **cycle, health=health, slot_at=NOW + minutes(5), worker="replica-b"
        )
        assert hook.takeovers == [("slot", "")]
    finally:
        await holder.close()
