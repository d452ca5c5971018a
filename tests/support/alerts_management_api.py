"""A local Azure Resource Manager for Alerts Management, faithful to the REST reference
(learn.microsoft.com/rest/api/monitor/alertsmanagement/alerts) and the 2019-03-01 spec
(Azure/azure-rest-api-specs specification/alertsmanagement/resource-manager/
Microsoft.AlertsManagement/stable/2019-03-01/AlertsManagement.json and its examples
Alerts_GetById.json, Alerts_ChangeState.json):

    GET  {scope}/providers/Microsoft.AlertsManagement/alerts/{alertId}?api-version=2019-03-01
    POST {scope}/providers/Microsoft.AlertsManagement/alerts/{alertId}/changestate
         ?api-version=2019-03-01&newState=New|Acknowledged|Closed   [body {"comments"} optional]
         → 200 with the alert (`properties.essentials.alertState` changed,
           `lastModifiedUserName`, `lastModifiedDateTime`)

`{scope}` is e.g. `/subscriptions/{sub}` or a resource id under it; the alert ids of the
common alert schema (`/subscriptions/{sub}/providers/Microsoft.AlertsManagement/alerts/{guid}`)
can be used as they are. Paths are case-insensitive, as in ARM.

Errors (ARM's `{"error": {"code", "message"}}`): 401 `AuthenticationFailed` (no token),
`InvalidAuthenticationToken`, `InvalidAuthenticationTokenAudience`; 403 `AuthorizationFailed`
naming the missing action (`Microsoft.AlertsManagement/alerts/changestate/action` or
`.../alerts/read`); 404 for an unknown alert [code `ResourceNotFound`: ARM's generic code;
the service's own wording is not documented]; 400 for an unsupported api-version
(`NoRegisteredProviderFound`) or newState; 429 scripted with Retry-After.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from aiohttp import web

from tests.support.cloud_fakes import Controls, bearer, json_response, serve
from tests.support.entra_tokens import ARM_AUDIENCE, TokenIssuer

API_VERSIONS: Final = frozenset({"2019-03-01", "2025-05-25-preview"})
STATES: Final = ("New", "Acknowledged", "Closed")
READ: Final = "Microsoft.AlertsManagement/alerts/read"
CHANGE_STATE: Final = "Microsoft.AlertsManagement/alerts/changestate/action"
_PATH: Final = re.compile(
    r"^(?P<scope>/subscriptions/(?P<sub>[^/]+)(?:/.*?)?)/providers/microsoft\.alertsmanagement/"
    r"alerts/(?P<alert>[^/]+)(?P<change>/changestate)?/?$",
    re.IGNORECASE,
)


@dataclass
class StateChange:
    alert_id: str
    old: str
    new: str
    by: str
    comment: str | None
    at: datetime


@dataclass
class AzureAlert:
    id: str  # the GUID
    subscription_id: str
    name: str
    severity: str = "Sev2"
    alert_state: str = "New"
    monitor_condition: str = "Fired"
    target_resource: str = ""
    alert_rule: str = ""
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    modified: datetime = field(default_factory=lambda: datetime.now(UTC))
    modified_by: str = "System"

    @property
    def resource_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/providers/Microsoft.AlertsManagement/alerts/"
            f"{self.id}"
        )

    def to_json(self) -> dict[str, Any]:
        target = self.target_resource
        parts = target.strip("/").split("/")
        return {
            "properties": {
                "essentials": {
                    "severity": self.severity,
                    "signalType": "Log",
                    "alertState": self.alert_state,
                    "monitorCondition": self.monitor_condition,
                    "monitorService": "Log Alerts V2",
                    "targetResource": target,
                    "targetResourceName": parts[-1] if target else "",
                    "targetResourceGroup": parts[3] if len(parts) > 3 else "",
                    "targetResourceType": parts[-2] if len(parts) > 1 else "",
                    "sourceCreatedId": str(uuid.uuid5(uuid.NAMESPACE_URL, self.id)),
                    "alertRule": self.alert_rule,
                    "startDateTime": _iso(self.started),
                    "lastModifiedDateTime": _iso(self.modified),
                    "lastModifiedUserName": self.modified_by,
                    "actionStatus": {"isSuppressed": False},
                    "description": "",
                },
                "egressConfig": {},
                "context": {},
            },
            "id": self.resource_id,
            "type": "Microsoft.AlertsManagement/alerts",
            "name": self.name,
        }


@dataclass
class AlertsState:
    """Alerts by GUID (lower case); `denied` holds RBAC actions the caller lacks;
    `principal` is the caller's object id as ARM names it in messages and as the
    alert's `lastModifiedUserName`."""

    alerts: dict[str, AzureAlert] = field(default_factory=dict)
    denied: set[str] = field(default_factory=set)
    principal: str = "7e5d3c1b-0000-4000-8000-0000000b0751"
    changes: list[StateChange] = field(default_factory=list)

    def add(self, alert: AzureAlert) -> AzureAlert:
        self.alerts[alert.id.lower()] = alert
        return alert


