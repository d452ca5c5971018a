"""The whole bot as `alertbot serve` builds it (create_app, the real router and the Teams
notifier, authentication off as with the Agents Playground), driven with Teams activities
against a fake Bot Connector: a channel subscribes, a rule fires, its card starts a thread,
Acknowledge updates it once for everyone."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import create_app
from bot.errors import ConfigError
from bot.models import AlertEventKind, OutboxItem, OutboxStatus
from bot.settings import Settings, bot_identity_problems
from bot.store import Store
from bot.web import STORE
from tests.cards.conftest import nodes
from tests.channels.teams.conftest import (
    CHANNEL,
    USER_AAD,
    MakeClient,
    card_press,
    channel,
    message,
)
from tests.channels.teams.fake_connector import Call, FakeConnector
from tests.support.alerting import CATALOG, DEMO_NOW, sqlite_url


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("ALERTBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no developer's .env


def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        database_url=sqlite_url(tmp_path / "alertbot.db"),
        rules_path=CATALOG,
        demo_now=DEMO_NOW,
        rules_reload_seconds=0,
        scheduler_enabled=False,
        admin_object_ids=(USER_AAD,),
    )


async def eventually(check: Callable[[], Any], *, seconds: float = 15.0) -> Any:
    """`check()` once it is truthy (the bot answers and delivers in the background)."""
    async with asyncio.timeout(seconds):
        while True:
            found = check()
            if found:
                return found
            await asyncio.sleep(0.05)


async def delivered(store: Store, kind: AlertEventKind) -> OutboxItem:
    """The first delivery of `kind` to the channel, once it has been sent."""
    async with asyncio.timeout(15):
        while True:
            for item in await store.list_outbox(conversation_id=CHANNEL):
                if item.event.kind is kind and item.status is OutboxStatus.SENT:
                    return item
            await asyncio.sleep(0.05)


def button(card: dict[str, Any], verb: str) -> dict[str, Any]:
    return next(n for n in nodes(card) if n.get("type") == "Action.Execute" and n["verb"] == verb)


async def test_subscribe_fire_and_acknowledge_in_a_channel(
    aiohttp_client: MakeClient, tmp_path: Path, fake: FakeConnector, service_url: str
) -> None:
    assert settings(tmp_path).notifier == "teams"  # the default when serving
    client = await aiohttp_client(create_app(settings(tmp_path)))
    store: Store = client.app[STORE]

    async def say(text: str) -> Call:
        before = len(fake.calls)
        response = await client.post("/api/messages", json=message(service_url, text, **channel()))
        assert response.status == 200
        return await eventually(lambda: fake.calls[before:] and fake.calls[before])

    subscribed = await say("subscribe all")
    assert "now hears about" in (subscribed.text or "")
    await say("run provisioning-failure-spike")

    # The card starts a thread of its own in the channel; the outbox keeps its message id.
    fired = await delivered(store, AlertEventKind.FIRED)
    [post] = fake.of_kind("create")
    assert post.body["channelData"]["channel"]["id"] == CHANNEL
    card_id = fired.message_id or ""
    assert fake.messages[card_id].conversation_id == f"{CHANNEL};messageid={card_id}"

    ack = button(post.card or {}, "alert.ack")
    press = card_press(service_url, "alert.ack", ack["data"], reply_to=card_id, **channel(card_id))
    response = await client.post("/api/messages", json=press)
    answer = await response.json()
    assert response.status == 200
    assert (answer["statusCode"], answer["type"]) == (
        200,
        "application/vnd.microsoft.card.adaptive",
    )
    [update] = fake.of_kind("update")
    assert update.activity_id == card_id
    assert update.card == answer["value"]  # the presser's answer and everyone's card agree
    assert button(update.card or {}, "alert.snooze")  # still open, now acknowledged
    assert "alert.ack" not in {n.get("verb") for n in nodes(update.card)}

    # The pipeline queued an UPDATED delivery here too: it finds the card already current.
    await delivered(store, AlertEventKind.UPDATED)
    assert len(fake.of_kind("update")) == 1


APP = "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b"
TENANT_ID = "6417b88f-b93c-4137-8a73-e7e3daadd60a"


@pytest.mark.parametrize(
    ("identity", "problems"),
    [
        ({}, []),
        ({"microsoft_app_password": "s"}, ["PASSWORD is set but ALERTBOT_MICROSOFT_APP_ID"]),
        ({"microsoft_app_id": APP}, ["PASSWORD is required", "TENANT_ID is required"]),
        (
            {"microsoft_app_id": APP, "microsoft_app_password": "s"},
            ["TENANT_ID is required when ALERTBOT_MICROSOFT_APP_TYPE=SingleTenant"],
        ),
        (
            {
                "microsoft_app_id": APP,
                "microsoft_app_password": "s",
                "microsoft_app_tenant_id": TENANT_ID,
            },
            [],
        ),
        ({"microsoft_app_id": APP, "microsoft_app_type": "MultiTenant"}, ["PASSWORD is required"]),
        (
            {"microsoft_app_id": APP, "microsoft_app_type": "UserAssignedMSI"},
            ["TENANT_ID is required when ALERTBOT_MICROSOFT_APP_TYPE=UserAssignedMSI"],
        ),
        (
            {
                "microsoft_app_id": APP,
                "microsoft_app_type": "UserAssignedMSI",
                "microsoft_app_tenant_id": TENANT_ID,
            },
            [],
        ),
    ],
)
def test_serving_needs_a_complete_identity(
    tmp_path: Path, identity: dict[str, Any], problems: list[str]
) -> None:
    configured = settings(tmp_path).model_copy(update=identity)
    if identity.get("microsoft_app_password"):
        configured = configured.model_copy(
            update={"microsoft_app_password": SecretStr(identity["microsoft_app_password"])}
        )
    found = bot_identity_problems(configured)
    assert len(found) == len(problems)
    assert all(expected in line for expected, line in zip(problems, found, strict=True))
    if problems:
        with pytest.raises(ConfigError):
            create_app(configured)
