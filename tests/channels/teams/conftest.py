"""Teams channel fixtures: a real store, a fake Bot Connector on loopback, Teams-shaped
activities, a router that answers from a script, and the bot's endpoint in a small app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.teams import TEAMS_ENDPOINT, BotIdentity, TeamsChannel, add_routes
from bot.channels.teams.cards import CardRenderer
from bot.channels.teams.pacing import Pacer
from bot.commands.access import AccessPolicy, EdgeGate
from bot.commands.base import Caller, Reply
from bot.store.sql import SqlStore, open_store
from tests.channels.teams.fake_connector import FakeConnector
from tests.support.alerting import sqlite_url

TENANT = "6417b88f-b93c-4137-8a73-e7e3daadd60a"
OTHER_TENANT = "1937262c-4846-4096-bc30-aee3e77d5363"
APP_ID = "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b"
BOT_ID = f"28:{APP_ID}"
USER_AAD = "0a1b2c3d-0000-4000-8000-00000000a1e5"
TEAM = "19:team-general@thread.tacv2"
CHANNEL = "19:ops@thread.tacv2"
PERSONAL = "a:1personal-chat"
GROUP_CHAT = "19:group@thread.v2"
NOW = datetime(2026, 5, 4, 10, 50, tzinfo=UTC)

Client = TestClient[Any, Any]
MakeClient = Callable[[web.Application], Awaitable[Client]]


class FakeClock:
    """A monotonic clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class ScriptedRouter:
    """A Router that records what it is asked and answers from `replies` (then `default`)."""

    replies: list[Reply] = field(default_factory=list)
    default: Reply = field(default_factory=lambda: Reply(text="ok"))
    texts: list[tuple[Caller, str]] = field(default_factory=list)
    actions: list[tuple[Caller, str, Mapping[str, Any]]] = field(default_factory=list)

    async def handle_text(self, caller: Caller, text: str) -> Reply:
        self.texts.append((caller, text))
        return self.replies.pop(0) if self.replies else self.default

    async def handle_card_action(self, caller: Caller, verb: str, data: Mapping[str, Any]) -> Reply:
        self.actions.append((caller, verb, dict(data)))
        return self.replies.pop(0) if self.replies else self.default


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    opened = await open_store(sqlite_url(tmp_path / "alertbot.db"))
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def fake() -> FakeConnector:
    return FakeConnector()


@pytest.fixture
async def service_url(fake: FakeConnector) -> AsyncIterator[str]:
    """The fake Bot Connector's URL, as Teams gives it in activities (trailing slash)."""
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/"))
    finally:
        await server.close()


@pytest.fixture(scope="session")
def renderer() -> CardRenderer:
    return CardRenderer()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def pacer(clock: FakeClock) -> Pacer:
    return Pacer(clock=clock, sleep=clock.sleep)


@pytest.fixture
def router() -> ScriptedRouter:
    return ScriptedRouter()


def endpoint_app(
    teams: TeamsChannel,
    *,
    router: ScriptedRouter,
    store: SqlStore,
    renderer: CardRenderer,
    allowed_tenants: frozenset[str] | None = frozenset({TENANT}),
) -> web.Application:
    """The bot's endpoint alone: the route and what create_app would set for it."""
    app = web.Application()
    add_routes(app)
    app[TEAMS_ENDPOINT] = teams.endpoint(
        router=router,
        store=store,
        renderer=renderer,
        gate=EdgeGate(AccessPolicy(allowed_tenants=allowed_tenants)),
        clock=lambda: NOW,
    )
    return app


@pytest.fixture
async def bot(
    aiohttp_client: MakeClient,
    router: ScriptedRouter,
    store: SqlStore,
    renderer: CardRenderer,
    pacer: Pacer,
) -> Client:
    """The endpoint with authentication off (as with the Agents Playground)."""
    teams = TeamsChannel(BotIdentity(), pacer=pacer)
    return await aiohttp_client(endpoint_app(teams, router=router, store=store, renderer=renderer))


# --- Teams-shaped activities ---------------------------------------------------------------


def activity(
    kind: str,
    service_url: str,
    *,
    conversation: str = PERSONAL,
    conversation_type: str = "personal",
    tenant: str = TENANT,
    team: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An activity as Teams sends it to the bot."""
    channel_data: dict[str, Any] = {"tenant": {"id": tenant}}
    if team is not None:
        channel_data |= {"team": {"id": team}, "channel": {"id": conversation.split(";")[0]}}
    body: dict[str, Any] = {
        "type": kind,
        "id": "f:1234",
        "timestamp": "2026-05-04T10:50:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": "29:user-1", "name": "Alex Wilber", "aadObjectId": USER_AAD},
        "recipient": {"id": BOT_ID, "name": "Entra Alerts"},
        "conversation": {
            "id": conversation,
            "conversationType": conversation_type,
            "tenantId": tenant,
            "isGroup": conversation_type != "personal",
        },
        "channelData": channel_data,
        "locale": "en-US",
    }
    return body | extra


def message(service_url: str, text: str, **where: Any) -> dict[str, Any]:
    mentions = []
    if where.get("conversation_type", "personal") != "personal":
        text = f"<at>Entra Alerts</at> {text}"
        mentions = [
            {
                "type": "mention",
                "mentioned": {"id": BOT_ID, "name": "Entra Alerts"},
                "text": "<at>Entra Alerts</at>",
            }
        ]
    return activity(
        "message", service_url, text=text, textFormat="plain", entities=mentions, **where
    )


def channel(thread_of: str | None = None) -> dict[str, Any]:
    """Where-arguments for the ops channel of the team (or a thread in it)."""
    conversation = f"{CHANNEL};messageid={thread_of}" if thread_of else CHANNEL
    return {"conversation": conversation, "conversation_type": "channel", "team": TEAM}


def card_press(
    service_url: str, verb: str, data: dict[str, Any], *, reply_to: str, **where: Any
) -> dict[str, Any]:
    value = {"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"}
    return activity(
        "invoke", service_url, name="adaptiveCard/action", value=value, replyToId=reply_to, **where
    )
