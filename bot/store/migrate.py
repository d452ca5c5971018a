"""Schema migrations with Alembic, configured in code (no alembic.ini).

`upgrade(engine)` brings a database to the newest revision; the store runs it at
start-up. Developers add a revision after changing bot/store/schema.py with

    .venv/bin/python -m bot.store.migrate revision "what changed"

which autogenerates it by comparing the schema with a scratch database at head. Review
the generated file: autogenerate sees tables, columns, types and indexes, not data.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.engine import create_engine
from bot.store.schema import metadata

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration; with `connection`, env.py migrates that connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate the database to `revision`, in one transaction."""
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two processes starting at once: the second waits, then finds nothing to do.
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(hashtext('alertbot:' || current_schema()))")
            )
        await connection.run_sync(_upgrade, revision)


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def schema_differences(engine: AsyncEngine) -> list[Any]:
    """What autogenerate would change to make the database match schema.py (ideally [])."""
    async with engine.connect() as connection:
        return await connection.run_sync(_differences)


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def _revision(message: str) -> None:
    next_id = f"{len(list(ScriptDirectory.from_config(alembic_config()).walk_revisions())) + 1:04d}"
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite+aiosqlite:///{scratch}/scratch.db")
        try:
            await upgrade(engine)
            async with engine.begin() as connection:
                await connection.run_sync(
                    lambda sync: command.revision(
                        alembic_config(sync), message, autogenerate=True, rev_id=next_id
                    )
                )
        finally:
            await engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    """`revision MESSAGE` writes a new migration; `upgrade URL` migrates a database."""
    parser = argparse.ArgumentParser(prog="python -m bot.store.migrate")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("revision").add_argument("message")
    commands.add_parser("upgrade").add_argument("database_url")
    args = parser.parse_args(argv)
    if args.command == "revision":
        asyncio.run(_revision(args.message))
    else:
        asyncio.run(_upgrade_url(args.database_url))


async def _upgrade_url(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    main()
