"""Notices to the affected person: stored once per audit record, answered once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import select, update
from sqlalchemy.orm import aliased

from bot.notices.model import Answer, Notice, NoticeEvent, Person
from bot.store.base import ConflictError, NoticeOperations
from bot.store.schema import NoticeRecordRow, NoticeRow
from bot.store.sql._common import NO_SYNC, SqlBase, refused

_EVENTS = TypeAdapter(tuple[NoticeEvent, ...])


class NoticeSql(SqlBase, NoticeOperations):
    """Notices and the audit records they hold."""

    async def known_notice_records(self, record_ids: Sequence[str]) -> set[str]:
        if not record_ids:
            return set()
        statement = select(NoticeRecordRow.record_id).where(
            NoticeRecordRow.record_id.in_(list(record_ids))
        )
        async with self._scope() as session:
            return set(await session.scalars(statement))

    async def add_notice(self, notice: Notice) -> None:
        async with self._scope() as session:
            with refused(f"notice {notice.id}: one of its records is told about already"):
                session.add(_row(notice))
                session.add_all(_records(notice.id, notice.events))
                await session.flush()

    async def add_notice_events(
        self, notice_id: str, events: Sequence[NoticeEvent]
    ) -> Notice | None:
        async with self._scope() as session:
            # Locked (PostgreSQL; SQLite runs one writer at a time): an answer or a delivery
            # record waits for this, or this sees it.
            row = await session.get(
                NoticeRow, notice_id, with_for_update=True, populate_existing=True
            )
            if row is None:
                raise ConflictError(f"notice {notice_id} does not exist")
            if row.answer is not None:
                return None
            held = _EVENTS.validate_python(row.events)
            row.events = _EVENTS.dump_python((*held, *events), mode="json")
            with refused(f"notice {notice_id}: one of the records is told about already"):
                session.add_all(_records(notice_id, events))
                await session.flush()
            return _model(row)

    async def get_notice(self, notice_id: str) -> Notice | None:
        async with self._scope() as session:
            row = await session.get(NoticeRow, notice_id, populate_existing=True)
            return _model(row) if row is not None else None

    async def list_notices(
        self, *, person_key: str | None = None, since: datetime | None = None
    ) -> list[Notice]:
        statement = select(NoticeRow).order_by(NoticeRow.created_at, NoticeRow.id)
        if person_key is not None:
            statement = statement.where(NoticeRow.person_key == person_key.lower())
        if since is not None:
            statement = statement.where(NoticeRow.created_at >= since)
        return [_model(row) for row in await self._all(statement)]

    async def answer_notice(
        self,
        notice_id: str,
        *,
        answer: Answer,
        at: datetime,
        alert_id: int | None,
        events: int | None = None,
    ) -> Notice | None:
        async with self._scope() as session:
            # Locked as add_notice_events locks it: the events counted are all there are.
            row = await session.get(
                NoticeRow, notice_id, with_for_update=True, populate_existing=True
            )
            if row is None or row.answer is not None:
                return None
            if events is not None and len(row.events) != events:
                return None
            row.answer, row.answered_at, row.alert_id = answer.value, at, alert_id
            await session.flush()
            return _model(row)

    async def set_notice_delivery(
        self,
        notice_id: str,
        *,
        via: str,
        conversation_id: str | None,
        message_id: str | None,
        told_events: int,
    ) -> None:
        statement = (
            update(NoticeRow)
            .where(NoticeRow.id == notice_id)
            .values(
                delivered_via=via,
                conversation_id=conversation_id,
                message_id=message_id,
                told_events=told_events,
            )
        )
        async with self._scope() as session:
            await session.execute(statement, execution_options=NO_SYNC)

    async def set_notice_told(self, notice_id: str, told_events: int) -> None:
        statement = (
            update(NoticeRow)
            .where(NoticeRow.id == notice_id, NoticeRow.told_events < told_events)
            .values(told_events=told_events)
        )
        async with self._scope() as session:
            await session.execute(statement, execution_options=NO_SYNC)

    async def claim_unanswered_notices(
        self, *, created_after: datetime, created_before: datetime, at: datetime, limit: int
    ) -> list[Notice]:
        candidate = aliased(NoticeRow)
        due = (
            select(candidate.id)
            .where(candidate.answer.is_(None), candidate.reminded_at.is_(None))
            .where(candidate.created_at > created_after, candidate.created_at <= created_before)
            .order_by(candidate.created_at, candidate.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(NoticeRow)
            .where(NoticeRow.id.in_(due), NoticeRow.reminded_at.is_(None))
            .values(reminded_at=at)
            .returning(NoticeRow)
        )
        async with self._scope() as session:
            rows = (await session.scalars(statement, execution_options=NO_SYNC)).all()
        return sorted((_model(row) for row in rows), key=lambda n: (n.created_at, n.id))


def _row(notice: Notice) -> NoticeRow:
    values: dict[str, Any] = notice.model_dump(mode="python", exclude={"person", "events"})
    values["answer"] = notice.answer.value if notice.answer else None
    return NoticeRow(
        **values,
        person_key=notice.person.key,
        person=notice.person.model_dump(mode="json"),
        events=_EVENTS.dump_python(notice.events, mode="json"),
    )


def _records(notice_id: str, events: Sequence[NoticeEvent]) -> list[NoticeRecordRow]:
    return [NoticeRecordRow(record_id=e.record_id, notice_id=notice_id) for e in events]


def _model(row: NoticeRow) -> Notice:
    return Notice(
        id=row.id,
        rule_id=row.rule_id,
        person=Person.model_validate(row.person),
        created_at=row.created_at,
        events=_EVENTS.validate_python(row.events),
        answer=Answer(row.answer) if row.answer else None,
        answered_at=row.answered_at,
        alert_id=row.alert_id,
        delivered_via=row.delivered_via,
        conversation_id=row.conversation_id,
        message_id=row.message_id,
        reminded_at=row.reminded_at,
        told_events=row.told_events or 0,
    )
