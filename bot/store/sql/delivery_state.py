"""What the replicas' deliveries share beyond the outbox: what each posted message shows
(a digest per message), each conversation's recent operations (kept on its lease row)
and who delivered lately."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select, update

from bot.store.base import DeliveryStateOperations
from bot.store.schema import ConversationLeaseRow, ShownMessageRow
from bot.store.sql._common import NO_SYNC, SqlBase

#: The operations kept per conversation: Teams' longest window counts 60 (in 30 s).
RECENT_KEPT: Final = 60


class DeliveryStateSql(SqlBase, DeliveryStateOperations):
    """Shown digests and pacing, read and written by whichever replica delivers."""

    async def shown_digest(self, conversation_id: str, message_id: str) -> str | None:
        statement = select(ShownMessageRow.digest).where(
            ShownMessageRow.conversation_id == conversation_id,
            ShownMessageRow.message_id == message_id,
        )
        async with self._reads() as session:
            return await session.scalar(statement)

    async def remember_shown(
        self, conversation_id: str, message_id: str, *, digest: str, at: datetime
    ) -> None:
        async with self._scope() as session:
            await session.execute(self._shown(conversation_id, message_id, digest, at))

    def _shown(self, conversation_id: str, message_id: str, digest: str, at: datetime) -> Any:
        insert = self._insert(ShownMessageRow).values(
            conversation_id=conversation_id, message_id=message_id, digest=digest, shown_at=at
        )
        return insert.on_conflict_do_update(
            index_elements=[ShownMessageRow.conversation_id, ShownMessageRow.message_id],
            set_={"digest": digest, "shown_at": at},
        )

    async def recent_sends(self, conversation_id: str) -> list[datetime]:
        statement = select(ConversationLeaseRow.recent_sends).where(
            ConversationLeaseRow.conversation_id == conversation_id
        )
        async with self._reads() as session:
            return _sends(await session.scalar(statement))

    async def recent_sends_of(self, conversation_ids: Sequence[str]) -> dict[str, list[datetime]]:
        statement = select(
            ConversationLeaseRow.conversation_id, ConversationLeaseRow.recent_sends
        ).where(ConversationLeaseRow.conversation_id.in_(sorted(set(conversation_ids))))
        async with self._reads() as session:
            rows = (await session.execute(statement)).all()
        found = {conversation_id: _sends(stored) for conversation_id, stored in rows}
        return {conversation_id: sends for conversation_id, sends in found.items() if sends}

    async def save_recent_sends(self, conversation_id: str, sends: Sequence[datetime]) -> None:
        async with self._scope() as session:
            await session.execute(self._sends(conversation_id, sends), execution_options=NO_SYNC)

    async def save_delivery_state(
        self,
        conversation_id: str,
        *,
        shown: Sequence[tuple[str, str]] = (),
        at: datetime,
        sends: Sequence[datetime] | None = None,
    ) -> None:
        if not shown and sends is None:
            return
        async with self._scope() as session:
            for message_id, digest in shown:
                await session.execute(self._shown(conversation_id, message_id, digest, at))
            if sends is not None:
                statement = self._sends(conversation_id, sends)
                await session.execute(statement, execution_options=NO_SYNC)

    def _sends(self, conversation_id: str, sends: Sequence[datetime]) -> Any:
        kept = sorted(sends)[-RECENT_KEPT:]
        return (
            update(ConversationLeaseRow)
            .where(ConversationLeaseRow.conversation_id == conversation_id)
            .values(recent_sends=[when.isoformat() for when in kept])
        )

    async def delivering_replicas(self, *, since: datetime) -> int:
        statement = select(func.count(func.distinct(ConversationLeaseRow.claimed_by))).where(
            ConversationLeaseRow.claimed_at >= since
        )
        async with self._reads() as session:
            return int(await session.scalar(statement) or 0)


def _sends(stored: Any) -> list[datetime]:
    if not isinstance(stored, list):
        return []
    return [datetime.fromisoformat(value) for value in stored if isinstance(value, str)]
