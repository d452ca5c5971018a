"""The store itself: transactions, one evaluation cycle, connecting and migrating."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.models import AlertInstance, DimensionState, OutboxItem, RuleHealth
from bot.store import migrate
from bot.store.base import RuleState, Store, StoreOperations
from bot.store.engine import create_engine
from bot.store.sql._common import reuse, unavailable
from bot.store.sql.alerts import AlertSql
from bot.store.sql.conversations import ConversationSql
from bot.store.sql.notices import NoticeSql
from bot.store.sql.outbox import OutboxSql


async def open_store(
    database_url: str, *, schema: str | None = None, migrate_schema: bool = True
) -> SqlStore:
    """Connect, bring the schema to the newest revision, and return the store."""
    engine = create_engine(database_url, schema=schema)
    try:
        if migrate_schema:
            with unavailable():
                await migrate.upgrade(engine)
    except BaseException:
        await engine.dispose()
        raise
    return SqlStore(engine)


class SqlOperations(AlertSql, ConversationSql, OutboxSql, NoticeSql, StoreOperations):
    """Every operation, run in whatever transaction `scope` provides."""


class SqlStore(SqlOperations, Store):
    """The store; build it with `open_store`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        super().__init__(self._own_transaction, engine.dialect.name)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @asynccontextmanager
    async def _own_transaction(self) -> AsyncIterator[AsyncSession]:
        with unavailable():
            async with self._sessions.begin() as session:
                yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[StoreOperations]:
        async with self._own_transaction() as session:
            yield SqlOperations(reuse(session), self._dialect)

    async def load_rule_state(self, rule_id: str, *, now: datetime) -> RuleState:
        async with self._own_transaction() as session:
            if self._dialect == "postgresql":
                # One snapshot for the four reads (SQLite's BEGIN IMMEDIATE already is one).
                await session.execute(
                    text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                )
            reads = SqlOperations(reuse(session), self._dialect)
            return RuleState(
                rule_id=rule_id,
                open_alerts=await reads.list_alerts(open_only=True, rule_id=rule_id),
                dimension_states=await reads.list_dimension_states(rule_id),
                health=await reads.get_rule_health(rule_id),
                mutes=await reads.list_mutes(now=now, rule_id=rule_id),
            )

    async def commit_cycle(
        self,
        *,
        rule_id: str,
        alerts: Sequence[AlertInstance],
        dimension_states: Sequence[DimensionState],
        health: RuleHealth,
        outbox: Sequence[OutboxItem],
    ) -> list[AlertInstance]:
        _check_cycle(rule_id, alerts, health, outbox)
        saved: dict[int, AlertInstance] = {}
        async with self.transaction() as tx:
            # Updates before inserts: a resolved instance frees its fingerprint for a new one.
            for alert in sorted(alerts, key=lambda alert: alert.version == 0):
                saved[alert.id] = await tx.save_alert(alert)
            await tx.replace_dimension_states(rule_id, dimension_states)
            await tx.save_rule_health(health)
            await tx.enqueue(outbox)
        return [saved[alert.id] for alert in alerts]

    async def ping(self) -> None:
        async with self._own_transaction() as session:
            await session.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self._engine.dispose()


def _check_cycle(
    rule_id: str, alerts: Sequence[AlertInstance], health: RuleHealth, outbox: Sequence[OutboxItem]
) -> None:
    """One cycle is one rule's: anything else is a bug in the caller."""
    foreign = [alert.id for alert in alerts if alert.rule_id != rule_id]
    foreign += [item.id for item in outbox if item.event.rule_id != rule_id]
    if foreign or health.rule_id != rule_id:
        raise ValueError(f"a cycle of rule {rule_id!r} carries another rule's alerts or events")
    if len({alert.id for alert in alerts}) != len(alerts):
        raise ValueError(f"a cycle of rule {rule_id!r} saves the same alert twice")