@dataclass
class FakeAlertsManagement:
    state: AlertsState
    controls: Controls
    tokens: TokenIssuer
    base_url: str = ""

    @property
    def endpoint(self) -> str:
        """Stands for https://management.azure.com."""
        return self.base_url


_FAKE: Final = web.AppKey("fake_alerts_management", FakeAlertsManagement)


def create_alerts_app(
    state: AlertsState | None = None, tokens: TokenIssuer | None = None
) -> web.Application:
    fake = FakeAlertsManagement(state or AlertsState(), Controls(), tokens or TokenIssuer())
    app = web.Application()
    app[_FAKE] = fake
    fake.tokens.add_routes(app)
    app.router.add_route("*", "/subscriptions/{tail:.*}", _handle)
    return app


@asynccontextmanager
async def serve_alerts_management(
    state: AlertsState | None = None, tokens: TokenIssuer | None = None
) -> AsyncIterator[FakeAlertsManagement]:
    app = create_alerts_app(state, tokens)
    async with serve(app) as base_url:
        fake = app[_FAKE]
        fake.base_url = base_url
        yield fake


def arm_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    ids = {"x-ms-request-id": str(uuid.uuid4()), "x-ms-correlation-request-id": str(uuid.uuid4())}
    return json_response(
        {"error": {"code": code, "message": message}}, status, {**ids, **(headers or {})}
    )


async def _handle(request: web.Request) -> web.Response:
    fake = request.app[_FAKE]
    found = _PATH.match(request.path)
    change = bool(found and found.group("change"))
    operation = "alerts.changeState" if change else "alerts.get"
    record = await fake.controls.record(request, operation)
    response = _answer(request, fake, found, record.body)
    record.status = response.status
    return response


def _answer(
    request: web.Request, fake: FakeAlertsManagement, found: re.Match[str] | None, body: Any
) -> web.Response:
    refusal = _authenticate(request, fake)
    if refusal is not None:
        return refusal
    if found is None or request.method not in (("POST",) if found.group("change") else ("GET",)):
        return arm_error(404, "NotFound", f"The requested path '{request.path}' was not found.")
    change = bool(found.group("change"))
    operation = "alerts.changeState" if change else "alerts.get"
    fault = fake.controls.take_fault(operation)
    if fault is not None:
        headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
        return arm_error(fault.status, fault.code, fault.message or fault.code, headers)
    version = request.query.get("api-version", "")
    if version not in API_VERSIONS:
        return arm_error(
            400,
            "NoRegisteredProviderFound",
            f"No registered resource provider found for location 'global' and API version "
            f"'{version}' for type 'alerts'. The supported api-versions are "
            f"'{', '.join(sorted(API_VERSIONS))}'.",
        )
    action = CHANGE_STATE if change else READ
    if action in fake.state.denied:
        who = fake.state.principal
        return arm_error(
            403,
            "AuthorizationFailed",
            f"The client '{who}' with object id '{who}' does not have authorization to perform "
            f"action '{action}' over scope '{found.group('scope')}' or the scope is invalid. If "
            "access was recently granted, please refresh your credentials.",
        )
    alert = fake.state.alerts.get(found.group("alert").lower())
    if alert is None or alert.subscription_id.lower() != found.group("sub").lower():
        return arm_error(
            404, "ResourceNotFound", f"The alert '{found.group('alert')}' could not be found."
        )
    if not change:
        return json_response(alert.to_json())
    return _change_state(request, fake.state, alert, body)


def _change_state(
    request: web.Request, state: AlertsState, alert: AzureAlert, body: Any
) -> web.Response:
    new = request.query.get("newState", "")
    if new not in STATES:
        return arm_error(
            400,
            "BadRequest",
            f"Invalid value '{new}' for newState; expected one of {', '.join(STATES)}.",
        )
    comment = None
    if isinstance(body, dict):
        comment = body.get("comments") or body.get("comment")
    now = datetime.now(UTC)
    state.changes.append(
        StateChange(alert.id, alert.alert_state, new, state.principal, comment, now)
    )
    alert.alert_state, alert.modified, alert.modified_by = new, now, state.principal
    return json_response(alert.to_json())


def _authenticate(request: web.Request, fake: FakeAlertsManagement) -> web.Response | None:
    token = bearer(request)
    if token is None:
        return arm_error(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        )
    audience = fake.tokens.audience_of(token)
    if audience is None:
        return arm_error(401, "InvalidAuthenticationToken", "The access token is invalid.")
    if audience not in (ARM_AUDIENCE, "https://management.core.windows.net"):
        return arm_error(
            401,
            "InvalidAuthenticationTokenAudience",
            f"The access token has been obtained for wrong audience or resource '{audience}'. It "
            "should exactly match with one of the allowed audiences "
            "'https://management.core.windows.net/','https://management.azure.com/'.",
        )
    return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
