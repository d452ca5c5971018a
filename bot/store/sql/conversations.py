"""Conversation references, subscriptions, and the audit log."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select, update

from bot.models import AuditEntry, ConversationRef, OutboxStatus, Subscription
from bot.store.base import ALL_TARGET, AuditOperations, ConversationOperations, StoreError
from bot.store.schema import (
    AuditRow,
    ConversationRow,
    OutboxRow,
    SubscriptionRow,
    audit_values,
    conversation_values,
    subscription_values,
)
from bot.store.sql._common import NO_SYNC, PENDING, SqlBase, refused


class ConversationSql(SqlBase, ConversationOperations, AuditOperations):
    """Conversation references, subscriptions and the audit log."""

    async def upsert_conversation(self, ref: ConversationRef) -> None:
        values = conversation_values(ref)
        statement = self._insert(ConversationRow).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[ConversationRow.conversation_id],
            set_={name: statement.excluded[name] for name in values if name != "conversation_id"},
        )
        async with self._scope() as session:
            await session.execute(statement)

    async def get_conversation(self, conversation_id: str) -> ConversationRef | None:
        async with self._reads() as session:
            row = await session.get(ConversationRow, conversation_id, populate_existing=True)
            return row.to_model() if row else None

    async def get_conversations(
        self, conversation_ids: Sequence[str]
    ) -> dict[str, ConversationRef]:
        statement = select(ConversationRow).where(
            ConversationRow.conversation_id.in_(sorted(set(conversation_ids)))
        )
        return {row.conversation_id: row.to_model() for row in await self._all(statement)}

    async def list_conversations(self) -> list[ConversationRef]:
        rows = await self._all(select(ConversationRow).order_by(ConversationRow.conversation_id))
        return [row.to_model() for row in rows]

    async def delete_conversation(self, conversation_id: str) -> bool:
        give_up = (
            update(OutboxRow)
            .where(OutboxRow.conversation_id == conversation_id, OutboxRow.status == PENDING)
            .values(status=OutboxStatus.FAILED.value, last_error="conversation removed")
            .values(lease_owner=None, lease_expires_at=None)
        )
        # Its subscriptions go with it (ON DELETE CASCADE).
        remove = (
            delete(ConversationRow)
            .where(ConversationRow.conversation_id == conversation_id)
            .returning(ConversationRow.conversation_id)
        )
        async with self._scope() as session:
            await session.execute(give_up, execution_options=NO_SYNC)
            return await session.scalar(remove, execution_options=NO_SYNC) is not None

    async def subscribe(self, subscription: Subscription) -> None:
        values = subscription_values(subscription)
        statement = self._insert(SubscriptionRow).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[SubscriptionRow.conversation_id, SubscriptionRow.target],
            set_={name: statement.excluded[name] for name in ("max_severity", "channel")},
        )
        message = f"unknown conversation {subscription.conversation_id!r}: save its reference first"
        with refused(message, StoreError):
            async with self._scope() as session:
                await session.execute(statement)

    async def unsubscribe(self, conversation_id: str, target: str) -> bool:
        statement = (
            delete(SubscriptionRow)
            .where(SubscriptionRow.conversation_id == conversation_id)
            .where(SubscriptionRow.target == target)
            .returning(SubscriptionRow.target)
        )
        return await self._changed(statement)

    async def list_subscriptions(self, conversation_id: str | None = None) -> list[Subscription]:
        statement = select(SubscriptionRow).order_by(
            SubscriptionRow.conversation_id, SubscriptionRow.target
        )
        if conversation_id is not None:
            statement = statement.where(SubscriptionRow.conversation_id == conversation_id)
        return [row.to_model() for row in await self._all(statement)]

    async def find_subscribers(
        self, *, rule_id: str, category: str, severity: int
    ) -> list[Subscription]:
        specificity = [rule_id.lower(), category.lower(), ALL_TARGET]
        statement = select(SubscriptionRow).where(
            func.lower(SubscriptionRow.target).in_(specificity),
            SubscriptionRow.max_severity >= severity,
        )
        matches = [row.to_model() for row in await self._all(statement)]
        matches.sort(key=lambda sub: (sub.conversation_id, specificity.index(sub.target.lower())))
        chosen: dict[str, Subscription] = {}
        for subscription in matches:
            chosen.setdefault(subscription.conversation_id, subscription)
        return list(chosen.values())

    # --- audit ------------------------------------------------------------------------

    async def append_audit(self, entry: AuditEntry) -> None:
        async with self._scope() as session:
            await session.execute(insert(AuditRow).values(audit_values(entry)))

    async def list_audit(
        self, *, alert_id: int | None = None, conversation_id: str | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        statement = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if alert_id is not None:
            statement = statement.where(AuditRow.alert_id == alert_id)
        if conversation_id is not None:
            statement = statement.where(AuditRow.conversation_id == conversation_id)
        return [row.to_model() for row in reversed(await self._all(statement))]
