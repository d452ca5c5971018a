"""The store itself: transactions, one evaluation cycle, connecting and migrating.

Transactions that only read take no write lock (on SQLite a plain BEGIN, in WAL mode a
snapshot that never waits for the writer); those that write take it up front (BEGIN
IMMEDIATE, see engine.py) and, on SQLite, one at a time in this process (`_writer`), so
requests queue here, briefly, instead of on the file lock where waits time out. A
conversation reference is written only when new or changed (KnownConversations).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.models import AlertInstance, ConversationRef, DimensionState, OutboxItem, RuleHealth
from bot.store.base import RuleState, SlotTakenError, Store, StoreOperations, TakeoverHook
from bot.store.engine import READ_ONLY, create_engine
from bot.store.revision import at_head
from bot.store.schema import EvaluationRow
from bot.store.sql._common import reuse, unavailable
from bot.store.sql.alerts import AlertSql
from bot.store.sql.conversations import ConversationSql
from bot.store.sql.delivery_state import DeliveryStateSql
from bot.store.sql.digests import DigestSql
from bot.store.sql.external import ExternalSql
from bot.store.sql.known import KnownConversations
from bot.store.sql.notices import NoticeSql
from bot.store.sql.outbox import OutboxSql

#: Slot claims older than this (before the slot being committed) are deleted with it.
SLOT_RETENTION: Final = timedelta(days=2)


async def open_store(
    database_url: str,
    *,
    schema: str | None = None,
    migrate_schema: bool = True,
    on_takeover: TakeoverHook | None = None,
) -> SqlStore:
    """Connect, bring the schema to the newest revision, and return the store; takeovers
    of other replicas' claims are told to `on_takeover`."""
    engine = create_engine(database_url, schema=schema)
    try:
        if migrate_schema:
            with unavailable():
                if not await at_head(engine):
                    from bot.store import migrate  # Alembic: only when there is work

                    await migrate.upgrade(engine)
    except BaseException:
        await engine.dispose()
        raise
    return SqlStore(engine, on_takeover=on_takeover)


class SqlOperations(
    AlertSql,
    ConversationSql,
    OutboxSql,
    ExternalSql,
    DigestSql,
    NoticeSql,
    DeliveryStateSql,
    StoreOperations,
):
    """Every operation, run in whatever transaction `scope` provides."""


