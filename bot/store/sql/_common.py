"""What every part of the SQL store shares: session scopes, error mapping, statement helpers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import OutboxStatus
from bot.store.base import (
    ConflictError,
    StoreError,
    StoreUnavailableError,
    TakeoverHook,
    TakeoverKind,
)
from bot.store.schema import Base, OutboxRow, WritebackRow

log = logging.getLogger(__name__)

SessionScope = Callable[[], AbstractAsyncContextManager[AsyncSession]]
_Row = TypeVar("_Row", bound=Base)
#: Reads refresh objects a transaction's session already holds; writes do not track them.
FRESH = {"populate_existing": True}
NO_SYNC = {"synchronize_session": False}
PENDING = OutboxStatus.PENDING.value


@contextmanager
def unavailable() -> Iterator[None]:
    try:
        yield
    except (OperationalError, InterfaceError, OSError) as error:
        raise StoreUnavailableError(f"database unavailable: {error}") from error


@contextmanager
def refused(message: str, error_type: type[StoreError] = ConflictError) -> Iterator[None]:
    try:
        yield
    except IntegrityError as error:
        raise error_type(message) from error


def reuse(session: AsyncSession) -> SessionScope:
    @asynccontextmanager
    async def scope() -> AsyncIterator[AsyncSession]:
        yield session

    return scope


class SqlBase:
    """Runs statements in whatever transaction `scope` provides; statements that only read
    in `reads` (a transaction that takes no write lock), by default the same. Takeovers
    of another replica's claims are told to `on_takeover`."""

    def __init__(
        self,
        scope: SessionScope,
        dialect: str,
        reads: SessionScope | None = None,
        *,
        on_takeover: TakeoverHook | None = None,
    ) -> None:
        self._scope = scope
        self._reads = reads or scope
        self._dialect = dialect
        self._on_takeover = on_takeover

    def _took_over(
        self, kind: TakeoverKind, what: str, previous: str | None, **fields: object
    ) -> None:
        """`what` was claimed by someone else (`previous`) whose claim ran out; `fields`
        name it in a JSON log line (conversation_id, rule_id, ...)."""
        who = previous or "a replica that stopped"
        log.info("took over %s from %s", what, who, extra=fields)
        if self._on_takeover is not None:
            self._on_takeover(kind, previous or "")

    async def _changed(self, statement: Any) -> bool:
        """Whether `statement` (an UPDATE/DELETE/INSERT ... RETURNING) changed a row."""
        async with self._scope() as session:
            return await session.scalar(statement, execution_options=NO_SYNC) is not None

    def _insert(self, row: type[Base]) -> sqlite.Insert | postgresql.Insert:
        """INSERT with ON CONFLICT, which both backends spell the same way."""
        return postgresql.insert(row) if self._dialect == "postgresql" else sqlite.insert(row)

    async def _all(self, statement: Select[_Row]) -> list[_Row]:
        async with self._reads() as session:
            return list(await session.scalars(statement, execution_options=FRESH))


_Leased = TypeVar("_Leased", OutboxRow, WritebackRow)


async def lease_due(
    session: AsyncSession,
    row: type[_Leased],
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
) -> list[tuple[_Leased, str | None]]:
    """Lease to `owner` the oldest `limit` pending rows due by `now` whose lease is free,
    counting an attempt (the outbox's and the write-backs'); each with its previous lease
    owner (set when someone else's expired lease is taken over).

    PostgreSQL: rows another worker is claiming right now are passed over, not waited
    for. SQLite has no row locks; BEGIN IMMEDIATE serialises claimers."""
    due = (
        select(row.id, row.lease_owner)
        .where(row.status == PENDING, row.next_attempt_at <= now)
        .where(or_(row.lease_expires_at.is_(None), row.lease_expires_at <= now))
        .order_by(row.next_attempt_at, row.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    previous: dict[int, str | None] = dict((await session.execute(due)).all())
    if not previous:
        return []
    leased = await session.scalars(
        update(row)
        .where(row.id.in_(previous))
        .values(lease_owner=owner, lease_expires_at=now + lease)
        .values(attempts=row.attempts + 1)
        .returning(row),
        execution_options=NO_SYNC,
    )
    return [(leased_row, previous[leased_row.id]) for leased_row in leased]
