"""The local Microsoft Graph through azure.core's AsyncPipelineClient with the real
azure-identity ManagedIdentityCredential (App Service flavour) fetching its token from the
fake's token endpoint, and through the bot's own GraphGroupMembership.

Follows microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/api: user-get.md,
directoryobject-checkmembergroups.md, userteamwork-post-installedapps.md (201 no body),
userteamwork-list-installedapps.md ($expand/$filter example 3),
userscopeteamsappinstallation-get-chat.md, appcatalogs-list-teamsapps.md, user-sendmail.md
(202); concepts/errors.md for error bodies, concepts/throttling.md for 429 + Retry-After;
learn.microsoft.com/azure/app-service/overview-managed-identity for the token endpoint.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from azure.core import AsyncPipelineClient
from azure.core.pipeline.policies import AsyncBearerTokenCredentialPolicy, AsyncRetryPolicy
from azure.core.rest import AsyncHttpResponse, HttpRequest
from azure.identity.aio import ManagedIdentityCredential

from bot.commands.access import GraphGroupMembership, GroupLookupError
from tests.support.entra_tokens import GRAPH_AUDIENCE, managed_identity_env
from tests.support.graph_api import BOT_APP_ID, CATALOG_APP_ID, MANIFEST_ID, FakeGraph

ADA = "8c7f0b8e-0000-4000-8000-00000000abcd"
REY = "6b1e2f3a-0000-4000-8000-00000000beef"
INA = "4d5e6f70-0000-4000-8000-00000000cafe"
ADMINS = "3f1c2b9a-0000-4000-8000-000000000001"
SCOPE = "https://graph.microsoft.com/.default"


class Graph:
    """A thin client over the fake: the real credential and azure.core pipeline."""

    def __init__(self, fake: FakeGraph, credential: ManagedIdentityCredential) -> None:
        self.endpoint = fake.endpoint
        self.client: AsyncPipelineClient[Any, Any] = AsyncPipelineClient(
            fake.endpoint,
            policies=[
                AsyncRetryPolicy(retry_total=2, retry_backoff_factor=0.01),
                AsyncBearerTokenCredentialPolicy(credential, SCOPE),
            ],
        )

    async def call(
        self, method: str, path: str, body: Any = None, **params: str
    ) -> AsyncHttpResponse:
        request = HttpRequest(method, f"{self.endpoint}{path}", json=body, params=params)
        response: AsyncHttpResponse = await self.client.send_request(request, enforce_https=False)
        return response


@pytest.fixture
async def graph(fake_graph: FakeGraph, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Graph]:
    for name, value in managed_identity_env(fake_graph.base_url, fake_graph.tokens).items():
        monkeypatch.setenv(name, value)
    async with ManagedIdentityCredential() as credential:
        client = Graph(fake_graph, credential)
        yield client
        await client.client.close()


async def test_the_managed_identity_credential_gets_a_graph_token(
    fake_graph: FakeGraph, graph: Graph
) -> None:
    response = await graph.call("GET", f"/users/{ADA}")

    assert response.status_code == 200
    [asked] = fake_graph.tokens.requests
    assert (asked["flow"], asked["resource"], asked["api-version"]) == (
        "managed_identity",
        "https://graph.microsoft.com",
        "2019-08-01",
    )
    token = fake_graph.controls.requests[0].headers["Authorization"].removeprefix("Bearer ")
    assert fake_graph.tokens.audience_of(token) == GRAPH_AUDIENCE


async def test_users_by_id_or_upn_with_select_and_404(graph: Graph) -> None:
    by_upn = (await graph.call("GET", "/users/Rey@Contoso.com", **{"$select": "id,mail"})).json()
    missing = await graph.call("GET", "/users/nobody@contoso.com")

    assert by_upn == {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,mail)/$entity",
        "id": REY,
        "mail": "rey.reader@contoso.com",
    }
    assert missing.status_code == 404
    error = missing.json()["error"]
    assert error["code"] == "Request_ResourceNotFound"
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}


async def test_tokens_are_required_and_for_graph(fake_graph: FakeGraph) -> None:
    arm_token = fake_graph.tokens.issue("https://management.azure.com/.default")
    async with aiohttp.ClientSession() as session:
        answers = []
        for headers in (
            {},
            {"Authorization": "Bearer nonsense"},
            {"Authorization": f"Bearer {arm_token}"},
        ):
            async with session.get(f"{fake_graph.endpoint}/users/{ADA}", headers=headers) as answer:
                answers.append((answer.status, (await answer.json())["error"]["message"]))

    assert answers == [
        (401, "Access token is empty."),
        (401, "CompactToken parsing failed with error code: 80049217"),
        (401, "Access token validation failure. Invalid audience."),
    ]


async def test_install_for_a_user_then_find_the_chat(fake_graph: FakeGraph, graph: Graph) -> None:
    bind = {
        "teamsApp@odata.bind": f"https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/{CATALOG_APP_ID}"
    }
    catalog = (
        await graph.call(
            "GET", "/appCatalogs/teamsApps", **{"$filter": f"externalId eq '{MANIFEST_ID}'"}
        )
    ).json()
    first = await graph.call("POST", f"/users/{REY}/teamwork/installedApps", bind)
    again = await graph.call("POST", f"/users/{REY}/teamwork/installedApps", bind)
    listed = await graph.call(
        "GET",
        f"/users/{REY}/teamwork/installedApps",
        **{"$expand": "teamsApp", "$filter": f"teamsApp/id eq '{CATALOG_APP_ID}'"},
    )
    [installation] = listed.json()["value"]
    chat = await graph.call("GET", f"/users/{REY}/teamwork/installedApps/{installation['id']}/chat")

    assert [app["id"] for app in catalog["value"]] == [CATALOG_APP_ID]
    assert (first.status_code, first.text()) == (201, "")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "Conflict")
    assert base64.b64decode(installation["id"]).decode() == f"{REY}##{CATALOG_APP_ID}"
    assert installation["teamsApp"] == {
        "id": CATALOG_APP_ID,
        "externalId": MANIFEST_ID,
        "displayName": "Entra Alerts",
        "distributionMethod": "organization",
    }
    assert chat.json()["id"] == f"19:{BOT_APP_ID}_{REY}@unq.gbl.spaces"
    assert chat.json()["chatType"] == "oneOnOne"
    assert [r.status for r in fake_graph.controls.made("installedApps.add")] == [201, 409]


async def test_install_refusals(fake_graph: FakeGraph, graph: Graph) -> None:
    unknown = {"teamsApp@odata.bind": "https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/nope"}
    not_in_catalog = await graph.call("POST", f"/users/{REY}/teamwork/installedApps", unknown)
    by_manifest = await graph.call(
        "GET", f"/users/{INA}/teamwork/installedApps",
        **{
            "$expand": "teamsApp,teamsAppDefinition",
            "$filter": f"teamsApp/externalId eq '{MANIFEST_ID}'",
        },
    )  # fmt: skip
    bad_filter = await graph.call(
        "GET", f"/users/{INA}/teamwork/installedApps", **{"$filter": "startswith(x)"}
    )
    fake_graph.state.denied.add("installedApps.add")
    forbidden = await graph.call(
        "POST",
        f"/users/{REY}/teamwork/installedApps",
        {
            "teamsApp@odata.bind": f"https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/{CATALOG_APP_ID}"
        },
    )

    assert not_in_catalog.status_code == 404
    [item] = by_manifest.json()["value"]
    assert item["teamsAppDefinition"]["azureADAppId"] == BOT_APP_ID
    assert bad_filter.status_code == 400
    assert forbidden.status_code == 403
    assert "TeamsAppInstallation.ReadWriteSelfForUser.All" in forbidden.json()["error"]["message"]
    assert fake_graph.state.installed_for(REY) == []


async def test_send_mail_from_the_allowed_mailbox_only(fake_graph: FakeGraph, graph: Graph) -> None:
    mail = {
        "message": {
            "subject": "Your security info changed",
            "body": {"contentType": "HTML", "content": "<p>Was this you?</p>"},
            "toRecipients": [{"emailAddress": {"address": "rey.reader@contoso.com"}}],
        },
        "saveToSentItems": False,
    }
    sent = await graph.call("POST", "/users/alerts@contoso.com/sendMail", mail)
    refused = await graph.call("POST", f"/users/{ADA}/sendMail", mail)
    unknown = await graph.call("POST", "/users/ghost@contoso.com/sendMail", mail)
    empty = await graph.call(
        "POST", "/users/alerts@contoso.com/sendMail", {"message": {"subject": "x"}}
    )

    assert (sent.status_code, sent.text()) == (202, "")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "ErrorAccessDenied")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "ErrorInvalidUser")
    assert (empty.status_code, empty.json()["error"]["code"]) == (400, "ErrorInvalidRecipients")
    [one] = fake_graph.state.sent
    assert (one.mailbox, one.recipients, one.save_to_sent_items) == (
        "alerts@contoso.com",
        ["rey.reader@contoso.com"],
        False,
    )


async def test_throttling_is_retried_by_the_pipeline(fake_graph: FakeGraph, graph: Graph) -> None:
    fake_graph.controls.fail_next(
        429, "TooManyRequests", "Too many requests", retry_after=1, operation="users.get"
    )

    response = await graph.call("GET", f"/users/{ADA}")

    assert response.status_code == 200
    assert [r.status for r in fake_graph.controls.made("users.get")] == [429, 200]


async def test_the_bots_group_lookup_against_the_fake(fake_graph: FakeGraph) -> None:
    token = fake_graph.tokens.issue(SCOPE)

    class Static:
        async def get_token(self, *scopes: str, **_: Any) -> Any:
            from azure.core.credentials import AccessToken

            return AccessToken(token, 2_000_000_000)

        async def close(self) -> None:
            return None

    membership = GraphGroupMembership(Static(), endpoint=fake_graph.endpoint)  # type: ignore[arg-type]
    try:
        assert await membership.member_of(ADA, [ADMINS])
        assert not await membership.member_of(REY, [ADMINS])
        assert not await membership.member_of("00000000-0000-4000-8000-000000000000", [ADMINS])
        many = [f"00000000-0000-4000-8000-{n:012d}" for n in range(45)] + [ADMINS]
        assert await membership.member_of(ADA.upper().lower(), many)
        fake_graph.controls.fail_next(503, "serviceNotAvailable", times=3)
        with pytest.raises(GroupLookupError):
            await membership.member_of(REY, ["11111111-0000-4000-8000-000000000000"])
    finally:
        await membership.close()
    sizes = [len(r.body["groupIds"]) for r in fake_graph.controls.made("users.checkMemberGroups")]
    assert sizes[3:6] == [20, 20, 6]
