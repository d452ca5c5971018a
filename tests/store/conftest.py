"""Every store test runs twice: on SQLite (a temp file) and on PostgreSQL (a schema of its own).

PostgreSQL is expected at STORE_TEST_POSTGRES_URL (default: the local server, database
`test`). Each PostgreSQL test gets a uniquely named schema (worker id + random suffix),
dropped when the test ends; nothing shared is touched. If the server cannot be reached,
the PostgreSQL tests fail when CI is set and are skipped otherwise.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.store.sql import SqlStore, open_store

POSTGRES_URL = os.environ.get(
    "STORE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@dataclass(frozen=True)
class Database:
    """An empty database for one test; `open()` gives a migrated store on it."""

    backend: str
    url: str
    schema: str | None = None

    async def open(self) -> SqlStore:
        return await open_store(self.url, schema=self.schema)


async def _probe(url: str) -> str | None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with asyncio.timeout(5), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    finally:
        await engine.dispose()
    return None


@pytest.fixture(scope="session")
def postgres_url() -> str:
    # Probed on a thread of its own: this may be asked for from inside a running event loop.
    with ThreadPoolExecutor(1) as thread:
        problem = thread.submit(asyncio.run, _probe(POSTGRES_URL)).result()
    if problem is not None:
        message = f"PostgreSQL is not reachable at {POSTGRES_URL} ({problem})"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run the store tests against PostgreSQL", pytrace=False)
        pytest.skip(f"{message}; set CI to make this a failure")
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        yield Database("sqlite", f"sqlite+aiosqlite:///{tmp_path}/alertbot.db")
        return
    url: str = request.getfixturevalue("postgres_url")
    worker: str = request.getfixturevalue("worker_id")
    schema = f"alertbot_test_{worker}_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(url, poolclass=NullPool)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield Database("postgresql", url, schema)
    finally:
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
async def store(database: Database) -> AsyncIterator[SqlStore]:
    opened = await database.open()
    try:
        yield opened
    finally:
        await opened.close()
