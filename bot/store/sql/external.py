"""Alerts from other monitoring systems: notifications seen, their rules, links, write-backs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from bot.models import ExternalLink, Writeback, WritebackStatus
from bot.store.base import ExternalOperations
from bot.store.schema import (
    ExternalAlertRow,
    ExternalNotificationRow,
    ExternalRuleRow,
    WritebackRow,
)
from bot.store.sql._common import NO_SYNC, SqlBase, lease_due

_PENDING = WritebackStatus.PENDING.value


class ExternalSql(SqlBase, ExternalOperations):
    """The tables of bot.store.schema that start with `external_`, and `writebacks`."""

    async def record_notification(self, source: str, key: str, *, at: datetime) -> bool:
        statement = (
            self._insert(ExternalNotificationRow)
            .values(source=source, key=key, received_at=at)
            .on_conflict_do_nothing(
                index_elements=[ExternalNotificationRow.source, ExternalNotificationRow.key]
            )
            .returning(ExternalNotificationRow.key)
        )
        async with self._scope() as session:
            return await session.scalar(statement) is not None

    async def save_external_rule(
        self, rule_id: str, *, source: str, definition: dict[str, Any], at: datetime
    ) -> None:
        values = {"rule_id": rule_id, "source": source, "definition": definition, "updated_at": at}
        statement = (
            self._insert(ExternalRuleRow)
            .values(values)
            .on_conflict_do_update(
                index_elements=[ExternalRuleRow.rule_id],
                set_={"source": source, "definition": definition, "updated_at": at},
            )
        )
        async with self._scope() as session:
            await session.execute(statement)

    async def get_external_rule(self, rule_id: str) -> dict[str, Any] | None:
        async with self._scope() as session:
            row = await session.get(ExternalRuleRow, rule_id)
            return dict(row.definition) if row else None

    async def list_external_rules(self) -> list[dict[str, Any]]:
        async with self._scope() as session:
            rows = await session.scalars(select(ExternalRuleRow).order_by(ExternalRuleRow.rule_id))
            return [dict(row.definition) for row in rows]

    async def link_external_alert(self, link: ExternalLink) -> None:
        async with self._scope() as session:
            session.add(ExternalAlertRow(**link.model_dump()))
            await session.flush()

    async def find_external_alert(self, source: str, external_id: str) -> ExternalLink | None:
        statement = select(ExternalAlertRow).where(
            ExternalAlertRow.source == source, ExternalAlertRow.external_id == external_id
        )
        async with self._scope() as session:
            row = await session.scalar(statement)
            return row.to_model() if row else None

    async def get_external_link(self, alert_id: int) -> ExternalLink | None:
        async with self._scope() as session:
            row = await session.get(ExternalAlertRow, alert_id)
            return row.to_model() if row else None

    async def queue_writeback(
        self, link: ExternalLink, *, new_state: str, actor: str, at: datetime
    ) -> None:
        row = WritebackRow(
            alert_id=link.alert_id,
            source=link.source,
            external_id=link.external_id,
            new_state=new_state,
            actor=actor[:300],
            status=_PENDING,
            attempts=0,
            next_attempt_at=at,
        )
        async with self._scope() as session:
            session.add(row)
            await session.flush()

    async def claim_writebacks(
        self, *, now: datetime, owner: str, lease: timedelta, limit: int
    ) -> list[Writeback]:
        async with self._scope() as session:
            rows = await lease_due(
                session, WritebackRow, owner=owner, now=now, lease=lease, limit=limit
            )
        claimed = [row.to_model() for row, _ in rows]
        for row, previous in rows:
            if previous is not None and previous != owner:
                what = f"write-back {row.id}"
                self._took_over("writeback", what, previous, alert_id=row.alert_id)
        return sorted(claimed, key=lambda w: (w.next_attempt_at, w.id))

    async def finish_writeback(
        self, writeback_id: int, *, error: str | None, retry_at: datetime | None
    ) -> None:
        if error is None:
            status, next_at = WritebackStatus.DONE.value, None
        elif retry_at is not None:
            status, next_at = _PENDING, retry_at
        else:
            status, next_at = WritebackStatus.FAILED.value, None
        values: dict[str, Any] = {"status": status, "last_error": error}
        values |= {"lease_owner": None, "lease_expires_at": None}
        if next_at is not None:
            values["next_attempt_at"] = next_at
        statement = update(WritebackRow).where(WritebackRow.id == writeback_id).values(values)
        async with self._scope() as session:
            await session.execute(statement, execution_options=NO_SYNC)
