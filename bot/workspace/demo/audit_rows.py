"""AuditLogs records: the event type, the Graph directoryAudit JSON shapes, and the row layout.

Shapes follow Graph's directoryAudit (camelCase inside the dynamic columns); the
`oldValue`/`newValue` of modified properties are JSON text inside a string.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from bot.workspace.demo.catalog import Admin, App, Catalog, Group, Person
from bot.workspace.demo.timeline import Timeline, fmt, guid

Json = dict[str, Any]

#: Compact JSON, as Log Analytics stores it (json.dumps would build an encoder per call).
_COMPACT: Final = json.JSONEncoder(separators=(",", ":"))

#: First octets of consumer ISP ranges the demo users connect from.
_CONSUMER_NETS: Final = (31, 77, 81, 86, 92, 109, 145, 176, 188, 213)
_REVIEWS: Final = ("Policy", "Access Reviews")
_EM: Final = ("EntitlementManagement", "Entitlement Management")
_GROUPS: Final = ("GroupManagement", "Core Directory")
_LCW: Final = ("WorkflowManagement", "Lifecycle Workflows")
_PIM: Final = ("RoleManagement", "PIM")
_ACCESS: Final = ("CrossTenantAccessSettings", "Core Directory")
_SYNC: Final = ("CrossTenantIdentitySyncSettings", "Core Directory")
_PROVISIONING: Final = ("ProvisioningManagement", "Account Provisioning")
_METHODS: Final = ("UserManagement", "Authentication Methods")

#: (Category, LoggedByService, AADOperationType) per activity.
ACTIVITIES: Final[dict[str, tuple[str, str, str]]] = {
    # Access reviews
    "Create access review": (*_REVIEWS, "Add"),
    "Update access review": (*_REVIEWS, "Update"),
    "Delete access review": (*_REVIEWS, "Delete"),
    "Access review ended": (*_REVIEWS, "Other"),
    "Approve decision": (*_REVIEWS, "Update"),
    "Deny decision": (*_REVIEWS, "Update"),
    "Apply decision": (*_REVIEWS, "Update"),
    "Apply review": ("UserManagement", "Access Reviews", "Other"),
    "Auto apply review": ("UserManagement", "Access Reviews", "Other"),
    # Entitlement management
    "User requests access package assignment": (*_EM, "Add"),
    "Approve access package assignment request": (*_EM, "Update"),
    "Deny access package assignment request": (*_EM, "Update"),
    "Fulfill access package assignment request": (*_EM, "Update"),
    "Failed access package assignment request": (*_EM, "Update"),
    "Administrator directly assigns user to access package": (*_EM, "Add"),
    "Create connected organization": (*_EM, "Add"),
    "Update connected organization": (*_EM, "Update"),
    "Execute custom extension": (*_EM, "Other"),
    "Update access package": (*_EM, "Update"),
    # Groups
    "Add member to group": (*_GROUPS, "Assign"),
    "Remove member from group": (*_GROUPS, "Unassign"),
    # Lifecycle workflows
    "Scheduled workflow execution started": (*_LCW, "Other"),
    "Scheduled workflow execution completed": (*_LCW, "Other"),
    "On-demand workflow execution completed": (*_LCW, "Other"),
    "Update workflow": (*_LCW, "Update"),
    # PIM
    "Add member to role requested (PIM activation)": (*_PIM, "Add"),
    "Add member to role completed (PIM activation)": (*_PIM, "Add"),
    "Add member to role outside of PIM (permanent)": (*_PIM, "Add"),
    "Update role setting in PIM": (*_PIM, "Update"),
    "Triggered PIM alert": (*_PIM, "Other"),
    "Resolve PIM alert": (*_PIM, "Update"),
    "Disable PIM alert": (*_PIM, "Update"),
    # Cross-tenant
    "Add a partner to cross-tenant access setting": (*_ACCESS, "Add"),
    "Update a partner cross-tenant access setting": (*_ACCESS, "Update"),
    "Create a partner cross-tenant identity sync setting": (*_SYNC, "Add"),
    "Update a partner cross-tenant identity sync setting": (*_SYNC, "Update"),
    # Provisioning configuration
    "Add provisioning configuration": (*_PROVISIONING, "Add"),
    "Disable/pause provisioning configuration": (*_PROVISIONING, "Update"),
    "Enable/restart provisioning configuration": (*_PROVISIONING, "Update"),
    "Enable/start provisioning configuration": (*_PROVISIONING, "Update"),
    "Update attribute mappings or scope": (*_PROVISIONING, "Update"),
    "Update provisioning setting or credentials": (*_PROVISIONING, "Update"),
    "Quarantine": (*_PROVISIONING, "Other"),
    # Security info (seed 004)
    "Reset user password": ("UserManagement", "Core Directory", "Update"),
    "Reset password (self-service)": (
        "UserManagement",
        "Self-service Password Management",
        "Update",
    ),
    "User registered security info": (*_METHODS, "Add"),
    "User deleted security info": (*_METHODS, "Delete"),
    "User changed default security info": (*_METHODS, "Update"),
    "Admin registered security info": (*_METHODS, "Add"),
}


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One AuditLogs record before formatting. `lag_ms`: ActivityDateTime precedes TimeGenerated."""

    time: datetime
    activity: str
    initiated_by: Json
    targets: list[Json]
    id: str
    correlation_id: str
    lag_ms: int
    details: list[Json] = field(default_factory=list)
    result: str = "success"
    result_reason: str = ""


