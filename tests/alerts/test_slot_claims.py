"""Several replicas evaluating the same rule slot: one result is written, once.

Each "replica" is a pipeline over its own store (its own connection pool) on one database,
a SQLite file and a PostgreSQL schema, with the real demo workspace behind them. They
evaluate the same slot at the same moment; the claim row inserted in the commit's own
transaction lets exactly one write (bot.store: `commit_cycle(slot_at=...)`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb_kql
import pytest
from sqlalchemy import func, select

from bot.alerts.pipeline import AlertPipeline
from bot.alerts.rule_model import Rule
from bot.alerts.rules import load_rules
from bot.store.schema import EvaluationRow
from bot.store.sql import SqlStore
from bot.workspace.base import QueryResult
from bot.workspace.demo import DemoSpec, load_demo
from bot.workspace.local import LocalWorkspace
from tests.support.alerting import CATALOG, DEMO_NOW, opened_replicas, subscribe

SPIKE = "provisioning-failure-spike"


class CountingWorkspace:
    """The demo workspace, counting queries, each held `delay` s (so replicas overlap)."""

    def __init__(self, inner: LocalWorkspace, delay: float) -> None:
        self.inner, self.delay, self.queries = inner, delay, 0

    async def query(self, text: str, **kwargs: Any) -> QueryResult:
        self.queries += 1
        await asyncio.sleep(self.delay)
        return await self.inner.query(text, **kwargs)

    async def close(self) -> None:
        return None


@pytest.fixture(scope="module")
def workspace() -> Iterator[LocalWorkspace]:
    con = duckdb_kql.connect()
    load_demo(con, DemoSpec(now=DEMO_NOW))
    yield LocalWorkspace(con, clock=lambda: DEMO_NOW)
    con.close()


@pytest.fixture(scope="module")
def spike() -> Rule:
    return next(rule for rule in load_rules([CATALOG]) if rule.id == SPIKE)


@pytest.fixture(params=["sqlite", "postgresql"])
async def replicas(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[list[SqlStore]]:
    async with opened_replicas(request.param, tmp_path, 3) as stores:
        await subscribe(stores[0], "ops", "all")
        await subscribe(stores[0], "prov", "Provisioning")
        yield stores


def pipelines(stores: list[SqlStore], workspace: Any) -> list[AlertPipeline]:
    return [
        AlertPipeline(store=store, workspace=workspace, worker=f"replica-{n}")
        for n, store in enumerate(stores)
    ]


async def claims(store: SqlStore) -> list[tuple[str, Any, str]]:
    async with store.engine.connect() as connection:
        rows = await connection.execute(
            select(EvaluationRow.rule_id, EvaluationRow.slot_at, EvaluationRow.evaluated_by)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_three_replicas_evaluating_one_slot_at_once_write_it_once(
    replicas: list[SqlStore], workspace: LocalWorkspace, spike: Rule
) -> None:
    counting = CountingWorkspace(workspace, delay=0.2)
    results = await asyncio.gather(
        *(p.evaluate_slot(spike, slot_at=DEMO_NOW) for p in pipelines(replicas, counting))
    )

    written = [r for r in results if r is not None]
    assert len(written) == 1
    assert counting.queries == 3  # all were under way before any committed
    (claim,) = await claims(replicas[0])
    assert claim[:2] == (SPIKE, DEMO_NOW)
    assert claim[2] == f"replica-{results.index(written[0])}"
    # One set of alerts and deliveries: each (event, conversation) once.
    alerts = await replicas[1].list_alerts()
    assert alerts
    assert len({a.fingerprint for a in alerts}) == len(alerts)
    outbox = await replicas[2].list_outbox()
    assert len(outbox) == 2 * len(alerts)
    assert {i.conversation_id for i in outbox} == {"ops", "prov"}
    assert {(i.conversation_id, i.idempotency_key) for i in outbox} == {
        (i.conversation_id, i.idempotency_key) for i in written[0].outbox
    }


async def test_a_slot_already_evaluated_is_not_queried_again_and_the_next_slot_is(
    replicas: list[SqlStore], workspace: LocalWorkspace, spike: Rule
) -> None:
    counting = CountingWorkspace(workspace, delay=0)
    first, second, third = pipelines(replicas, counting)
    assert await first.evaluate_slot(spike, slot_at=DEMO_NOW) is not None
    assert await second.evaluate_slot(spike, slot_at=DEMO_NOW) is None
    assert counting.queries == 1

    later = DEMO_NOW + spike.frequency
    assert await third.evaluate_slot(spike, slot_at=later) is not None  # "takeover": anyone
    assert counting.queries == 2
    assert [slot for _, slot, _ in sorted(await claims(replicas[0]))] == [DEMO_NOW, later]


async def test_old_claims_are_deleted_as_new_slots_commit(
    replicas: list[SqlStore], workspace: LocalWorkspace, spike: Rule
) -> None:
    pipeline = pipelines(replicas[:1], workspace)[0]
    await pipeline.evaluate_slot(spike, slot_at=DEMO_NOW - timedelta(days=3))
    await pipeline.evaluate_slot(spike, slot_at=DEMO_NOW)
    async with replicas[0].engine.connect() as connection:
        count = await connection.scalar(select(func.count()).select_from(EvaluationRow))
    assert count == 1
