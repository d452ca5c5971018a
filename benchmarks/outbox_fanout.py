"""Fan-out of one alert to many conversations through the real outbox dispatcher(s) on
PostgreSQL (or SQLite), against a notifier that takes `latency` s per call and keeps
Teams' per-app pace (the real Pacer, 50 a second per app with its jitter margin, split
between replicas as ALERTBOT_REPLICAS does). Prints a table: conversations, replicas,
seconds, deliveries per second, the per-app bound (conversations / 50 per s), lost and
duplicated deliveries.

    .venv/bin/python -m benchmarks.outbox_fanout --conversations 500 --replicas 1 2 3
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.channels.teams.pacing import APP_WINDOWS, Pacer
from bot.models import AlertEvent, AlertEventKind, ChannelKind, OutboxItem, OutboxStatus
from bot.notify import DeliveryResult, OutboxDispatcher
from bot.store import new_outbox_item
from bot.store.sql import SqlStore, open_store

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


class SlowConnector:
    """`latency` s per delivery, paced like a Teams replica; counts what arrives."""

    def __init__(self, latency: float, pacer: Pacer, received: Counter[int]) -> None:
        self.latency, self.pacer, self.received = latency, pacer, received

    async def deliver(self, item: OutboxItem) -> DeliveryResult:
        wait = await self.pacer.acquire(item.conversation_id, max_wait=5)
        if wait:
            return DeliveryResult.retry_after(wait, reason="paced")
        await asyncio.sleep(self.latency)
        self.received[item.id] += 1
        return DeliveryResult.sent(f"m{item.id}")


async def run(conversations: int, replicas: int, latency: float, url: str) -> list[str]:
    schema = f"bench_fanout_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(url, poolclass=NullPool)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    stores: list[SqlStore] = []
    try:
        stores = [
            await open_store(url, schema=schema, migrate_schema=n == 0) for n in range(replicas)
        ]
        event = AlertEvent(kind=AlertEventKind.EVALUATION_ERROR, at=NOW, rule_id="r")
        await stores[0].enqueue(
            [
                new_outbox_item(
                    event, conversation_id=f"c{c}", channel=ChannelKind.TEAMS, not_before=NOW
                )
                for c in range(conversations)
            ]
        )
        received: Counter[int] = Counter()
        share = tuple(window.shared(replicas) for window in APP_WINDOWS)
        workers = [
            OutboxDispatcher(
                store=store,
                notifier=SlowConnector(latency, Pacer(app_windows=share), received),
                clock=lambda: NOW + timedelta(hours=1),
                concurrency=16,
                poll_interval=0.05,
                worker=f"r{n}",
            )
            for n, store in enumerate(stores)
        ]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        sent = 0
        while sent < conversations:
            await asyncio.sleep(0.1)
            sent = len(await stores[0].list_outbox(status=OutboxStatus.SENT))
        seconds = time.monotonic() - started
        for worker in workers:
            await worker.stop()
        bound = conversations / sum(w.limit for w in APP_WINDOWS)
        lost = conversations - len(received)
        duplicated = sum(n - 1 for n in received.values() if n > 1)
        return [
            str(conversations),
            str(replicas),
            f"{seconds:.1f}",
            f"{conversations / seconds:.1f}",
            f"{bound:.1f}",
            f"{seconds / bound:.2f}",
            str(lost),
            str(duplicated),
        ]
    finally:
        for store in stores:
            await store.close()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, nargs="+", default=[500])
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--database", default=POSTGRES)
    args = parser.parse_args()
    header = ["conversations", "replicas", "seconds", "per s", "bound s", "x bound", "lost", "dup"]
    print(" | ".join(header))
    for conversations in args.conversations:
        for replicas in args.replicas:
            row = await run(conversations, replicas, args.latency, args.database)
            print(" | ".join(row), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
