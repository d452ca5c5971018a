"""BusyError chats (issue 18): many conversations at once through the whole bot, on SQLite and
on PostgreSQL, and not one server error.

The app is create_app's, authentication off (as with the Agents Playground), with the
real router, store and Teams notifier, against the fake Bot Connector. A channel
subscribes and a rule fires (its card gives the buttons to press); then 50 personal
chats, new to the bot, each send 3 messages while 25 Acknowledge/Snooze presses arrive,
all at once: every request answers 200 and every message gets its reply.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import bot.app
from bot.app import create_app
from bot.models import AlertEventKind
from bot.settings import Settings
from bot.store.sql import open_store
from bot.web import STORE
from tests.channels.teams.conftest import MakeClient, card_press, channel, message
from tests.channels.teams.fake_connector import FakeConnector
from tests.channels.teams.test_teams_app import button, delivered, eventually
from tests.channels.teams.test_teams_app import settings as app_settings
from tests.support.alerting import POSTGRES_URL

CHATS = 50
MESSAGES_PER_CHAT = 3
PRESSES = 25


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("ALERTBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
async def configured(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Settings]:
    """Settings for the bot on SQLite, or on a PostgreSQL schema of its own."""
    base = app_settings(tmp_path)
    if request.param == "sqlite":
        yield base
        return
    schema = f"alertbot_busy_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(POSTGRES_URL, poolclass=NullPool)
    try:
        async with asyncio.timeout(5), admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except (OSError, TimeoutError, SQLAlchemyError) as error:
        await admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable: {error}", pytrace=False)
        pytest.skip(f"PostgreSQL is not reachable: {error}")
    monkeypatch.setattr(bot.app, "open_store", partial(open_store, schema=schema))
    try:
        yield base.model_copy(update={"database_url": POSTGRES_URL})
    finally:
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


def chat(number: int) -> dict[str, Any]:
    return {"conversation": f"a:busy-chat-{number}", "conversation_type": "personal"}


async def test_fifty_busy_chats_get_every_reply_and_no_server_error(
    aiohttp_client: MakeClient, configured: Settings, fake: FakeConnector, service_url: str
) -> None:
    client = await aiohttp_client(create_app(configured))

    async def post(body: dict[str, Any]) -> int:
        response = await client.post("/api/messages", json=body)
        await response.read()
        return response.status

    assert await post(message(service_url, "subscribe all", **channel())) == 200
    assert await post(message(service_url, "run provisioning-failure-spike", **channel())) == 200
    fired = await delivered(client.app[STORE], AlertEventKind.FIRED)
    card = fake.of_kind("create")[0].card or {}
    presses = [
        card_press(
            service_url,
            verb,
            button(card, verb)["data"],
            reply_to=fired.message_id or "",
            **channel(fired.message_id),
        )
        for verb in ("alert.ack", "alert.snooze") * (PRESSES // 2 + 1)
    ][:PRESSES]
    messages = [
        message(service_url, "alerts", **chat(number))
        for _ in range(MESSAGES_PER_CHAT)
        for number in range(CHATS)
    ]

    statuses = await asyncio.gather(*(post(body) for body in [*messages, *presses]))

    assert statuses == [200] * len(statuses)
    replied = {f"a:busy-chat-{number}": MESSAGES_PER_CHAT for number in range(CHATS)}

    def replies() -> dict[str, int]:
        found: dict[str, int] = {}
        for call in fake.of_kind("send", "reply"):
            if call.conversation_id in replied:
                found[call.conversation_id] = found.get(call.conversation_id, 0) + 1
        return found

    await eventually(lambda: replies() == replied, seconds=60)
    stored = {ref.conversation_id for ref in await client.app[STORE].list_conversations()}
    assert set(replied) <= stored
