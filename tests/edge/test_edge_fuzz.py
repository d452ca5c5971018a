"""Hostile requests against the whole bot as `alertbot serve` runs it (create_app, bot.edge's
server options, on loopback in a thread of its own), authentication on and off: never a
5xx, never a stack trace, nothing stored from a request that was refused.

Hand-picked cases are the probe's (tests/edge/hostile.py); hypothesis adds random bodies
and random activity shapes. `benchmarks/edge_fuzz.py` is the longer run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from bot.app import create_app
from bot.channels.teams import keys as teams_keys
from bot.edge import EdgeLimits
from bot.edge.signing_keys import SigningKeyCache
from bot.settings import Settings
from bot.store import Store
from bot.web import STORE
from tests.edge.hostile import activity, hand_picked, request, send
from tests.support.alerting import CATALOG, DEMO_NOW, sqlite_url
from tests.support.botframework_auth import METADATA_URL, SigningKey
from tests.support.served import call, served

APP_ID = "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b"
TENANT = "6417b88f-b93c-4137-8a73-e7e3daadd60a"
SERVICE_URL = "https://smba.trafficmanager.net/emea/"
LIMITS = EdgeLimits(header_timeout=2, body_timeout=2)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@dataclass
class Bot:
    port: int
    loop: Any
    store: Store
    key: SigningKey | None

    def token(self) -> str:
        assert self.key is not None
        return self.key.header(app_id=APP_ID, service_url=SERVICE_URL)

    def conversations(self) -> list[str]:
        return [ref.conversation_id for ref in call(self.loop, self.store.list_conversations())]


def bot_settings(directory: Path, *, authenticated: bool) -> Settings:
    identity: dict[str, Any] = (
        {
            "microsoft_app_id": APP_ID,
            "microsoft_app_password": SecretStr("not-used"),
            "microsoft_app_tenant_id": TENANT,
        }
        if authenticated
        else {}
    )
    return Settings(
        _env_file=None,
        database_url=sqlite_url(directory / "alertbot.db"),
        rules_path=CATALOG,
        demo_now=DEMO_NOW,
        rules_reload_seconds=0,
        scheduler_enabled=False,
        notifier="log",
        **identity,
    )


@pytest.fixture(scope="module", params=["auth on", "auth off"])
def bot(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    authenticated = request.param == "auth on"
    for name in list(os.environ):
        if name.startswith("ALERTBOT_"):
            os.environ.pop(name)
    key = SigningKey() if authenticated else None
    with pytest.MonkeyPatch.context() as patch:
        if key is not None:
            cache = SigningKeyCache(teams_keys.TRUSTED_METADATA)
            cache.preload(METADATA_URL, [key.jwk()])
            patch.setattr(teams_keys, "_cache", cache)
        directory = tmp_path_factory.mktemp("fuzz")
        app = create_app(bot_settings(directory, authenticated=authenticated))
        with served(app, LIMITS) as (port, loop):
            yield Bot(port, loop, app[STORE], key)


def test_hand_picked_hostile_requests(bot: Bot) -> None:
    authorization = bot.token if bot.key else None
    answers = {name: send(bot.port, data) for name, data in hand_picked(authorization)}
    failed = {name: a.status for name, a in answers.items() if a.server_error}
    assert failed == {}
    # aiohttp's parser drops a connection whose framing it cannot read, without an answer.
    assert [name for name, a in answers.items() if a.status is None] in ([], ["negative length"])
    assert [name for name, a in answers.items() if a.leaks] == []
    expected = {
        "deep array": 400,
        "deep object": 400,
        "deep inside an activity": 400,
        "unclosed deep array": 400,
        "lying gzip": 415,
        "real gzip": 415,
        "gzip bomb": 415,
        "huge body": 413,
        "huge chunked body": 413,
        "huge declared length": 413,
        "unknown activity type": 200,
        "unknown invoke": 200,
        "GET": 405,
    }
    assert {name: answers[name].status for name in expected} == expected
    forged = {n: a.status for n, a in answers.items() if n.startswith("token: ")}
    if bot.key is not None:
        assert set(forged.values()) == {401}
        assert answers["deep array, no token"].status == 401
    assert {n: round(a.seconds, 1) for n, a in answers.items() if a.seconds > 5} == {}


_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(body=st.binary(max_size=512) | _json.map(lambda v: json.dumps(v).encode()))
def test_random_bodies(bot: Bot, body: bytes) -> None:
    headers = {"Authorization": bot.token()} if bot.key else {}
    answer = send(bot.port, request(body, headers=headers))
    assert answer.status in {200, 400, 401, 413, 415}
    assert not answer.leaks


_FIELDS = [
    "type",
    "name",
    "value",
    "from",
    "conversation",
    "membersAdded",
    "membersRemoved",
    "channelData",
    "action",
    "text",
    "entities",
    "attachments",
    "replyToId",
    "channelId",
]
_TYPES = [
    "conversationUpdate",
    "installationUpdate",
    "invoke",
    "event",
    "typing",
    "messageReaction",
    "endOfConversation",
    "deleteUserData",
    "x",
]


@FUZZ
@given(
    kind=st.sampled_from(_TYPES),
    name=st.sampled_from(["adaptiveCard/action", "task/fetch", "signin/verifyState", ""]),
    changes=st.dictionaries(st.sampled_from(_FIELDS), _json, max_size=4),
)
def test_random_activities_signed_as_teams_would(
    bot: Bot, kind: str, name: str, changes: dict[str, Any]
) -> None:
    """Well-signed (with authentication on) activities of every shape: 2xx or 400."""
    body = activity(SERVICE_URL, type=kind, name=name) | changes
    if body.get("type") == "message":
        body["type"] = "event"  # a message is answered through the Bot Connector: not here
    headers = {"Authorization": bot.token()} if bot.key else {}
    answer = send(bot.port, request(json.dumps(body).encode(), headers=headers))
    assert answer.status in {200, 400}, (answer.status, answer.body[:300])
    assert not answer.leaks


def test_refused_requests_store_nothing(bot: Bot) -> None:
    if bot.key is None:
        pytest.skip("without authentication, any well-formed activity is a caller's")
    before = bot.conversations()
    for _, data in hand_picked(None):
        send(bot.port, data)
    assert bot.conversations() == before
