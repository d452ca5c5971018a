"""Connecting to the database: URL checks, SQLite's pragmas and transactions, PostgreSQL's schema.

SQLite runs in WAL mode (readers never block the writer) with a busy timeout and foreign
keys on. Every SQLite transaction that may write starts with BEGIN IMMEDIATE: SQLite has
one writer at a time anyway, and taking the write lock up front means a transaction that
reads and then writes waits its turn instead of failing with "database is locked"
half-way; if the busy timeout runs out (another process held the lock that long), BEGIN
IMMEDIATE is tried again, LOCK_RETRIES times in all. A connection with the execution
option READ_ONLY begins a plain (deferred) transaction, which takes no write lock.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from bot.errors import ConfigError

log = logging.getLogger(__name__)

#: How long a SQLite writer waits for another one before giving up.
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: BEGIN IMMEDIATE attempts (each waiting up to the busy timeout) before the error is raised.
LOCK_RETRIES: Final = 3
#: PostgreSQL connections kept, opened beyond those when busy, and seconds to wait for one.
POOL_SIZE: Final = 10
POOL_OVERFLOW: Final = 20
POOL_TIMEOUT: Final = 60.0
#: Execution option: this transaction only reads (SQLite: BEGIN, not BEGIN IMMEDIATE).
READ_ONLY: Final = "alertbot_read_only"

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


def parse_database_url(database_url: str) -> URL:
    """The URL with its async driver (plain sqlite:// and postgresql:// are accepted)."""
    try:
        url = make_url(database_url)
    except (ArgumentError, ValueError) as error:
        # Not the URL itself: it may hold a password.
        raise ConfigError([f"database URL: cannot be parsed ({error})"]) from error
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise ConfigError(
            [
                f"database URL: unsupported database {url.drivername!r}; use "
                "sqlite+aiosqlite:///path/to/file.db or postgresql+asyncpg://user@host/db"
            ]
        )
    return url.set(drivername=driver)


def create_engine(database_url: str, *, schema: str | None = None) -> AsyncEngine:
    """An engine for the URL; `schema` puts every table in that PostgreSQL schema."""
    url = parse_database_url(database_url)
    if url.get_backend_name() == "sqlite":
        if schema is not None:
            raise ConfigError(["database URL: a schema is only supported with PostgreSQL"])
        return _sqlite_engine(url)
    connect_args: dict[str, Any] = {}
    if schema is not None:
        connect_args["server_settings"] = {"search_path": schema}
    # Busy chats run many short transactions at once: more connections than SQLAlchemy's
    # default (5 + 10), and a longer wait for one before a turn fails (issue 18).
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        pool_timeout=POOL_TIMEOUT,
        connect_args=connect_args,
    )


def _sqlite_engine(url: URL) -> AsyncEngine:
    in_memory = url.database in (None, "", ":memory:")
    if not in_memory and url.database is not None:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {"poolclass": StaticPool} if in_memory else {}
    engine = create_async_engine(url, **options)
    event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
    event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        "foreign_keys=ON",
        "synchronous=NORMAL",  # durable across application crashes in WAL mode
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _begin_immediate(connection: Connection) -> None:
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
        return
    for attempt in range(1, LOCK_RETRIES + 1):
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as error:
            if "locked" not in str(error.orig) or attempt == LOCK_RETRIES:
                raise
            log.warning("store: the database stayed locked; trying again (%d)", attempt)
