"""A local Microsoft Graph (v1.0) for the calls the bot makes, faithful to the documented
requests, answers and errors (learn.microsoft.com/graph/api/..., source
microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/api/*.md):

    GET  /v1.0/users/{id | userPrincipalName}[?$select=]              (user-get.md)
    POST /v1.0/users/{id}/checkMemberGroups {"groupIds"} (≤ 20)
                                                  (directoryobject-checkmembergroups.md)
    GET  /v1.0/users/{id}/teamwork/installedApps[?$expand=teamsApp,teamsAppDefinition
         &$filter=teamsApp/id eq '…' | teamsApp/externalId eq '…']
                                                  (userteamwork-list-installedapps.md)
    POST /v1.0/users/{id}/teamwork/installedApps
         {"teamsApp@odata.bind": ".../appCatalogs/teamsApps/{id}"}
                                                  (userteamwork-post-installedapps.md)
         → 201 (no body); 409 already installed; 404 app not in the catalog; 403 no permission
    GET  /v1.0/users/{id}/teamwork/installedApps/{installation}/chat
                                                  (userscopeteamsappinstallation-get-chat.md)
    GET  /v1.0/appCatalogs/teamsApps?$filter=externalId eq '…'  (appcatalogs-list-teamsapps.md)
    POST /v1.0/users/{mailbox}/sendMail {"message", "saveToSentItems"} → 202  (user-sendmail.md)
         403 ErrorAccessDenied when Exchange RBAC / an application access policy keeps the app
         out of that mailbox; 404 ErrorInvalidUser for an unknown mailbox.

Errors use Graph's body `{"error": {"code", "message", "innerError": {"date",
"request-id", "client-request-id"}}}` (errors.md). A bearer token for the Graph audience is
required (401 InvalidAuthenticationToken otherwise). Tokens come from tests/support/
entra_tokens.py (also served here). Throttling: queue a Fault(429, "TooManyRequests",
retry_after=N) (throttling.md: 429 with Retry-After).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

from aiohttp import web

from tests.support.cloud_fakes import Controls, bearer, json_response, serve
from tests.support.entra_tokens import GRAPH_AUDIENCE, TokenIssuer
from tests.support.graph_directory import (
    BOT_APP_ID,
    CATALOG_APP_ID,
    MANIFEST_ID,
    GraphState,
    GraphUser,
    Installation,
    SentMail,
    TeamsApp,
    sample_directory,
)

__all__ = [
    "BOT_APP_ID",
    "CATALOG_APP_ID",
    "MANIFEST_ID",
    "FakeGraph",
    "GraphState",
    "GraphUser",
    "Installation",
    "SentMail",
    "TeamsApp",
    "create_graph_app",
    "sample_directory",
    "serve_graph",
]

ROOT: Final = "https://graph.microsoft.com/v1.0"
MAX_GROUP_IDS: Final = 20
TEAMS_APP_PERMISSIONS: Final = (
    "TeamsAppInstallation.ReadWriteSelfForUser.All, TeamsAppInstallation.ReadWriteForUser.All"
)


Operation = Callable[["_Call"], Awaitable[web.Response]]


@dataclass
class _Call:
    request: web.Request
    state: GraphState
    body: Any


@dataclass
class FakeGraph:
    state: GraphState
    controls: Controls
    tokens: TokenIssuer
    base_url: str = ""

    @property
    def endpoint(self) -> str:
        """What the bot takes as the Graph endpoint (…/v1.0)."""
        return f"{self.base_url}/v1.0"


_FAKE: Final = web.AppKey("fake_graph", FakeGraph)


def create_graph_app(
    state: GraphState | None = None, tokens: TokenIssuer | None = None
) -> web.Application:
    fake = FakeGraph(state or GraphState(), Controls(), tokens or TokenIssuer())
    app = web.Application()
    app[_FAKE] = fake
    fake.tokens.add_routes(app)
    routes: list[tuple[str, str, str, Operation]] = [
        ("GET", "/v1.0/users/{user}", "users.get", _get_user),
        ("POST", "/v1.0/users/{user}/checkMemberGroups", "users.checkMemberGroups", _check_groups),
        ("GET", "/v1.0/users/{user}/teamwork/installedApps", "installedApps.list", _list_apps),
        ("POST", "/v1.0/users/{user}/teamwork/installedApps", "installedApps.add", _install_app),
        (
            "GET",
            "/v1.0/users/{user}/teamwork/installedApps/{installation}/chat",
            "installedApps.chat",
            _chat,
        ),
        ("GET", "/v1.0/appCatalogs/teamsApps", "appCatalogs.list", _catalog),
        ("POST", "/v1.0/users/{user}/sendMail", "users.sendMail", _send_mail),
    ]
    for method, path, name, operation in routes:
        app.router.add_route(method, path, _guarded(name, operation))
    return app


@asynccontextmanager
async def serve_graph(
    state: GraphState | None = None, tokens: TokenIssuer | None = None
) -> AsyncIterator[FakeGraph]:
    app = create_graph_app(state, tokens)
    async with serve(app) as base_url:
        fake = app[_FAKE]
        fake.base_url = base_url
        yield fake


def graph_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    request_id = str(uuid.uuid4())
    inner = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": request_id,
        "client-request-id": request_id,
    }
    body = {"error": {"code": code, "message": message, "innerError": inner}}
    return json_response(body, status, {"request-id": request_id, **(headers or {})})


def _guarded(name: str, operation: Operation) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        fake = request.app[_FAKE]
        record = await fake.controls.record(request, name)
        response = _refusal(request, fake, name) or await operation(
            _Call(request, fake.state, record.body)
        )
        record.status = response.status
        return response

    return handle


def _refusal(request: web.Request, fake: FakeGraph, name: str) -> web.Response | None:
    token = bearer(request)
    if token is None:
        return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
    audience = fake.tokens.audience_of(token)
    if audience is None:
        return graph_error(
            401,
            "InvalidAuthenticationToken",
            "CompactToken parsing failed with error code: 80049217",
        )
    if audience != GRAPH_AUDIENCE:
        return graph_error(
            401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience."
        )
    fault = fake.controls.take_fault(name)
    if fault is not None:
        headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
        return graph_error(fault.status, fault.code, fault.message or fault.code, headers)
    if name in fake.state.denied:
        return _forbidden(name)
    return None


def _forbidden(name: str) -> web.Response:
    if name.startswith("installedApps"):
        message = (
            f"Missing role permissions on the request. API requires one of "
            f"'{TEAMS_APP_PERMISSIONS}'. Roles on the request ''."
        )
        return graph_error(403, "Forbidden", message)
    if name == "users.sendMail":
        return graph_error(
            403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
        )
    return graph_error(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )


def _user_not_found(key: str) -> web.Response:
    return graph_error(
        404,
        "Request_ResourceNotFound",
        f"Resource '{key}' does not exist or one of its queried reference-property objects "
        "are not present.",
    )


async def _get_user(call: _Call) -> web.Response:
    key = call.request.match_info["user"]
    user = call.state.find_user(key)
    if user is None:
        return _user_not_found(key)
    body = user.to_json()
    select = call.request.query.get("$select")
    if select:
        wanted = {name.strip() for name in select.split(",")}
        body = {k: v for k, v in body.items() if k in wanted}
        context = f"{ROOT}/$metadata#users({','.join(sorted(wanted))})/$entity"
    else:
        context = f"{ROOT}/$metadata#users/$entity"
    return json_response({"@odata.context": context, **body})


async def _check_groups(call: _Call) -> web.Response:
    key = call.request.match_info["user"]
    user = call.state.find_user(key)
    if user is None:
        return _user_not_found(key)
    ids = call.body.get("groupIds") if isinstance(call.body, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return graph_error(
            400, "Request_BadRequest", "Invalid value specified for property 'groupIds'."
        )
    if len(ids) > MAX_GROUP_IDS:
        return graph_error(
            400,
            "Request_BadRequest",
            f"The number of group ids exceeds the limit of {MAX_GROUP_IDS}.",
        )
    members = {g.lower() for g in user.groups}
    return json_response(
        {
            "@odata.context": f"{ROOT}/$metadata#Collection(Edm.String)",
            "value": [g for g in ids if g.lower() in members],
        }
    )


_FILTER: Final = re.compile(r"^\s*(?P<field>[\w/]+)\s+eq\s+'(?P<value>[^']*)'\s*$")


def _clauses(text: str) -> list[tuple[str, str]] | None:
    """`a eq 'x' and b eq 'y'` → [(a, x), (b, y)]; None when it is not of that form."""
    found = [_FILTER.match(part) for part in re.split(r"\s+and\s+", text)]
    if not all(found):
        return None
    return [(m.group("field"), m.group("value")) for m in found if m]


def _bad_filter() -> web.Response:
    return graph_error(400, "BadRequest", "Invalid filter clause")


async def _list_apps(call: _Call) -> web.Response:
    key = call.request.match_info["user"]
    user = call.state.find_user(key)
    if user is None:
        return graph_error(404, "NotFound", f"User '{key}' was not found.")
    query = call.request.query
    clauses = _clauses(query["$filter"]) if "$filter" in query else []
    if clauses is None or any(f not in ("teamsApp/id", "teamsApp/externalId") for f, _ in clauses):
        return _bad_filter()
    expand = {part.strip() for part in query.get("$expand", "").split(",") if part.strip()}
    items = []
    for installation in call.state.installed_for(user.id):
        app = call.state.catalog[installation.app_id]
        values = {"teamsApp/id": app.id, "teamsApp/externalId": app.external_id}
        if all(values[f] == v for f, v in clauses):
            item: dict[str, Any] = {"id": installation.id}
            if "teamsApp" in expand:
                item["teamsApp"] = app.to_json()
            if "teamsAppDefinition" in expand:
                item["teamsAppDefinition"] = app.definition()
            items.append(item)
    context = f"{ROOT}/$metadata#users('{user.id}')/teamwork/installedApps"
    return json_response({"@odata.context": context, "@odata.count": len(items), "value": items})


_BIND: Final = re.compile(r"/appCatalogs/teamsApps(?:/|\(')(?P<id>[^/')]+)'?\)?$")


async def _install_app(call: _Call) -> web.Response:
    key = call.request.match_info["user"]
    user = call.state.find_user(key)
    if user is None:
        return graph_error(404, "NotFound", f"User '{key}' was not found.")
    bind = call.body.get("teamsApp@odata.bind") if isinstance(call.body, dict) else None
    found = _BIND.search(bind) if isinstance(bind, str) else None
    if found is None:
        return graph_error(
            400, "BadRequest", "The 'teamsApp@odata.bind' property is missing or invalid."
        )
    app = call.state.catalog.get(found.group("id"))
    if app is None:
        return graph_error(
            404, "NotFound", f"The app '{found.group('id')}' was not found in the catalog."
        )
    if any(i.app_id == app.id for i in call.state.installed_for(user.id)):
        return graph_error(409, "Conflict", "The app is already installed for this user.")
    call.state.install(user, app)
    return json_response(None, 201)


async def _chat(call: _Call) -> web.Response:
    installation = call.state.installations.get(call.request.match_info["installation"])
    user = call.state.find_user(call.request.match_info["user"])
    if installation is None or user is None or installation.user_id != user.id:
        return graph_error(404, "NotFound", "The app installation was not found.")
    created = installation.created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return json_response(
        {
            "@odata.context": f"{ROOT}/$metadata#chats/$entity",
            "id": installation.chat_id,
            "topic": None,
            "createdDateTime": created,
            "lastUpdatedDateTime": created,
            "chatType": "oneOnOne",
            "webUrl": f"https://teams.microsoft.com/l/chat/{quote(installation.chat_id)}/0"
            f"?tenantId={call.state.tenant_id}",
            "tenantId": call.state.tenant_id,
        }
    )


async def _catalog(call: _Call) -> web.Response:
    text = call.request.query.get("$filter")
    clauses = _clauses(text) if text else []
    names = {"id": "id", "externalId": "external_id", "displayName": "display_name",
             "distributionMethod": "distribution_method"}  # fmt: skip
    if clauses is None or any(f not in names for f, _ in clauses):
        return _bad_filter()
    apps = [
        app.to_json()
        for app in call.state.catalog.values()
        if all(getattr(app, names[f]) == v for f, v in clauses)
    ]
    return json_response(
        {"@odata.context": f"{ROOT}/$metadata#appCatalogs/teamsApps", "value": apps}
    )


async def _send_mail(call: _Call) -> web.Response:
    key = call.request.match_info["user"]
    mailbox = call.state.find_user(key)
    if mailbox is None:
        return graph_error(404, "ErrorInvalidUser", f"The requested user '{key}' is invalid.")
    allowed = {s.lower() for s in call.state.mail_senders}
    if mailbox.id.lower() not in allowed and mailbox.user_principal_name.lower() not in allowed:
        return graph_error(
            403,
            "ErrorAccessDenied",
            "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly "
            "AccessPolicy settings.",
        )
    message = call.body.get("message") if isinstance(call.body, dict) else None
    if not isinstance(message, dict):
        return graph_error(400, "ErrorInvalidRequest", "The request body must contain a 'message'.")
    recipients = message.get("toRecipients")
    if (
        not isinstance(recipients, list)
        or not recipients
        or not all(
            isinstance(r, dict) and isinstance(r.get("emailAddress", {}).get("address"), str)
            for r in recipients
        )
    ):
        return graph_error(400, "ErrorInvalidRecipients", "At least one recipient isn't valid.")
    save = call.body.get("saveToSentItems", True) is not False
    call.state.sent.append(SentMail(mailbox.user_principal_name, message, save))
    return json_response(None, 202)