class SqlStore(SqlOperations, Store):
    """The store; build it with `open_store`."""

    def __init__(self, engine: AsyncEngine, *, on_takeover: TakeoverHook | None = None) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self._writer = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        self._known = KnownConversations()
        super().__init__(
            self._own_transaction,
            engine.dialect.name,
            self._read_transaction,
            on_takeover=on_takeover,
        )

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @asynccontextmanager
    async def _own_transaction(self) -> AsyncIterator[AsyncSession]:
        async with self._write_turn():
            with unavailable():
                async with self._sessions.begin() as session:
                    yield session

    @asynccontextmanager
    async def _write_turn(self) -> AsyncIterator[None]:
        if self._writer is None:
            yield
            return
        async with self._writer:
            yield

    @asynccontextmanager
    async def _read_transaction(self) -> AsyncIterator[AsyncSession]:
        with unavailable():
            async with self._sessions.begin() as session:
                await session.connection(execution_options={READ_ONLY: True})
                yield session

    async def upsert_conversation(self, ref: ConversationRef) -> None:
        """Written only if new or changed since this process last saw it stored."""
        if self._known.holds(ref):
            return
        stored = await self.get_conversation(ref.conversation_id)
        if stored is None or not _same(stored, ref):
            await super().upsert_conversation(ref)
        self._known.remember(ref)

    async def delete_conversation(self, conversation_id: str) -> bool:
        self._known.forget(conversation_id)
        return await super().delete_conversation(conversation_id)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[StoreOperations]:
        async with self._own_transaction() as session:
            yield SqlOperations(reuse(session), self._dialect, on_takeover=self._on_takeover)

    async def load_rule_state(self, rule_id: str, *, now: datetime) -> RuleState:
        async with self._read_transaction() as session:
            if self._dialect == "postgresql":
                # One snapshot for the four reads (SQLite's transaction already is one).
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
        slot_at: datetime | None = None,
        worker: str = "",
    ) -> list[AlertInstance]:
        _check_cycle(rule_id, alerts, health, outbox)
        saved: dict[int, AlertInstance] = {}
        async with self._own_transaction() as session:
            if slot_at is not None:
                await self._claim_slot(session, rule_id, slot_at, worker)
            tx = SqlOperations(reuse(session), self._dialect, on_takeover=self._on_takeover)
            # Updates before inserts: a resolved instance frees its fingerprint for a new one.
            for alert in sorted(alerts, key=lambda alert: alert.version == 0):
                saved[alert.id] = await tx.save_alert(alert)
            await tx.replace_dimension_states(rule_id, dimension_states)
            await tx.save_rule_health(health)
            await tx.enqueue(outbox)
        return [saved[alert.id] for alert in alerts]

    async def slot_evaluated(self, rule_id: str, slot_at: datetime) -> bool:
        statement = select(EvaluationRow.rule_id).where(
            EvaluationRow.rule_id == rule_id, EvaluationRow.slot_at == slot_at
        )
        async with self._read_transaction() as session:
            return await session.scalar(statement) is not None

    async def _claim_slot(
        self, session: AsyncSession, rule_id: str, slot_at: datetime, worker: str
    ) -> None:
        """The first statement of a cycle: PostgreSQL makes a second claimer of the same
        slot wait here until the first ends, then finds its row (or, if it rolled back,
        claims it: a takeover); SQLite's BEGIN IMMEDIATE already serialises whole
        transactions."""
        waited = await self._slot_turn(session, rule_id, slot_at)
        claim = (
            self._insert(EvaluationRow)
            .values(
                rule_id=rule_id,
                slot_at=slot_at,
                evaluated_by=worker[:200],
                committed_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing(index_elements=[EvaluationRow.rule_id, EvaluationRow.slot_at])
            .returning(EvaluationRow.rule_id)
        )
        if await session.scalar(claim) is None:
            raise SlotTakenError(f"rule {rule_id!r}: slot {slot_at.isoformat()} already evaluated")
        if waited:
            what = f"rule {rule_id} slot {slot_at.isoformat()}"
            self._took_over("slot", what, None, rule_id=rule_id, slot=slot_at.isoformat())
        await session.execute(
            delete(EvaluationRow).where(
                EvaluationRow.rule_id == rule_id, EvaluationRow.slot_at < slot_at - SLOT_RETENTION
            )
        )

    async def _slot_turn(self, session: AsyncSession, rule_id: str, slot_at: datetime) -> bool:
        """PostgreSQL: take the slot's advisory lock (held to the end of the transaction),
        waiting if another replica's cycle holds it. True if it had to wait: that cycle
        ended, and if the claim below succeeds it ended without committing (its process
        died, or its commit failed), so this one takes the slot over."""
        if self._dialect != "postgresql":
            return False
        key = _slot_lock_key(rule_id, slot_at)
        if await session.scalar(select(func.pg_try_advisory_xact_lock(key))):
            return False
        await session.execute(select(func.pg_advisory_xact_lock(key)))
        return True

    async def ping(self) -> None:
        """Whether the database takes a write (SQLite: its lock can be had), in turn with
        this process's writers: beside them it would starve while they keep the lock busy."""
        async with self._own_transaction() as session:
            await session.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self._engine.dispose()


def _slot_lock_key(rule_id: str, slot_at: datetime) -> int:
    """A signed 64-bit advisory lock key for one (rule, slot), the same on every replica."""
    digest = hashlib.sha256(f"{rule_id}@{slot_at.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _same(stored: ConversationRef, ref: ConversationRef) -> bool:
    from bot.store.sql.known import fingerprint

    return fingerprint(stored) == fingerprint(ref)


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
