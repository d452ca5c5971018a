"""Schema migrations, connection set-up, and what the store refuses."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import StatementError

from bot.errors import ConfigError
from bot.settings import Settings
from bot.store import StoreUnavailableError, revision
from bot.store.engine import create_engine, parse_database_url
from bot.store.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    schema_differences,
    upgrade,
)
from bot.store.schema import metadata
from bot.store.sql import SqlStore, open_store
from tests.store.conftest import Database
from tests.store.factories import alert, conversation


async def test_the_migrated_schema_is_the_orm_schema(store: SqlStore) -> None:
    assert await current_revision(store.engine) == head_revision() == "0014"
    assert await schema_differences(store.engine) == []


async def test_a_drifted_schema_is_noticed(store: SqlStore) -> None:
    async with store.engine.begin() as connection:
        await connection.execute(text("DROP INDEX ix_outbox_alert_id"))
        await connection.execute(text("ALTER TABLE audit_log ADD COLUMN extra INTEGER"))
    differences = await schema_differences(store.engine)
    assert sorted(difference[0] for difference in differences) == ["add_index", "remove_column"]


async def test_the_initial_revision_creates_every_table(store: SqlStore) -> None:
    async with store.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(sync.dialect.get_table_names(sync)))
    assert tables == set(metadata.tables) | {"alembic_version"}


async def test_migrations_go_down_and_up_again(store: SqlStore) -> None:
    def downgrade(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), "base")

    async with store.engine.begin() as connection:
        await connection.run_sync(downgrade)
    assert await current_revision(store.engine) is None
    await upgrade(store.engine)
    assert await schema_differences(store.engine) == []


async def test_reopening_keeps_the_data_and_migrates_nothing(database: Database) -> None:
    first = await database.open()
    await first.save_alert(alert(await first.next_alert_id()))
    await first.close()
    again = await database.open()
    try:
        assert [a.id for a in await again.list_alerts()] == [1]
        assert await again.next_alert_id() == 2
        await again.ping()
    finally:
        await again.close()


def test_the_head_read_from_the_files_is_alembics() -> None:
    assert revision.head() == head_revision()


async def test_at_head_only_when_the_database_is(database: Database) -> None:
    engine = create_engine(database.url, schema=database.schema)
    try:
        assert not await revision.at_head(engine)  # a new database: no version table
        await upgrade(engine, "0013")
        assert not await revision.at_head(engine)
        await upgrade(engine)
        assert await revision.at_head(engine)
    finally:
        await engine.dispose()


async def test_a_behind_database_is_migrated_when_opened(database: Database) -> None:
    engine = create_engine(database.url, schema=database.schema)
    await upgrade(engine, "0012")
    await engine.dispose()
    store = await database.open()
    try:
        assert await current_revision(store.engine) == head_revision()
    finally:
        await store.close()


def test_opening_a_database_at_head_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    script = (
        "import asyncio, sys\n"
        "from bot.store.sql import open_store\n"
        "async def main():\n"
        f"    store = await open_store({url!r})\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
        "print('alembic' in sys.modules)\n"
    )
    first = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    again = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert (first.stdout.strip(), again.stdout.strip()) == ("True", "False"), again.stderr


async def test_naive_datetimes_are_refused(store: SqlStore) -> None:
    naive = conversation().model_copy(update={"updated_at": datetime(2026, 5, 1, 10)})
    with pytest.raises(StatementError, match="naive datetime"):
        await store.upsert_conversation(naive)


async def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(
    tmp_path: Path,
) -> None:
    # The default URL's folder (var/) does not exist yet: the store creates it.
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path}/var/alertbot.db")
    try:
        async with store.engine.connect() as connection:
            pragmas = [
                (await connection.execute(text(f"PRAGMA {name}"))).scalar_one()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            ]
    finally:
        await store.close()
    assert pragmas == ["wal", 1, 10_000]
    assert (tmp_path / "var" / "alertbot.db").is_file()


async def test_an_unreachable_database_is_reported_as_unavailable() -> None:
    with pytest.raises(StoreUnavailableError, match="database unavailable"):
        await open_store("postgresql+asyncpg://postgres@127.0.0.1:1/test")


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite:///var/alertbot.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///var/alertbot.db", "sqlite+aiosqlite"),
        ("postgresql://bot:secret@db.internal:5432/alertbot", "postgresql+asyncpg"),
        ("postgres://bot@db.internal/alertbot", "postgresql+asyncpg"),
    ],
)
def test_urls_get_their_async_driver(given: str, driver: str) -> None:
    assert parse_database_url(given).drivername == driver


@pytest.mark.parametrize(
    "given", ["mysql://root:s3cret@localhost/bot", "not a url", "postgresql://u:s3cret@h:port/db"]
)
def test_unsupported_urls_are_a_config_error_that_hides_the_password(given: str) -> None:
    with pytest.raises(ConfigError, match="database URL") as raised:
        parse_database_url(given)
    assert "s3cret" not in str(raised.value)


def test_the_default_database_is_a_sqlite_file_under_var() -> None:
    url = parse_database_url(Settings.model_fields["database_url"].default)
    assert (url.drivername, url.database) == ("sqlite+aiosqlite", "var/alertbot.db")
