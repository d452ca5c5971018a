"""The local Alerts Management (ARM) through azure.core's AsyncPipelineClient with the real
azure-identity ManagedIdentityCredential asking the fake's token endpoint for an ARM token.

Follows Azure/azure-rest-api-specs specification/alertsmanagement/resource-manager/
Microsoft.AlertsManagement/stable/2019-03-01 (AlertsManagement.json; examples
Alerts_GetById.json and Alerts_ChangeState.json for the alert body) and
learn.microsoft.com/rest/api/monitor/alertsmanagement/alerts/change-state; ARM's error
body and AuthorizationFailed wording from learn.microsoft.com/azure/azure-resource-manager/
troubleshooting/common-deployment-errors; 429 + Retry-After from .../request-limits-and-throttling.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from azure.core import AsyncPipelineClient
from azure.core.pipeline.policies import AsyncBearerTokenCredentialPolicy, AsyncRetryPolicy
from azure.core.rest import AsyncHttpResponse, HttpRequest
from azure.identity.aio import ManagedIdentityCredential

from tests.support.alerts_management_api import (
    CHANGE_STATE,
    READ,
    AzureAlert,
    FakeAlertsManagement,
)
from tests.support.entra_tokens import managed_identity_env

SUB = "3b540246-808d-4331-99aa-917b808a9166"
ALERT = "66114d64-d9d9-478b-95c9-b789d6502100"
# As the common alert schema's essentials.alertId carries it.
ALERT_ID = f"/subscriptions/{SUB}/providers/Microsoft.AlertsManagement/alerts/{ALERT}"
WORKSPACE = (
    f"/subscriptions/{SUB}/resourcegroups/identity-rg/providers/"
    "microsoft.operationalinsights/workspaces/entra-logs"
)


class Arm:
    def __init__(self, fake: FakeAlertsManagement, credential: ManagedIdentityCredential) -> None:
        self.endpoint = fake.endpoint
        self.client: AsyncPipelineClient[Any, Any] = AsyncPipelineClient(
            fake.endpoint,
            policies=[
                AsyncRetryPolicy(retry_total=2, retry_backoff_factor=0.01),
                AsyncBearerTokenCredentialPolicy(
                    credential, "https://management.azure.com/.default"
                ),
            ],
        )

    async def change_state(
        self, alert_id: str, new_state: str, api_version: str = "2019-03-01", body: Any = None
    ) -> AsyncHttpResponse:
        request = HttpRequest(
            "POST",
            f"{self.endpoint}{alert_id}/changestate",
            params={"api-version": api_version, "newState": new_state},
            json=body,
        )
        response: AsyncHttpResponse = await self.client.send_request(request, enforce_https=False)
        return response

    async def get(self, alert_id: str) -> AsyncHttpResponse:
        request = HttpRequest(
            "GET", f"{self.endpoint}{alert_id}", params={"api-version": "2019-03-01"}
        )
        response: AsyncHttpResponse = await self.client.send_request(request, enforce_https=False)
        return response


@pytest.fixture
async def arm(
    fake_alerts_management: FakeAlertsManagement, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Arm]:
    fake = fake_alerts_management
    fake.state.add(
        AzureAlert(
            ALERT, SUB, "Too many password resets", severity="Sev1", target_resource=WORKSPACE
        )
    )
    for name, value in managed_identity_env(fake.base_url, fake.tokens).items():
        monkeypatch.setenv(name, value)
    async with ManagedIdentityCredential() as credential:
        client = Arm(fake, credential)
        yield client
        await client.client.close()


async def test_acknowledge_then_close_returns_the_alert(
    fake_alerts_management: FakeAlertsManagement, arm: Arm
) -> None:
    acked = await arm.change_state(ALERT_ID, "Acknowledged", body={"comments": "Ack from Teams"})
    closed = await arm.change_state(ALERT_ID.lower(), "Closed")  # ARM paths ignore case
    fetched = await arm.get(ALERT_ID)

    body = acked.json()
    essentials = body["properties"]["essentials"]
    assert acked.status_code == 200
    assert (body["id"], body["type"], body["name"]) == (
        ALERT_ID,
        "Microsoft.AlertsManagement/alerts",
        "Too many password resets",
    )
    assert essentials["alertState"] == "Acknowledged"
    assert essentials["monitorCondition"] == "Fired"
    assert essentials["targetResourceName"] == "entra-logs"
    assert essentials["lastModifiedUserName"] == fake_alerts_management.state.principal
    assert closed.json()["properties"]["essentials"]["alertState"] == "Closed"
    assert fetched.json()["properties"]["essentials"]["alertState"] == "Closed"
    changes = fake_alerts_management.state.changes
    assert [(c.old, c.new, c.comment) for c in changes] == [
        ("New", "Acknowledged", "Ack from Teams"),
        ("Acknowledged", "Closed", None),
    ]
    [asked] = fake_alerts_management.tokens.requests
    assert asked["resource"] == "https://management.azure.com"


async def test_a_resource_scope_reaches_the_same_alert(arm: Arm) -> None:
    scoped = f"{WORKSPACE}/providers/Microsoft.AlertsManagement/alerts/{ALERT}"

    response = await arm.change_state(scoped, "Acknowledged")

    assert response.status_code == 200


async def test_refusals(fake_alerts_management: FakeAlertsManagement, arm: Arm) -> None:
    other = ALERT_ID.replace(ALERT, "0000aaaa-0000-4000-8000-000000000000")
    wrong_sub = ALERT_ID.replace(SUB, "00000000-0000-4000-8000-000000000000")

    unknown = await arm.change_state(other, "Acknowledged")
    elsewhere = await arm.change_state(wrong_sub, "Acknowledged")
    bad_state = await arm.change_state(ALERT_ID, "Snoozed")
    bad_version = await arm.change_state(ALERT_ID, "Closed", api_version="2000-01-01")
    fake_alerts_management.state.denied.add(CHANGE_STATE)
    denied = await arm.change_state(ALERT_ID, "Closed")
    still_readable = await arm.get(ALERT_ID)
    fake_alerts_management.state.denied.add(READ)
    unreadable = await arm.get(ALERT_ID)

    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "ResourceNotFound")
    assert elsewhere.status_code == 404
    assert bad_state.status_code == 400
    assert (bad_version.status_code, bad_version.json()["error"]["code"]) == (
        400,
        "NoRegisteredProviderFound",
    )
    assert (denied.status_code, denied.json()["error"]["code"]) == (403, "AuthorizationFailed")
    assert CHANGE_STATE in denied.json()["error"]["message"]
    assert still_readable.status_code == 200
    assert unreadable.status_code == 403
    assert fake_alerts_management.state.alerts[ALERT].alert_state == "New"


async def test_throttled_then_retried(
    fake_alerts_management: FakeAlertsManagement, arm: Arm
) -> None:
    fake_alerts_management.controls.fail_next(
        429, "TooManyRequests", "Number of requests exceeded the limit.", retry_after=1,
        operation="alerts.changeState",
    )  # fmt: skip

    response = await arm.change_state(ALERT_ID, "Acknowledged")

    assert response.status_code == 200
    assert [r.status for r in fake_alerts_management.controls.made("alerts.changeState")] == [
        429,
        200,
    ]


async def test_tokens_are_required_and_for_arm(
    fake_alerts_management: FakeAlertsManagement,
) -> None:
    fake = fake_alerts_management
    graph_token = fake.tokens.issue("https://graph.microsoft.com/.default")
    url = f"{fake.endpoint}{ALERT_ID}?api-version=2019-03-01"
    codes = []
    async with aiohttp.ClientSession() as session:
        for headers in (
            {},
            {"Authorization": "Bearer x"},
            {"Authorization": f"Bearer {graph_token}"},
        ):
            async with session.get(url, headers=headers) as answer:
                codes.append((answer.status, (await answer.json())["error"]["code"]))

    assert codes == [
        (401, "AuthenticationFailed"),
        (401, "InvalidAuthenticationToken"),
        (401, "InvalidAuthenticationTokenAudience"),
    ]


async def test_client_credentials_token_endpoint(
    fake_alerts_management: FakeAlertsManagement,
) -> None:
    fake = fake_alerts_management
    fake.tokens.clients["app-id"] = "app-secret"
    url = f"{fake.base_url}/{SUB}/oauth2/v2.0/token"
    form = {
        "grant_type": "client_credentials",
        "client_id": "app-id",
        "client_secret": "app-secret",
        "scope": "https://management.azure.com/.default",
    }
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=form) as answer:
            token = (await answer.json())["access_token"]
        async with session.post(url, data={**form, "client_secret": "wrong"}) as refused:
            refusal = (refused.status, (await refused.json())["error"])
        headers = {"Authorization": f"Bearer {token}"}
        async with session.get(
            f"{fake.endpoint}{ALERT_ID}?api-version=2019-03-01", headers=headers
        ) as got:
            status = got.status

    assert refusal == (401, "invalid_client")
    assert status == 404  # authenticated; no such alert in this empty fake
