"""The outbox claimed per conversation by several replicas at once (a SQLite file and
PostgreSQL): one replica at a time per conversation, every item once, in enqueue order,
and different conversations delivered concurrently.

Today's per-item claim let two workers deliver to one conversation at once (408
overlapping same-conversation deliveries with 8 workers over 6 conversations, issue 10);
here every delivery records who else was delivering to its conversation meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.models import AlertEvent, AlertEventKind, ChannelKind, OutboxItem, OutboxStatus
from bot.notify import DeliveryResult, OutboxDispatcher, RetryPolicy
from bot.store import new_outbox_item
from bot.store.sql import SqlStore
from tests.support.alerting import opened_replicas

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


class Connector:
    """A notifier that takes `latency` s per delivery and notes overlaps per conversation."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.busy: dict[str, int] = defaultdict(int)
        self.overlaps = 0
        self.received: dict[str, list[int]] = defaultdict(list)
        self.most_at_once = self.running = 0

    async def deliver(self, item: OutboxItem) -> DeliveryResult:
        self.busy[item.conversation_id] += 1
        self.overlaps += self.busy[item.conversation_id] > 1
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(self.latency)
            self.received[item.conversation_id].append(item.id)
            return DeliveryResult.sent(f"m{item.id}")
        finally:
            self.busy[item.conversation_id] -= 1
            self.running -= 1


@pytest.fixture(params=["sqlite", "postgresql"])
async def replicas(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[list[SqlStore]]:
    async with opened_replicas(request.param, tmp_path, 4) as stores:
        yield stores


async def enqueue(store: SqlStore, conversations: int, per_conversation: int) -> list[OutboxItem]:
    items = []
    for n in range(per_conversation):  # interleaved, as fan-outs of successive events are
        event = AlertEvent(
            kind=AlertEventKind.EVALUATION_ERROR, at=T0 + timedelta(minutes=n), rule_id="r"
        )
        items += [
            new_outbox_item(
                event, conversation_id=f"c{c}", channel=ChannelKind.TEAMS, not_before=T0
            )
            for c in range(conversations)
        ]
    return await store.enqueue(items)


def dispatcher(store: SqlStore, connector: Connector, n: int, **options: int) -> OutboxDispatcher:
    return OutboxDispatcher(
        store=store,
        notifier=connector,
        clock=lambda: T0,
        policy=RetryPolicy(max_attempts=3),
        lease=timedelta(minutes=2),
        batch_size=options.get("batch_size", 3),
        concurrency=options.get("concurrency", 4),
        worker=f"replica-{n}",
    )


async def test_replicas_claiming_at_once_never_share_a_conversation_and_keep_its_order(
    replicas: list[SqlStore],
) -> None:
    items = await enqueue(replicas[0], conversations=6, per_conversation=8)
    connector = Connector(latency=0.01)
    workers = [dispatcher(store, connector, n) for n, store in enumerate(replicas)]

    async def drain(worker: OutboxDispatcher) -> None:
        for _ in range(200):
            if await worker.dispatch_due() == 0 and not await replicas[0].list_outbox(
                status=OutboxStatus.PENDING
            ):
                return

    await asyncio.wait_for(asyncio.gather(*(drain(w) for w in workers)), 120)

    assert connector.overlaps == 0
    expected: dict[str, list[int]] = defaultdict(list)
    for item in items:
        expected[item.conversation_id].append(item.id)
    assert dict(connector.received) == dict(expected)  # each once, in enqueue order
    assert {i.status for i in await replicas[1].list_outbox()} == {OutboxStatus.SENT}


async def test_a_fan_out_is_delivered_concurrently_up_to_the_bound(
    replicas: list[SqlStore],
) -> None:
    await enqueue(replicas[0], conversations=24, per_conversation=1)
    connector = Connector(latency=0.2)
    worker = dispatcher(replicas[0], connector, 0, concurrency=8)
    started = time.monotonic()
    worker.start()
    try:
        while len(await replicas[0].list_outbox(status=OutboxStatus.SENT)) < 24:
            assert time.monotonic() - started < 120
            await asyncio.sleep(0.05)
    finally:
        await worker.stop()

    # Eight conversations in flight at once, never more (speed: benchmarks/outbox_fanout.py).
    assert connector.most_at_once == 8
    assert sum(len(ids) for ids in connector.received.values()) == 24


async def test_a_conversation_whose_delivery_must_wait_keeps_the_rest_for_later(
    replicas: list[SqlStore],
) -> None:
    await enqueue(replicas[0], conversations=1, per_conversation=2)

    class Throttled(Connector):
        async def deliver(self, item: OutboxItem) -> DeliveryResult:
            return DeliveryResult.retry_after(30, reason="429")

    worker = dispatcher(replicas[0], Throttled(0), 0)
    assert await worker.dispatch_due() == 2
    one, two = await replicas[0].list_outbox()
    assert (one.attempts, one.last_error) == (1, "429")
    assert (two.attempts, two.last_error) == (0, None)  # not tried: order holds
    # The conversation is free again, but its first item waits 30 s, so the second too.
    other = dispatcher(replicas[1], Connector(0), 1)
    assert await other.dispatch_due() == 0
    other_later = OutboxDispatcher(
        store=replicas[1],
        notifier=Connector(0),
        clock=lambda: T0 + timedelta(seconds=31),
        worker="later",
    )
    assert await other_later.dispatch_due() == 2
