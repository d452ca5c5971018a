"""Connector clients over aiohttp (bot.channels.teams.transport): the same requests as
msrest's own serializer and requests-based sender would make, and the same errors."""

from __future__ import annotations

import copy
import enum
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from botbuilder.schema import (
    Activity,
    Attachment,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
)
from botframework.connector import models
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from msrest import Serializer
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.channels.teams import transport
from bot.channels.teams.payloads import card_attachment
from bot.channels.teams.transport import Transport, use_aiohttp
from tests.channels.teams.fake_connector import FakeConnector

MODELS = {k: v for k, v in models.__dict__.items() if isinstance(v, type)}


class Colour(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


def _activity(content: Any) -> Activity:
    return Activity(
        type="message",
        text="hello",
        timestamp=datetime(2026, 3, 2, 12, 30, 5, 123000, tzinfo=UTC),
        attachments=[
            Attachment(content_type="application/vnd.microsoft.card.adaptive", content=content)
        ],
        conversation=ConversationAccount(id="19:abc@thread.tacv2", is_group=True),
        from_property=ChannelAccount(id="28:bot", name="Alert bot"),
        recipient=ChannelAccount(id="29:user"),
        channel_data={"tenant": {"id": "t"}, "notification": {"alert": True}},
        service_url="https://smba.trafficmanager.net/emea/",
    )


CARD = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [
        {"type": "TextBlock", "text": "ünïcode ✓", "wrap": True, "size": None},
        {"type": "FactSet", "facts": [{"title": "n", "value": 3}, {"title": "x", "value": 1.5}]},
        {"type": "ActionSet", "actions": [{"data": {"ok": True, "list": [[], {}]}}]},
    ],
}


@pytest.mark.parametrize(
    "content",
    [
        CARD,
        [CARD, {"a": []}],
        {"when": datetime(2026, 1, 2, tzinfo=UTC), "nested": {"n": 1}},  # not plain: msrest
        {"colour": Colour.RED, "level": Level.HIGH},  # subclasses: msrest turns them into str
        {1: "int key"},
        "just text",
        None,
    ],
)
def test_the_body_is_what_msrest_would_send(content: Any) -> None:
    ours = _ours()
    activity = _activity(content)
    expected = Serializer(MODELS).body(activity, "Activity")
    assert json.dumps(ours.body(activity, "Activity"), sort_keys=True) == json.dumps(
        expected, sort_keys=True
    )


def test_plain_json_is_exact_types_only() -> None:
    assert transport._plain_json(CARD)
    assert not transport._plain_json({"a": [{"b": (1, 2)}]})
    assert not transport._plain_json({"a": Colour.RED})
    assert not transport._plain_json([{"a": Level.HIGH}])


def test_the_proxy_comes_from_the_environment_once_per_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    transport._proxy.cache_clear()
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,.internal.example")
    try:
        assert transport.proxy_for("https://smba.trafficmanager.net/emea/v3/x") == (
            "http://proxy.example:3128"
        )
        assert transport.proxy_for("https://bots.internal.example/v3") is None
        assert transport.proxy_for("http://localhost:3978/v3") is None
    finally:
        transport._proxy.cache_clear()


async def test_requests_errors_and_shutdown_against_the_connector() -> None:
    fake = FakeConnector()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    shared = Transport()
    credentials = MicrosoftAppCredentials("app-id", "secret")
    credentials.get_access_token = lambda force_refresh=False: "token-for-tests"  # type: ignore[method-assign]
    client = use_aiohttp(ConnectorClient(credentials, base_url=str(server.make_url("/"))), shared)
    try:
        created = await client.conversations.create_conversation(
            ConversationParameters(
                is_group=True,
                channel_data={"channel": {"id": "19:general@thread.tacv2"}},
                activity=_activity(CARD),
            )
        )
        assert created.id.startswith("19:general@thread.tacv2;messageid=")
        call = fake.calls[-1]
        assert call.authorization == "Bearer token-for-tests"
        assert call.card == CARD

        fake.fail(429, "Throttled", retry_after="7", kind="send")
        with pytest.raises(HttpOperationError) as raised:
            await client.conversations.send_to_conversation("a:c1", _activity(CARD))
        assert raised.value.response.status_code == 429
        assert raised.value.response.headers["Retry-After"] == "7"
        assert raised.value.error.error.code == "Throttled"
    finally:
        await server.close()
    with pytest.raises(ClientRequestError):  # nothing listens any more
        await client.conversations.send_to_conversation("a:c1", _activity(CARD), timeout=2)
    await shared.close()
    assert shared._session is None


def test_a_copied_activity_shares_its_card_and_sends_the_same() -> None:
    activity = _activity(None)
    activity.attachments = [card_attachment(CARD)]
    copied = copy.deepcopy(activity)
    assert copied.attachments[0] is not activity.attachments[0]
    assert copied.attachments[0].content is CARD
    for serializer in (Serializer(MODELS), _ours()):
        assert serializer.body(copied, "Activity") == Serializer(MODELS).body(
            _activity(CARD), "Activity"
        )


def _ours() -> Serializer:
    client = ConnectorClient(MicrosoftAppCredentials("", ""), base_url="http://x")
    serializer: Serializer = use_aiohttp(client, Transport())._serialize
    return serializer
