"""Background directory audit events: PIM, cross-tenant, provisioning configuration, security info.

Cross-tenant identity sync updates here never set the first modified property to
true (that is the planted alert); provisioning-configuration changes here are
never start/stop/delete (those are alerts too).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from bot.workspace.demo.audit_rows import (
    AuditContext,
    AuditEvent,
    Json,
    by_admin,
    by_app,
    detail,
    event,
    prop,
    target,
    user_target,
)
from bot.workspace.demo.catalog import ROLES, JobDef, Person

PIM_ALERTS: Final = (
    "Roles are being assigned outside of Privileged Identity Management",
    "Potential stale accounts in a privileged role",
    "There are too many global administrators",
    "Roles don't require multifactor authentication for activation",
    "Administrators aren't using their privileged roles",
)
_REASONS: Final = (
    "Change CHG0041235: mailbox migration",
    "Incident INC0098811 investigation",
    "Monthly license clean-up",
    "Onboarding batch for new hires",
    "Conditional Access policy review",
)
_METHODS: Final = (
    ("Authenticator App with Notification and Code", 0.5),
    ("Mobile Phone SMS", 0.2),
    ("FIDO2 security key", 0.1),
    ("Passkey in Microsoft Authenticator", 0.1),
    ("Email", 0.1),
)
#: The partner whose settings admins routinely touch (never the planted new partner).
LITWARE: Final = ("Litware Inc", "6f1c4a2b-9d8e-4f70-a1b2-c3d4e5f60718")


def pim_activation(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    admin = ctx.admin()
    role, template_id = ctx.rng.choice(ROLES[1:])
    start, hours = t, ctx.rng.choice((1, 2, 4, 8))
    targets = [target(template_id, "Role", role), user_target(admin.person)]
    details = [
        detail("Justification", ctx.rng.choice(_REASONS)),
        detail("StartTime", start.strftime("%Y-%m-%dT%H:%M:%SZ")),
        detail("ExpirationTime", (start + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")),
    ]
    requested = event(
        ctx.rng,
        t,
        "Add member to role requested (PIM activation)",
        by_admin(admin),
        targets,
        details=details,
    )
    done = ctx.later(t, 3, 45)
    completed = event(
        ctx.rng,
        done,
        "Add member to role completed (PIM activation)",
        by_app(ctx.catalog.pim_app),
        targets,
        details=details,
        correlation_id=requested.correlation_id,
    )
    return [requested, completed]


def pim_alert_triggered(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    alert = ctx.rng.choice(PIM_ALERTS)
    activity = "Triggered PIM alert" if ctx.rng.random() < 0.75 else "Resolve PIM alert"
    targets = [target(ctx.catalog.tenant_id, "Other", alert)]
    return [event(ctx.rng, t, activity, by_app(ctx.catalog.pim_app), targets)]


def pim_setting(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    role, template_id = ctx.rng.choice(ROLES)
    props = [prop("ActivationMaximumDuration", "PT8H", "PT4H")]
    targets = [target(template_id, "Role", role, props=props)]
    return [event(ctx.rng, t, "Update role setting in PIM", by_admin(ctx.admin()), targets)]


def pim_outside(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    role, template_id = ctx.rng.choice(ROLES[5:])
    targets = [target(template_id, "Role", role), user_target(ctx.person())]
    activity = "Add member to role outside of PIM (permanent)"
    return [event(ctx.rng, t, activity, by_admin(ctx.admin()), targets)]


def partner_access_update(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    """A routine edit of an existing partner's B2B settings."""
    name, tenant = LITWARE
    props = [
        prop("tenantId", tenant, tenant),
        prop(
            "b2bCollaborationInbound", {"usersAndGroups": "AllUsers"}, {"usersAndGroups": "Group"}
        ),
    ]
    targets = [target(tenant, "Policy", name, props=props)]
    activity = "Update a partner cross-tenant access setting"
    return [event(ctx.rng, t, activity, by_admin(ctx.admin()), targets)]


def partner_sync_update(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    """Inbound sync stays off for Litware: the first property's new value is [false]."""
    name, tenant = LITWARE
    props = [
        prop("userSyncInbound.isSyncAllowed", [True], [False]),
        prop("displayName", name, name),
    ]
    targets = [target(tenant, "Policy", name, props=props)]
    activity = "Update a partner cross-tenant identity sync setting"
    return [event(ctx.rng, t, activity, by_admin(ctx.admin()), targets)]


def provisioning_target(job: JobDef) -> Json:
    return target(job.app.sp_id, "ServicePrincipal", job.app.name)


def mapping_update(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    job = ctx.rng.choice(ctx.catalog.jobs)
    activity = ctx.rng.choice(
        ("Update attribute mappings or scope",) * 3
        + ("Update provisioning setting or credentials",)
    )
    targets = [provisioning_target(job)]
    details = [detail("JobId", job.job_id), detail("User-Agent", "Microsoft Entra admin center")]
    return [event(ctx.rng, t, activity, by_admin(ctx.admin()), targets, details=details)]


def security_info(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    """Users registering, changing and removing authentication methods."""
    person = ctx.person()
    method = ctx.rng.choices([m for m, _ in _METHODS], weights=[w for _, w in _METHODS])[0]
    roll = ctx.rng.random()
    if roll < 0.65:
        activity, reason = "User registered security info", f"User registered {method}"
    elif roll < 0.9:
        activity = "User changed default security info"
        reason = f"User changed default sign in method to {method}"
    else:
        activity, reason = "User deleted security info", f"User deleted {method}"
    return [event(ctx.rng, t, activity, ctx.by_self(person), [user_target(person)], reason=reason)]


def admin_security_info(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    reason = "Admin registered temporary access pass method for user"
    targets = [user_target(ctx.person())]
    return [
        event(
            ctx.rng,
            t,
            "Admin registered security info",
            by_admin(ctx.admin()),
            targets,
            reason=reason,
        )
    ]


def self_service_reset(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    person = ctx.person()
    failed = ctx.rng.random() < 0.1
    result = "failure" if failed else "success"
    reason = (
        "User did not pass the verification challenge"
        if failed
        else ("User successfully reset password")
    )
    return [
        event(
            ctx.rng,
            t,
            "Reset password (self-service)",
            ctx.by_self(person),
            [user_target(person)],
            result=result,
            reason=reason,
        )
    ]


def admin_reset(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    return [password_reset(ctx, t, ctx.person())]


def password_reset(ctx: AuditContext, t: datetime, person: Person) -> AuditEvent:
    return event(ctx.rng, t, "Reset user password", by_admin(ctx.admin()), [user_target(person)])
