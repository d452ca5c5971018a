"""Provisioning digest schedules: one row per conversation."""

from __future__ import annotations

from sqlalchemy import delete, select

from bot.models import DigestSubscription
from bot.store.base import DigestOperations, StoreError
from bot.store.schema import DigestSubscriptionRow
from bot.store.sql._common import SqlBase, refused


class DigestSql(SqlBase, DigestOperations):
    async def save_digest(self, subscription: DigestSubscription) -> None:
        values = subscription.model_dump()
        values["channel"] = subscription.channel.value
        statement = self._insert(DigestSubscriptionRow).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[DigestSubscriptionRow.conversation_id],
            set_={name: statement.excluded[name] for name in values if name != "conversation_id"},
        )
        message = f"unknown conversation {subscription.conversation_id!r}: save its reference first"
        with refused(message, StoreError):
            async with self._scope() as session:
                await session.execute(statement)

    async def delete_digest(self, conversation_id: str) -> bool:
        statement = (
            delete(DigestSubscriptionRow)
            .where(DigestSubscriptionRow.conversation_id == conversation_id)
            .returning(DigestSubscriptionRow.conversation_id)
        )
        return await self._changed(statement)

    async def list_digests(self) -> list[DigestSubscription]:
        statement = select(DigestSubscriptionRow).order_by(DigestSubscriptionRow.conversation_id)
        return [row.to_model() for row in await self._all(statement)]
