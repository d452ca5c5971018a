"""Helpers for tests of the alert engine end to end: the demo at a pinned time, conversations
subscribed in a real store, and reading back what the store holds."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.models import ChannelKind, ConversationRef, OutboxItem, Subscription
from bot.store import Store
from bot.store.sql import SqlStore, open_store

ROOT = Path(__file__).parents[2]
CATALOG = ROOT / "config" / "rules"
#: The demo's "now" in these tests: every planted scenario lies in the 24 h before it.
DEMO_NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def teams_channel(conversation_id: str, service_url: str) -> ConversationRef:
    """A Teams channel's reference, as the endpoint saves it."""
    return ConversationRef(
        conversation_id=conversation_id,
        channel=ChannelKind.TEAMS,
        kind="channel",
        reference={
            "bot": {"id": "28:bot", "name": "Entra Alerts"},
            "conversation": {"id": conversation_id, "conversationType": "channel"},
            "channelId": "msteams",
            "serviceUrl": service_url,
            "channelData": {"channel": {"id": conversation_id}, "team": {"id": "19:team"}},
        },
        updated_at=DEMO_NOW,
    )


async def subscribe(
    store: Store, conversation_id: str, target: str, *, max_severity: int = 4
) -> None:
    """Store the conversation (a Teams channel) and subscribe it to `target`."""
    await store.upsert_conversation(
        ConversationRef(
            conversation_id=conversation_id,
            channel=ChannelKind.TEAMS,
            kind="channel",
            reference={"conversation": {"id": conversation_id}},
            updated_at=DEMO_NOW,
        )
    )
    await store.subscribe(
        Subscription(
            conversation_id=conversation_id,
            channel=ChannelKind.TEAMS,
            target=target,
            max_severity=max_severity,
            created_by="admin",
            created_at=DEMO_NOW,
        )
    )


def deliveries(items: list[OutboxItem]) -> set[tuple[str, str, int | None]]:
    """(event kind, conversation, alert id) of each outbox item."""
    return {
        (
            item.event.kind.value,
            item.conversation_id,
            item.event.alert.id if item.event.alert else None,
        )
        for item in items
    }


POSTGRES_URL = os.environ.get(
    "STORE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@asynccontextmanager
async def opened_replicas(
    backend: str, tmp_path: Path, count: int
) -> AsyncIterator[list[SqlStore]]:
    """`count` stores on one migrated, empty database, as `count` replicas would each open:
    the same SQLite file, or the same PostgreSQL schema (dropped afterwards)."""
    async with opened_store(backend, tmp_path) as first:
        url = sqlite_url(tmp_path / "alertbot.db") if backend == "sqlite" else POSTGRES_URL
        others = [
            await open_store(url, schema=_SCHEMAS.get(id(first)), migrate_schema=False)
            for _ in range(count - 1)
        ]
        try:
            yield [first, *others]
        finally:
            for other in others:
                await other.close()


#: The PostgreSQL schema of each store `opened_store` opened (by the store's id).
_SCHEMAS: dict[int, str] = {}


@asynccontextmanager
async def opened_store(backend: str, tmp_path: Path) -> AsyncIterator[SqlStore]:
    """A migrated, empty store: a SQLite file, or a PostgreSQL schema of its own (dropped
    afterwards; skipped if the server is not reachable, failed if CI is set)."""
    if backend == "sqlite":
        store = await open_store(sqlite_url(tmp_path / "alertbot.db"))
        try:
            yield store
        finally:
            await store.close()
        return
    schema = f"alertbot_pipeline_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(POSTGRES_URL, poolclass=NullPool)
    try:
        async with asyncio.timeout(5), admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except (OSError, TimeoutError, SQLAlchemyError) as error:
        await admin.dispose()
        message = f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        store = await open_store(POSTGRES_URL, schema=schema)
        _SCHEMAS[id(store)] = schema
        try:
            yield store
        finally:
            _SCHEMAS.pop(id(store), None)
            await store.close()
    finally:
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()
