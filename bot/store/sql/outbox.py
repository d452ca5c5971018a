"""The notification outbox: idempotent enqueue, leased claims, sent and failed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Update, and_, func, or_, select, update

from bot.models import OutboxItem, OutboxStatus
from bot.store.base import OutboxOperations
from bot.store.schema import ConversationLeaseRow, OutboxRow, outbox_values
from bot.store.sql._common import NO_SYNC, PENDING, SqlBase, lease_due

#: A free lease's expiry: long past.
_FREE = datetime(2000, 1, 1, tzinfo=UTC)


class OutboxSql(SqlBase, OutboxOperations):
    """Deliveries: enqueued once per key and conversation, claimed under a lease."""

    async def enqueue(self, items: Sequence[OutboxItem]) -> list[OutboxItem]:
        """One statement for all the items (a fan-out's thousands: one by one, 5,000 took
        13 s), each event's JSON made once; the ids come back by (conversation, key)."""
        if not items:
            return []
        insert = (
            self._insert(OutboxRow)
            .on_conflict_do_nothing(
                index_elements=[OutboxRow.conversation_id, OutboxRow.idempotency_key]
            )
            .returning(OutboxRow.id, OutboxRow.conversation_id, OutboxRow.idempotency_key)
        )
        async with self._scope() as session:
            rows = await session.execute(insert, _values(items))
            ids = {(conversation, key): item_id for item_id, conversation, key in rows}
            added = _added(items, ids)
            conversations = sorted({item.conversation_id for item in added})
            if conversations:
                await session.execute(
                    self._insert(ConversationLeaseRow).on_conflict_do_nothing(
                        index_elements=[ConversationLeaseRow.conversation_id]
                    ),
                    [
                        {"conversation_id": c, "owner": None, "expires_at": _FREE}
                        for c in conversations
                    ],
                )
        return added

    async def claim_conversations(
        self,
        *,
        worker: str,
        now: datetime,
        lease: timedelta,
        conversations: int,
        per_conversation: int,
    ) -> list[list[OutboxItem]]:
        due = and_(
            OutboxRow.status == PENDING,
            OutboxRow.next_attempt_at <= now,
            or_(OutboxRow.lease_expires_at.is_(None), OutboxRow.lease_expires_at <= now),
        )
        # A conversation is due when its oldest pending item is: order within it holds.
        # The oldest pending item of every conversation, in one pass over the pending
        # items (the status index), not a look-up per conversation: SQLite answered a
        # correlated min(id) by walking the table in id order, so a claim took 0.1 s
        # with 500 conversations queued and 10 s with 5,000 (issue 14).
        oldest = (
            select(OutboxRow.conversation_id, func.min(OutboxRow.id).label("oldest_id"))
            .where(OutboxRow.status == PENDING)
            .group_by(OutboxRow.conversation_id)
            .subquery()
        )
        free = (
            select(ConversationLeaseRow.conversation_id, ConversationLeaseRow.owner)
            .join(oldest, oldest.c.conversation_id == ConversationLeaseRow.conversation_id)
            .join(OutboxRow, OutboxRow.id == oldest.c.oldest_id)
            .where(ConversationLeaseRow.expires_at <= now, due)
            .order_by(oldest.c.oldest_id)
            .limit(conversations)
            # PostgreSQL: a conversation another worker is claiming right now is passed
            # over, not waited for. SQLite: BEGIN IMMEDIATE serialises claimers.
            .with_for_update(of=ConversationLeaseRow, skip_locked=True)
        )
        async with self._scope() as session:
            # Locked first (their previous owners tell takeovers apart), then leased.
            previous = dict((await session.execute(free)).all())
            if not previous:
                return []
            claimed = list(previous)
            await session.execute(
                update(ConversationLeaseRow)
                .where(ConversationLeaseRow.conversation_id.in_(claimed))
                .values(owner=worker, expires_at=now + lease, claimed_by=worker, claimed_at=now),
                execution_options=NO_SYNC,
            )
            for conversation_id, owner in previous.items():
                if owner is not None and owner != worker:
                    what = f"conversation {conversation_id}"
                    self._took_over("conversation", what, owner, conversation_id=conversation_id)
            rows = await session.execute(
                select(OutboxRow.id, OutboxRow.conversation_id, due)
                .where(OutboxRow.conversation_id.in_(claimed), OutboxRow.status == PENDING)
                .order_by(OutboxRow.id)
            )
            ids: dict[str, list[int]] = {}
            stopped: set[str] = set()
            for item_id, conversation_id, is_due in rows:
                chosen = ids.setdefault(conversation_id, [])
                if not is_due or len(chosen) >= per_conversation:
                    stopped.add(conversation_id)  # in order, up to the first not due
                elif conversation_id not in stopped:
                    chosen.append(item_id)
            items = await session.scalars(
                update(OutboxRow)
                .where(OutboxRow.id.in_([i for chosen in ids.values() for i in chosen]))
                .values(lease_owner=worker, lease_expires_at=now + lease)
                .values(attempts=OutboxRow.attempts + 1)
                .returning(OutboxRow),
                execution_options=NO_SYNC,
            )
            by_conversation: dict[str, list[OutboxItem]] = {}
            for row in items:
                by_conversation.setdefault(row.conversation_id, []).append(row.to_model())
        return [sorted(batch, key=lambda item: item.id) for batch in by_conversation.values()]

    async def release_conversation(
        self,
        conversation_id: str,
        *,
        worker: str,
        now: datetime,
        unsent: Sequence[int] = (),
        sent: tuple[int, str | None] | None = None,
    ) -> bool:
        async with self._scope() as session:
            if sent is not None:
                await session.execute(_sent(*sent), execution_options=NO_SYNC)
            if unsent:
                await session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id.in_(unsent), OutboxRow.lease_owner == worker)
                    .where(OutboxRow.status == PENDING)
                    .values(lease_owner=None, lease_expires_at=None)
                    .values(attempts=OutboxRow.attempts - 1),
                    execution_options=NO_SYNC,
                )
            released = await session.scalar(
                update(ConversationLeaseRow)
                .where(ConversationLeaseRow.conversation_id == conversation_id)
                .where(ConversationLeaseRow.owner == worker)
                .values(owner=None, expires_at=_FREE)
                .returning(ConversationLeaseRow.conversation_id),
                execution_options=NO_SYNC,
            )
        return released is not None

    async def claim_due(
        self, *, worker: str, now: datetime, lease: timedelta, limit: int = 20
    ) -> list[OutboxItem]:
        async with self._scope() as session:
            rows = await lease_due(
                session, OutboxRow, owner=worker, now=now, lease=lease, limit=limit
            )
            items = [row.to_model() for row, _ in rows]
        return sorted(items, key=lambda item: (item.next_attempt_at, item.id))

    async def mark_sent(self, item_id: int, *, message_id: str | None) -> bool:
        return await self._changed(_sent(item_id, message_id).returning(OutboxRow.id))

    async def mark_failed(
        self, item_id: int, *, worker: str, error: str, retry_at: datetime | None
    ) -> bool:
        values: dict[str, Any] = {
            "last_error": error,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        if retry_at is None:
            values["status"] = OutboxStatus.FAILED.value
        else:
            values["next_attempt_at"] = retry_at
        statement = (
            update(OutboxRow)
            .where(OutboxRow.id == item_id, OutboxRow.status == PENDING)
            .where(OutboxRow.lease_owner == worker)
            .values(values)
            .returning(OutboxRow.id)
        )
        return await self._changed(statement)

    async def mark_post_started(self, item_id: int, *, attempt: str, at: datetime) -> bool:
        statement = (
            update(OutboxRow)
            .where(OutboxRow.id == item_id, OutboxRow.status == PENDING)
            .values(post_attempt=attempt, post_started_at=at)
            .returning(OutboxRow.id)
        )
        return await self._changed(statement)

    async def clear_post_started(self, item_id: int, *, attempt: str) -> bool:
        statement = (
            update(OutboxRow)
            .where(OutboxRow.id == item_id, OutboxRow.post_attempt == attempt)
            .values(post_attempt=None, post_started_at=None)
            .returning(OutboxRow.id)
        )
        return await self._changed(statement)

    async def list_outbox(
        self,
        *,
        alert_id: int | None = None,
        conversation_id: str | None = None,
        status: OutboxStatus | None = None,
        limit: int | None = None,
    ) -> list[OutboxItem]:
        statement = select(OutboxRow).order_by(OutboxRow.id).limit(limit)
        if alert_id is not None:
            statement = statement.where(OutboxRow.alert_id == alert_id)
        if conversation_id is not None:
            statement = statement.where(OutboxRow.conversation_id == conversation_id)
        if status is not None:
            statement = statement.where(OutboxRow.status == status.value)
        return [row.to_model() for row in await self._all(statement)]


def _sent(item_id: int, message_id: str | None) -> Update:
    """Mark the item sent (whoever holds its lease: the message exists now)."""
    return (
        update(OutboxRow)
        .where(OutboxRow.id == item_id)
        .values(status=OutboxStatus.SENT.value, last_error=None)
        .values(lease_owner=None, lease_expires_at=None)
        .values(message_id=OutboxRow.message_id if message_id is None else message_id)
    )


def _values(items: Sequence[OutboxItem]) -> list[dict[str, Any]]:
    """Each item's column values; an event shared by many items is turned to JSON once."""
    events: dict[int, Any] = {}
    values = []
    for item in items:
        value = outbox_values(item, event_json=events.get(id(item.event)))
        events[id(item.event)] = value["event"]
        values.append(value)
    return values


def _added(items: Sequence[OutboxItem], ids: dict[tuple[str, str], int]) -> list[OutboxItem]:
    """The items stored now, with their ids: not those already stored (no id came back),
    nor a repeat of a key earlier in `items`."""
    added = []
    for item in items:
        item_id = ids.pop((item.conversation_id, item.idempotency_key), None)
        if item_id is not None:
            added.append(item.model_copy(update={"id": item_id}))
    return added
