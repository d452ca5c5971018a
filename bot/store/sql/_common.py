"""What every part of the SQL store shares: session scopes, error mapping, statement helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Select, Update, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.models import OutboxStatus
from bot.store.base import ConflictError, StoreError, StoreUnavailableError
from bot.store.schema import Base, OutboxRow, WritebackRow

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
    in `reads` (a transaction that takes no write lock), by default the same."""

    def __init__(
        self, scope: SessionScope, dialect: str, reads: SessionScope | None = None
    ) -> None:
        self._scope = scope
        self._reads = reads or scope
        self._dialect = dialect

    def _insert(self, row: type[Base]) -> sqlite.Insert | postgresql.Insert:
        """INSERT with ON CONFLICT, which both backends spell the same way."""
        return postgresql.insert(row) if self._dialect == "postgresql" else sqlite.insert(row)

    async def _all(self, statement: Select[_Row]) -> list[_Row]:
        async with self._reads() as session:
            return list(await session.scalars(statement, execution_options=FRESH))


_Leased = TypeVar("_Leased", OutboxRow, WritebackRow)


def lease_due(
    row: type[_Leased], *, owner: str, now: datetime, lease: timedelta, limit: int
) -> Update:
    """UPDATE … RETURNING that leases to `owner` the oldest `limit` pending rows due by
    `now` whose lease is free, counting an attempt: the outbox's and the write-backs'.

    PostgreSQL: rows another worker is claiming right now are passed over, not waited
    for. SQLite has no row locks; BEGIN IMMEDIATE serialises claimers."""
    candidate = aliased(row)
    due = (
        select(candidate.id)
        .where(candidate.status == PENDING, candidate.next_attempt_at <= now)
        .where(or_(candidate.lease_expires_at.is_(None), candidate.lease_expires_at <= now))
        .order_by(candidate.next_attempt_at, candidate.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (
        update(row)
        .where(row.id.in_(due))
        .values(lease_owner=owner, lease_expires_at=now + lease)
        .values(attempts=row.attempts + 1)
        .returning(row)
    )
