"""Acknowledge and Resolve in chat written back to the Azure alert, against the local Alerts
Management API (tests/support/alerts_management_api.py, which follows the 2019-03-01
REST reference and its Alerts_ChangeState example), with the real azure-identity
ManagedIdentityCredential asking the fake's token endpoint for an ARM token.

The chat action never waits for Azure: it queues the change; the worker sends it, retries
throttling and server errors, and gives up on a refusal, recording why.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.alerts.handling import Acknowledge, Actor, Resolve
from bot.app import create_app
from bot.azure_monitor.setup import WRITEBACK
from bot.notify import RecordingNotifier
from bot.settings import Settings
from bot.web import CLOCK, PIPELINE, STORE
from tests.support.alerting import CATALOG, DEMO_NOW, sqlite_url
from tests.support.alerts_management_api import (
    CHANGE_STATE,
    AzureAlert,
    FakeAlertsManagement,
    serve_alerts_management,
)
from tests.support.entra_tokens import managed_identity_env

Client = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
DATA = Path(__file__).parent / "data"
SECRET = "s3cr3t-" + "y" * 40
SUB = "00000000-0000-0000-0000-000000000000"
GUID = "b9569717-bc32-442f-add5-83a997729330"  # the alert of log-alert-fired.json


@pytest.fixture
async def arm(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeAlertsManagement]:
    async with serve_alerts_management() as fake:
        fake.state.add(AzureAlert(GUID, SUB, "Provisioning failure spike", severity="Sev2"))
        for name, value in managed_identity_env(fake.base_url, fake.tokens).items():
            monkeypatch.setenv(name, value)
        yield fake


@pytest.fixture
async def client(
    aiohttp_client: Client, tmp_path: Path, arm: FakeAlertsManagement
) -> TestClient[Any, Any]:
    settings = Settings(
        _env_file=None,
        database_url=sqlite_url(tmp_path / "alertbot.db"),
        rules_path=CATALOG,
        demo_now=DEMO_NOW,
        rules_reload_seconds=0,
        scheduler_enabled=False,
        azure_monitor_webhook_secret=SECRET,
        azure_monitor_writeback=True,
        azure_monitor_arm_endpoint=arm.base_url,
        azure_credential="managed_identity",
    )
    return await aiohttp_client(create_app(settings, notifier=RecordingNotifier()))


async def fired_alert(client: TestClient[Any, Any]) -> int:
    body = json.loads((DATA / "log-alert-fired.json").read_text())
    response = await client.post(f"/api/azure-monitor?secret={SECRET}", json=body)
    assert response.status == 200
    alert_id: int = (await response.json())["alertId"]
    return alert_id


async def act(client: TestClient[Any, Any], action: Any) -> None:
    now = client.app[CLOCK]()
    await client.app[PIPELINE].apply_action(action, actor=Actor("admin-1", "Alex Wilber"), now=now)


async def test_acknowledge_then_resolve_set_the_azure_alert(
    client: TestClient[Any, Any], arm: FakeAlertsManagement
) -> None:
    alert_id = await fired_alert(client)
    worker = client.app[WRITEBACK]

    await act(client, Acknowledge(alert_id))
    assert await worker.run_once() == 1
    await act(client, Resolve(alert_id))
    assert await worker.run_once() == 1

    assert [(c.old, c.new) for c in arm.state.changes] == [
        ("New", "Acknowledged"),
        ("Acknowledged", "Closed"),
    ]
    calls = arm.controls.made("alerts.changeState")
    assert [c.query["api-version"] for c in calls] == ["2019-03-01", "2019-03-01"]
    assert all(c.path.endswith(f"/alerts/{GUID}/changestate") for c in calls)


async def test_throttling_is_retried_after_retry_after(
    client: TestClient[Any, Any], arm: FakeAlertsManagement
) -> None:
    alert_id = await fired_alert(client)
    arm.controls.fail_next(429, "TooManyRequests", retry_after=7, operation="alerts.changeState")
    await act(client, Acknowledge(alert_id))
    worker, store = client.app[WRITEBACK], client.app[STORE]

    await worker.run_once()
    assert arm.state.changes == []
    now = client.app[CLOCK]()
    assert await store.claim_writebacks(now=now, owner="t", lease=timedelta(1), limit=5) == []
    later = await store.claim_writebacks(
        now=now + timedelta(seconds=8), owner="t", lease=timedelta(seconds=1), limit=5
    )
    assert [w.attempts for w in later] == [2]
    assert later[0].last_error is not None
    assert later[0].last_error.startswith("429 TooManyRequests")


async def test_a_refusal_is_final_and_said_in_the_audit_log(
    client: TestClient[Any, Any], arm: FakeAlertsManagement
) -> None:
    alert_id = await fired_alert(client)
    arm.state.denied.add(CHANGE_STATE)
    await act(client, Acknowledge(alert_id))
    await client.app[WRITEBACK].run_once()

    store = client.app[STORE]
    audit = await store.list_audit(alert_id=alert_id)
    failed = [entry for entry in audit if entry.action == "writeback_failed"]
    assert len(failed) == 1
    assert failed[0].detail is not None
    assert "403 AuthorizationFailed" in failed[0].detail
    # The chat action itself stood: the alert is acknowledged here.
    alert = await store.get_alert(alert_id)
    assert alert is not None
    assert alert.acknowledged_by == "admin-1"
    later = client.app[CLOCK]() + timedelta(hours=1)
    assert await store.claim_writebacks(now=later, owner="t", lease=timedelta(1), limit=5) == []
