"""POST /api/messages: one error path, whatever goes wrong, and never a stack trace.

Authentication runs for real: tokens are signed with a local RSA key whose JWK botbuilder's
metadata cache is made to hold (tests/support/botframework_auth.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web

from bot.channels.teams import BotIdentity, TeamsChannel
from bot.channels.teams.cards import CardRenderer
from bot.channels.teams.http import MAX_BODY, MAX_ID_BYTES
from bot.store.sql import SqlStore
from tests.channels.teams.conftest import (
    APP_ID,
    PERSONAL,
    TENANT,
    Client,
    MakeClient,
    ScriptedRouter,
    activity,
    endpoint_app,
)
from tests.support.botframework_auth import SigningKey, trust

SERVICE_URL = "https://smba.trafficmanager.net/emea/"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey()


@pytest.fixture
async def secured(
    aiohttp_client: MakeClient,
    monkeypatch: pytest.MonkeyPatch,
    key: SigningKey,
    store: SqlStore,
    renderer: CardRenderer,
) -> Client:
    """The endpoint of a SingleTenant bot that trusts `key` (and no other)."""
    trust(monkeypatch, key)
    identity = BotIdentity(
        app_id=APP_ID, app_password="not-used", app_type="SingleTenant", tenant_id=TENANT
    )
    app = endpoint_app(
        TeamsChannel(identity), router=ScriptedRouter(), store=store, renderer=renderer
    )
    return await aiohttp_client(app)


def install() -> dict[str, Any]:
    """An activity the bot handles without calling back (its reference is saved)."""
    return activity("installationUpdate", SERVICE_URL, action="add")


def long_ids(*, conversation: str = PERSONAL, **sender: str) -> dict[str, Any]:
    body = activity("installationUpdate", SERVICE_URL, action="add", conversation=conversation)
    body["from"] |= sender
    return body


async def post(client: Client, body: Any, **headers: str) -> tuple[int, Any]:
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    response = await client.post("/api/messages", data=data, headers=JSON | headers)
    text = await response.text()
    return response.status, json.loads(text) if text else None


async def test_a_valid_token_is_let_in(secured: Client, key: SigningKey, store: SqlStore) -> None:
    auth = key.header(app_id=APP_ID, service_url=SERVICE_URL)
    status, body = await post(secured, install(), Authorization=auth)
    assert (status, body) == (200, None)
    assert await store.get_conversation(PERSONAL) is not None


@pytest.mark.parametrize(
    ("case", "header"),
    [
        ("missing", lambda key: None),
        ("not a bearer token", lambda key: "Basic dXNlcjpwYXNz"),
        ("garbage", lambda key: "Bearer not.a.jwt"),
        (
            "expired",
            lambda key: key.header(
                app_id=APP_ID, service_url=SERVICE_URL, issued_ago=7200, lifetime=600
            ),
        ),
        ("wrong audience", lambda key: key.header(app_id="another-bot", service_url=SERVICE_URL)),
        (
            "wrong issuer",
            lambda key: key.header(
                app_id=APP_ID, service_url=SERVICE_URL, issuer="https://evil.example"
            ),
        ),
        (
            "another service url",
            lambda key: key.header(app_id=APP_ID, service_url="https://evil.example/"),
        ),
        ("unknown key id", lambda key: key.header(app_id=APP_ID, service_url=SERVICE_URL, kid="x")),
        (
            "signed by another key",
            lambda key: SigningKey(kid=key.kid).header(app_id=APP_ID, service_url=SERVICE_URL),
        ),
    ],
)
async def test_every_authentication_failure_is_401(
    secured: Client, key: SigningKey, store: SqlStore, case: str, header: Any
) -> None:
    value = header(key)
    status, body = await post(secured, install(), **({"Authorization": value} if value else {}))
    assert (status, body) == (401, {"error": "unauthorized"}), case
    assert await store.list_conversations() == []


async def test_a_key_not_endorsed_for_teams_is_refused(
    aiohttp_client: MakeClient,
    monkeypatch: pytest.MonkeyPatch,
    store: SqlStore,
    renderer: CardRenderer,
) -> None:
    webchat_only = SigningKey(endorsements=("webchat",))
    trust(monkeypatch, webchat_only)
    identity = BotIdentity(app_id=APP_ID, app_password="x", app_type="MultiTenant")
    client = await aiohttp_client(
        endpoint_app(
            TeamsChannel(identity), router=ScriptedRouter(), store=store, renderer=renderer
        )
    )
    auth = webchat_only.header(app_id=APP_ID, service_url=SERVICE_URL)
    assert (await post(client, install(), Authorization=auth))[0] == 401


@pytest.mark.parametrize(
    ("body", "headers", "status", "error"),
    [
        (install(), {"Content-Type": "text/plain"}, 415, "expected application/json"),
        (install(), {"Content-Type": "application/x-www-form-urlencoded"}, 415, None),
        (b"{not json", {}, 400, "malformed JSON"),
        (b"\xff\xfe", {}, 400, "malformed JSON"),
        ([1, 2, 3], {}, 400, "not an activity"),
        ({"hello": "world"}, {}, 400, "not an activity"),
        ({"type": "message"}, {}, 400, "not an activity"),
        ({**install(), "timestamp": "yesterday"}, {}, 400, "not an activity"),
        (b"x" * (MAX_BODY + 1), {}, 413, "request body too large"),
        # Ids no Teams sends, refused before they reach the store (PostgreSQL indexes them).
        (long_ids(conversation="a:" + "x" * MAX_ID_BYTES), {}, 400, "id too long"),
        (long_ids(conversation="a:" + "é" * 600), {}, 400, "id too long"),
        (long_ids(id="29:" + "x" * MAX_ID_BYTES), {}, 400, "id too long"),
        (long_ids(aadObjectId="x" * 5000), {}, 400, "id too long"),
    ],
)
async def test_requests_that_are_not_activities(
    secured: Client, body: Any, headers: dict[str, str], status: int, error: str | None
) -> None:
    got, answer = await post(secured, body, **headers)
    assert got == status
    assert answer["error"] == (error or answer["error"])


async def test_an_oversized_body_without_a_length_is_413(secured: Client) -> None:
    async def chunks() -> Any:
        for _ in range(MAX_BODY // 1024 + 2):
            yield b" " * 1024

    response = await secured.post("/api/messages", data=chunks(), headers=JSON)
    assert response.status == 413


async def test_a_failing_turn_is_500_with_a_short_body(
    aiohttp_client: MakeClient, store: SqlStore, renderer: CardRenderer, caplog: Any
) -> None:
    class Broken(ScriptedRouter):
        async def handle_text(self, caller: Any, text: str) -> Any:
            raise RuntimeError("the router is broken: secret detail")

    app = endpoint_app(TeamsChannel(BotIdentity()), router=Broken(), store=store, renderer=renderer)
    client = await aiohttp_client(app)
    message = activity("message", SERVICE_URL, text="alerts")
    status, body = await post(client, message)
    assert (status, body) == (500, {"error": "internal error"})
    assert "secret detail" in caplog.text  # logged, not answered


async def test_no_endpoint_before_start_up(aiohttp_client: MakeClient) -> None:
    from bot.channels.teams import add_routes

    app = web.Application()
    add_routes(app)
    client = await aiohttp_client(app)
    assert (await post(client, install()))[0] == 503


async def test_only_post(secured: Client) -> None:
    assert (await secured.get("/api/messages")).status == 405
