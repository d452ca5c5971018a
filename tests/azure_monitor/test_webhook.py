"""POST /api/azure-monitor on the real app: what an action group's webhook sends, with both
ways to authenticate, Azure's retries, and bodies that are not alerts.

Follows "Action groups" (webhook retries on 408/429/503/504; secure webhook with an Entra
token for the app role ActionGroupsSecureWebhook, issued to the action groups' service
principal 461e8683-5575-4561-ac7f-899cc907d62a) and "Common alert schema". The tenant's
signing keys are served by a local OpenID metadata document and JWKS endpoint shaped like
Entra's (`/{tenant}/v2.0/.well-known/openid-configuration`, `/{tenant}/discovery/v2.0/keys`),
counting how often the keys are asked for.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bot.app import create_app
from bot.azure_monitor.entra_token import ACTION_GROUPS_APP_ID, ROLE
from bot.models import AlertEventKind, AlertStatus
from bot.notify import RecordingNotifier
from bot.settings import Settings
from bot.web import STORE
from tests.support.alerting import CATALOG, DEMO_NOW, sqlite_url, subscribe

Client = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
DATA = Path(__file__).parent / "data"
TENANT = "6417b88f-b93c-4137-8a73-e7e3daadd60a"
AUDIENCE = "0f3a9b6e-6d46-4c39-9d55-5b1c2a1c7e11"
SECRET = "s3cr3t-" + "x" * 40


def body(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / name).read_text())
    return loaded


class EntraKeys:
    """A tenant's signing keys, published as Entra publishes them; signs tokens."""

    def __init__(self) -> None:
        self.kid = uuid.uuid4().hex
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.fetches = 0

    async def keys(self, request: web.Request) -> web.Response:
        self.fetches += 1
        jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return web.json_response({"keys": [jwk | {"kid": self.kid, "use": "sig", "kty": "RSA"}]})

    def token(self, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "aud": AUDIENCE,
            "iss": f"https://sts.windows.net/{TENANT}/",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "appid": ACTION_GROUPS_APP_ID,
            "roles": [ROLE],
            "tid": TENANT,
        } | overrides
        kid = claims.pop("kid", self.kid)
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
async def entra() -> AsyncIterator[tuple[EntraKeys, str]]:
    keys = EntraKeys()
    app = web.Application()
    server = TestServer(app, host="127.0.0.1")
    keys_path = f"/{TENANT}/discovery/v2.0/keys"

    async def metadata(request: web.Request) -> web.Response:
        return web.json_response({"jwks_uri": str(server.make_url(keys_path))})

    app.router.add_get(f"/{TENANT}/v2.0/.well-known/openid-configuration", metadata)
    app.router.add_get(keys_path, keys.keys)
    await server.start_server()
    try:
        yield keys, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {
        "database_url": sqlite_url(tmp_path / "alertbot.db"),
        "rules_path": CATALOG,
        "demo_now": DEMO_NOW,
        "rules_reload_seconds": 0,
        "scheduler_enabled": False,
        "azure_monitor_webhook_secret": SECRET,
    }
    return Settings(_env_file=None, **(fields | overrides))


@pytest.fixture
async def bot(
    aiohttp_client: Client, tmp_path: Path
) -> tuple[TestClient[Any, Any], RecordingNotifier]:
    notifier = RecordingNotifier()
    client = await aiohttp_client(create_app(settings(tmp_path), notifier=notifier))
    await subscribe(client.app[STORE], "19:identity-ops@thread.tacv2", "Provisioning")
    return client, notifier


async def _delivered(notifier: RecordingNotifier, count: int) -> list[Any]:
    """The deliveries once there are `count` (the dispatcher runs in the background)."""
    for _ in range(200):
        if len(notifier.delivered) >= count:
            break
        await asyncio.sleep(0.05)
    return notifier.delivered


async def test_a_fired_alert_becomes_a_card_and_a_retry_posts_nothing(
    bot: tuple[TestClient[Any, Any], RecordingNotifier],
) -> None:
    client, notifier = bot
    url = f"/api/azure-monitor?secret={SECRET}"
    first = await client.post(url, json=body("log-alert-fired.json"))
    retry = await client.post(url, json=body("log-alert-fired.json"))

    assert first.status == 200
    accepted = await first.json()
    assert accepted["status"] == "accepted"
    assert (retry.status, (await retry.json())["status"]) == (200, "duplicate")
    (item,) = await _delivered(notifier, 1)
    assert item.event.kind is AlertEventKind.FIRED
    assert item.event.rule_id == "azure-monitor-provisioning-failure-spike"
    assert item.conversation_id == "19:identity-ops@thread.tacv2"
    await asyncio.sleep(0.3)
    assert len(notifier.delivered) == 1

    resolved = await client.post(url, json=body("log-alert-resolved.json"))
    assert resolved.status == 200
    second = (await _delivered(notifier, 2))[1]
    assert second.event.kind is AlertEventKind.RESOLVED
    alert = await client.app[STORE].get_alert(accepted["alertId"])
    assert alert is not None
    assert alert.status is AlertStatus.RESOLVED


@pytest.mark.parametrize(
    "url",
    [
        "/api/azure-monitor",
        "/api/azure-monitor?secret=",
        "/api/azure-monitor?secret=wrong",
        f"/api/azure-monitor?secret={SECRET[:-1]}",
        f"/api/azure-monitor?Secret={SECRET}",
    ],
)
async def test_without_the_secret_it_is_401_and_nothing_happens(
    bot: tuple[TestClient[Any, Any], RecordingNotifier], url: str
) -> None:
    client, _ = bot
    response = await client.post(url, json=body("log-alert-fired.json"))
    assert response.status == 401
    assert await client.app[STORE].list_alerts(open_only=False) == []


