"""What every part of the SQL store shares: session scopes, error mapping, statement helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import TypeVar

from sqlalchemy import Select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import OutboxStatus
from bot.store.base import ConflictError, StoreError, StoreUnavailableError
from bot.store.schema import Base

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
