"""Evaluations across replicas: N pipelines (each its own store, as N processes would
have) on one PostgreSQL schema evaluate the demo catalog's rules over consecutive slots
at once, against one embedded demo workspace. Prints a table: replicas, slots, rule
slots committed (must equal rules x slots), slots dropped as taken by another replica,
queries run, seconds, committed evaluations per minute.

    .venv/bin/python -m benchmarks.replica_evaluations --replicas 1 2 3 --slots 4

In-process replicas share the CPU and one DuckDB connection, so this measures the claim's
cost and the queries wasted on slots another replica wrote, not parallel speed-up.
With `--stagger S`, replica n starts each slot n x S seconds after the first, as the
scheduler's jitter spreads real replicas: a replica that finds the slot already
committed skips the query, so fewer are wasted ("seconds" includes the waits).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import datetime
from typing import Any

import duckdb_kql
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.alerts.pipeline import AlertPipeline
from bot.alerts.rules import load_rules
from bot.metrics import BotMetrics, TimedWorkspace
from bot.store.schema import EvaluationRow
from bot.store.sql import SqlStore, open_store
from bot.workspace.demo import DemoSpec, load_demo
from bot.workspace.local import LocalWorkspace
from tests.support.alerting import CATALOG, DEMO_NOW, POSTGRES_URL


async def run(
    replicas: int, slots: int, workspace: LocalWorkspace, stagger: float = 0.0
) -> list[str]:
    rules = [rule for rule in load_rules([CATALOG]) if rule.enabled]
    schema = f"bench_eval_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(POSTGRES_URL, poolclass=NullPool)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    stores: list[SqlStore] = []
    metrics = BotMetrics(replica="bench")
    timed = TimedWorkspace(workspace, metrics)
    try:
        for n in range(replicas):
            stores.append(await open_store(POSTGRES_URL, schema=schema, migrate_schema=n == 0))
        pipelines = [
            AlertPipeline(store=store, workspace=timed, worker=f"r{n}")
            for n, store in enumerate(stores)
        ]
        started = time.monotonic()
        dropped = 0
        for k in range(slots):
            at = DEMO_NOW + k * max(rule.frequency for rule in rules)

            async def replica(n: int, pipeline: AlertPipeline, at: datetime = at) -> list[Any]:
                await asyncio.sleep(n * stagger)
                return await asyncio.gather(*(pipeline.evaluate_slot(r, slot_at=at) for r in rules))

            results = await asyncio.gather(*(replica(n, p) for n, p in enumerate(pipelines)))
            dropped += sum(1 for found in results for r in found if r is None)
        seconds = time.monotonic() - started
        async with stores[0].engine.connect() as connection:
            committed = await connection.scalar(select(func.count()).select_from(EvaluationRow))
        (family,) = metrics.query_seconds.collect()
        queries = int(next(s.value for s in family.samples if s.name.endswith("_count")))
        return [
            str(replicas),
            str(slots),
            f"{committed} of {len(rules) * slots}",
            str(dropped),
            str(queries),
            f"{seconds:.1f}",
            f"{(committed or 0) / seconds * 60:.0f}",
        ]
    finally:
        for store in stores:
            await store.close()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--slots", type=int, default=3)
    parser.add_argument("--stagger", type=float, default=0.0)
    args = parser.parse_args()
    con = duckdb_kql.connect()
    load_demo(con, DemoSpec(now=DEMO_NOW))
    workspace = LocalWorkspace(con, clock=lambda: DEMO_NOW)
    header = ["replicas", "slots", "committed", "dropped", "queries", "seconds", "per min"]
    print(" | ".join(header))
    for replicas in args.replicas:
        print(" | ".join(await run(replicas, args.slots, workspace, args.stagger)), flush=True)
    con.close()


if __name__ == "__main__":
    asyncio.run(main())