@pytest.mark.parametrize(
    ("data", "status", "reason"),
    [
        (b"{not json", 400, "malformed JSON"),
        (b"[" * 5000 + b"]" * 5000, 400, "nested too deeply"),
        (b"{}", 400, "schemaId"),
        (json.dumps({"schemaId": "azureMonitorCommonAlertSchema"}).encode(), 400, "data"),
        (b"\xff\xfe", 400, "malformed JSON"),
        (b'{"pad": "' + b"x" * (400 * 1024) + b'"}', 413, "too large"),
    ],
)
async def test_bodies_that_are_no_alert_get_4xx_with_the_reason(
    bot: tuple[TestClient[Any, Any], RecordingNotifier], data: bytes, status: int, reason: str
) -> None:
    client, _ = bot
    response = await client.post(
        f"/api/azure-monitor?secret={SECRET}",
        data=data,
        headers={"Content-Type": "application/json"},
    )
    assert response.status == status
    assert reason in (await response.json())["error"]


async def test_a_transient_store_failure_is_503_so_azure_retries(
    bot: tuple[TestClient[Any, Any], RecordingNotifier], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.store import StoreUnavailableError
    from bot.store.sql.external import ExternalSql

    client, notifier = bot
    original = ExternalSql.record_notification
    database = {"down": True}

    async def flaky(self: ExternalSql, *args: Any, **kwargs: Any) -> bool:
        if database["down"]:
            raise StoreUnavailableError("database is locked")
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(ExternalSql, "record_notification", flaky)
    failed = await client.post(
        f"/api/azure-monitor?secret={SECRET}", json=body("log-alert-fired.json")
    )
    assert (failed.status, failed.headers.get("Retry-After")) == (503, "30")
    database["down"] = False
    retried = await client.post(
        f"/api/azure-monitor?secret={SECRET}", json=body("log-alert-fired.json")
    )
    assert retried.status == 200
    assert len(await _delivered(notifier, 1)) == 1


async def test_off_when_not_configured(aiohttp_client: Client, tmp_path: Path) -> None:
    client = await aiohttp_client(
        create_app(
            settings(tmp_path, azure_monitor_webhook_secret=None), notifier=RecordingNotifier()
        )
    )
    response = await client.post("/api/azure-monitor", json=body("log-alert-fired.json"))
    assert response.status == 404


@pytest.fixture
async def secure(
    aiohttp_client: Client, tmp_path: Path, entra: tuple[EntraKeys, str]
) -> tuple[TestClient[Any, Any], EntraKeys]:
    keys, authority = entra
    app = create_app(
        settings(
            tmp_path,
            azure_monitor_webhook_secret=None,
            azure_monitor_audience=AUDIENCE,
            azure_monitor_tenant_id=TENANT,
            azure_monitor_authority=authority,
        ),
        notifier=RecordingNotifier(),
    )
    return await aiohttp_client(app), keys


async def test_the_secure_webhook_token_is_accepted(
    secure: tuple[TestClient[Any, Any], EntraKeys],
) -> None:
    client, keys = secure
    for issuer in (f"https://sts.windows.net/{TENANT}/", None):
        token = keys.token() if issuer else keys.token(iss=f"{_authority(client)}/{TENANT}/v2.0")
        response = await client.post(
            "/api/azure-monitor",
            json=body("log-alert-fired.json"),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status == 200, await response.text()


def _authority(client: TestClient[Any, Any]) -> str:
    from bot.web import SETTINGS

    return client.app[SETTINGS].azure_monitor_authority


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "someone-else"},
        {"iss": "https://sts.windows.net/00000000-0000-0000-0000-000000000000/"},
        {"appid": "11112222-bbbb-3333-cccc-4444dddd5555"},
        {"roles": ["SomethingElse"]},
        {"roles": None},
        {"exp": int(time.time()) - 3600},
    ],
)
async def test_tokens_not_from_our_action_groups_are_401(
    secure: tuple[TestClient[Any, Any], EntraKeys], claims: dict[str, Any]
) -> None:
    client, keys = secure
    token = keys.token(**claims)
    response = await client.post(
        "/api/azure-monitor",
        json=body("log-alert-fired.json"),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status == 401


async def test_forged_signatures_and_junk_are_401(
    secure: tuple[TestClient[Any, Any], EntraKeys],
) -> None:
    client, keys = secure
    impostor = EntraKeys()
    impostor.kid = keys.kid  # same key id, another key
    for header in (
        f"Bearer {impostor.token()}",
        "Bearer not.a.token",
        "Basic dXNlcjpwYXNz",
        f"Bearer {jwt.encode({'aud': AUDIENCE}, 'k' * 32, algorithm='HS256')}",
        "",
    ):
        response = await client.post(
            "/api/azure-monitor",
            json=body("log-alert-fired.json"),
            headers={"Authorization": header},
        )
        assert response.status == 401, header


async def test_unknown_key_ids_do_not_make_the_bot_fetch_keys_again_and_again(
    secure: tuple[TestClient[Any, Any], EntraKeys],
) -> None:
    client, keys = secure
    ok = await client.post(
        "/api/azure-monitor",
        json=body("log-alert-fired.json"),
        headers={"Authorization": f"Bearer {keys.token()}"},
    )
    assert ok.status == 200
    started = time.monotonic()
    for _ in range(50):
        forged = keys.token(kid=uuid.uuid4().hex)
        response = await client.post(
            "/api/azure-monitor",
            json=body("metric-alert.json"),
            headers={"Authorization": f"Bearer {forged}"},
        )
        assert response.status == 401
    assert keys.fetches == 1  # the first request's fetch; junk key ids wait for the interval
    assert time.monotonic() - started < 5