def event(
    rng: random.Random,
    time: datetime,
    activity: str,
    initiated_by: Json,
    targets: list[Json],
    *,
    details: list[Json] | None = None,
    result: str = "success",
    reason: str = "",
    correlation_id: str | None = None,
) -> AuditEvent:
    """A new event with fresh ids from `rng`."""
    if activity not in ACTIVITIES:
        raise KeyError(f"unknown audit activity {activity!r}")
    return AuditEvent(
        time=time,
        activity=activity,
        initiated_by=initiated_by,
        targets=targets,
        id=guid(rng),
        correlation_id=correlation_id or guid(rng),
        lag_ms=rng.randrange(0, 2500),
        details=details or [],
        result=result,
        result_reason=reason,
    )


def by_admin(admin: Admin) -> Json:
    return by_user(admin.person, admin.ip_address)


def by_user(person: Person, ip_address: str | None = None) -> Json:
    user: Json = {
        "id": person.object_id,
        "displayName": None,
        "userPrincipalName": person.upn,
        "ipAddress": ip_address,
        "roles": [],
    }
    return {"user": user}


def by_app(app: App) -> Json:
    return {
        "app": {
            "appId": app.app_id,
            "displayName": app.name,
            "servicePrincipalId": app.sp_id,
            "servicePrincipalName": None,
        }
    }


def target(
    id: str,
    kind: str,
    name: str | None = None,
    *,
    upn: str | None = None,
    props: list[Json] | None = None,
) -> Json:
    return {
        "id": id,
        "displayName": name,
        "type": kind,
        "userPrincipalName": upn,
        "modifiedProperties": props or [],
        "administrativeUnits": [],
    }


def user_target(person: Person, props: list[Json] | None = None) -> Json:
    return target(person.object_id, "User", upn=person.upn, props=props)


def group_target(group: Group) -> Json:
    return target(group.id, "Group", group.name)


def prop(name: str, old: Any, new: Any) -> Json:
    """A modified property; values are JSON-encoded into strings as Entra does (None stays null)."""
    return {
        "displayName": name,
        "oldValue": None if old is None else json.dumps(old),
        "newValue": None if new is None else json.dumps(new),
    }


def detail(key: str, value: str) -> Json:
    return {"key": key, "value": value}


def initiator_name(initiated_by: Json) -> str:
    if "user" in initiated_by:
        return str(initiated_by["user"]["userPrincipalName"])
    return str(initiated_by["app"]["displayName"])


def audit_row(ev: AuditEvent, catalog: Catalog) -> tuple[str, ...]:
    """The record in bot.workspace.schema.AUDIT_LOGS column order, as CSV text fields."""
    category, service, operation_type = ACTIVITIES[ev.activity]
    failed = ev.result != "success"
    return (
        catalog.workspace_id,  # TenantId: the Log Analytics workspace
        "Azure AD",
        fmt(ev.time),
        f"/tenants/{catalog.tenant_id}/providers/Microsoft.aadiam",
        ev.activity,
        "1.0",
        category,
        ev.result,  # ResultType
        "None",  # ResultSignature
        ev.result_reason if failed else "",
        "0",
        ev.correlation_id,
        "Microsoft.aadiam",
        "Microsoft.aadiam",
        "Microsoft.aadiam",
        initiator_name(ev.initiated_by),
        "4",
        "EU",
        _dump(ev.details),
        ev.id,
        _dump(ev.initiated_by),
        service,
        ev.result,
        ev.result_reason,
        _dump(ev.targets),
        catalog.tenant_id,
        ev.activity,
        fmt(ev.time - timedelta(milliseconds=ev.lag_ms)),
        operation_type,
        "AuditLogs",
    )


def _dump(value: Any) -> str:
    return _COMPACT.encode(value)


@dataclass(frozen=True)
class AuditContext:
    """What background and planted audit builders draw on."""

    rng: random.Random
    catalog: Catalog
    timeline: Timeline

    def person(self) -> Person:
        return self.rng.choice(self.catalog.people)

    def admin(self) -> Admin:
        return self.rng.choice(self.catalog.admins)

    def by_self(self, person: Person) -> Json:
        """The person acting on their own account, from a home or mobile network address."""
        octets = (self.rng.choice(_CONSUMER_NETS), *(self.rng.randrange(1, 255) for _ in range(3)))
        return by_user(person, ".".join(map(str, octets)))

    def later(self, t: datetime, low_s: float, high_s: float) -> datetime:
        return t + timedelta(seconds=self.rng.uniform(low_s, high_s))
