"""The planted incidents: what each seed alert should find in the recent window, and rare history.

Every planted scenario lies at a fixed offset before `now` (SCENARIO_OFFSETS), so a rule
evaluated a little before `now` still sees it:

    10:00 ago  Add a partner to cross-tenant access setting (Northwind Traders)
    9:50-9:45  Create, then Update a partner cross-tenant identity sync setting (-> [true])
    9:00-8:50  Scheduled workflow execution started, then completed with failure (failing workflow)
    8:00-now   the on-premises AD job (AD2AADProvisioning) logs nothing: its agent went silent
    7:00       Create connected organization (Tailspin Toys; Description "<text>\n<tenant id>")
    6:40-5:50  a Fabrikam cross-tenant group whose member cannot be resolved (first cycle in span)
    6:20, 6:05 Execute custom extension failed twice (failing custom extension)
    5:00-3:00  25 ServiceNow failures (Unauthorized: its token expired)
    4:15       Delete access review
    4:00-3:00  60 Workday "Disable" actions in one hour (a mistaken bulk termination)
    3:30       a person adds a user to the first watched group
    2:50-2:35  ServiceNow paused, credentials updated, restarted
    2:30       Disable PIM alert
    1:45       an admin resets the lookup user's password (seed 004); 1:20 they register a method
    0:04-0:03  an admin resets the Agents Playground user's password, then a sign-in method is
               registered for them (the notice `make run` shows in their Personal Chat)

History outside both windows (when the history is long enough): an access review deleted
20 days ago, a watched-group add by a person 16 days ago, Litware's connected organization
25 days ago and its partner entry 22 days ago, Fabrikam's sync enabled 27 days ago, a custom
extension failure 18 days ago, a workflow failure 8 days ago, a PIM alert disabled 17 days
ago and a ServiceNow pause/restart 19 days ago.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bot.workspace.demo import audit_directory as directory
from bot.workspace.demo.audit_governance import REVIEWS, group_add, workflow_run
from bot.workspace.demo.audit_rows import (
    AuditContext,
    AuditEvent,
    by_admin,
    by_app,
    by_user,
    detail,
    event,
    prop,
    target,
    user_target,
)
from bot.workspace.demo.catalog import FAILING_EXTENSION, FAILING_WORKFLOW, Catalog, Person
from bot.workspace.demo.timeline import Timeline, guid

_H, _M = timedelta(hours=1), timedelta(minutes=1)

#: Scenario -> (start, end) as offsets before now: the planted rows lie in [now - start, now - end].
SCENARIO_OFFSETS: Final[dict[str, tuple[timedelta, timedelta]]] = {
    "cross_tenant_partner_added": (10 * _H, 10 * _H),
    "cross_tenant_sync_enabled": (9 * _H + 50 * _M, 9 * _H + 45 * _M),
    "workflow_failure": (9 * _H, 8 * _H + 50 * _M),
    "silent_job": (8 * _H, 0 * _H),
    "connected_org_created": (7 * _H, 7 * _H),
    "unresolved_group_member": (6 * _H + 40 * _M, 5 * _H + 50 * _M),
    "custom_extension_failure": (6 * _H + 20 * _M, 6 * _H + 5 * _M),
    "failure_spike": (5 * _H, 3 * _H),
    "delete_access_review": (4 * _H + 15 * _M, 4 * _H + 15 * _M),
    "disable_spike": (4 * _H, 3 * _H),
    "watched_group_add": (3 * _H + 30 * _M, 3 * _H + 30 * _M),
    "provisioning_config_changed": (2 * _H + 50 * _M, 2 * _H + 35 * _M),
    "pim_alert_disabled": (2 * _H + 30 * _M, 2 * _H + 30 * _M),
    "password_reset": (1 * _H + 45 * _M, 1 * _H + 45 * _M),
    "account_security_notice": (4 * _M, 3 * _M),
}
#: ServiceNow's maintenance pause 19 days ago (start, end before now), in both tables.
HISTORY_PAUSE: Final = (timedelta(days=19, hours=2), timedelta(days=19, hours=1, minutes=45))
FAILURE_SPIKE_COUNT: Final = 25
DISABLE_SPIKE_COUNT: Final = 60
CONNECTED_ORG: Final = ("Tailspin Toys", "Tailspin Toys - supplier portal access")
NEW_PARTNER: Final = "Northwind Traders"
PIM_ALERT: Final = "Roles are being assigned outside of Privileged Identity Management"


@dataclass(frozen=True)
class Planted:
    """Tenant ids and people the planted scenarios use (also reported in the manifest)."""

    connected_org_tenant_id: str
    partner_tenant_id: str
    watched_add_user: Person
    lookup_user: Person
    unresolved_member: Person
    unresolved_group: str


def at(timeline: Timeline, name: str, which: int = 0) -> datetime:
    return timeline.now - SCENARIO_OFFSETS[name][which]


def planted_audit(ctx: AuditContext, planted: Planted) -> list[AuditEvent]:
    """Scenarios 2-10 of the brief, plus the password reset of seed 004, in time order."""
    t, c, admin = ctx.timeline, ctx.catalog, by_admin(ctx.admin())
    events = [
        *_partner_added(ctx, at(t, "cross_tenant_partner_added"), planted.partner_tenant_id),
        *_sync_enabled(ctx, t, planted.partner_tenant_id),
        *workflow_run(ctx, at(t, "workflow_failure"), FAILING_WORKFLOW, failed_users=2),
        _connected_org(ctx, at(t, "connected_org_created"), planted.connected_org_tenant_id),
        *_extension_failures(ctx, t),
        *_pause_and_restart(ctx, t),
        _review_deleted(ctx, at(t, "delete_access_review"), REVIEWS[1]),
        group_add(
            ctx, at(t, "watched_group_add"), admin, planted.watched_add_user, c.watched_groups[0]
        ),
        _pim_alert_disabled(ctx, at(t, "pim_alert_disabled")),
        directory.password_reset(ctx, at(t, "password_reset"), planted.lookup_user),
    ]
    return [_exact(e, t) for e in events]


def _exact(ev: AuditEvent, timeline: Timeline) -> AuditEvent:
    if not timeline.in_recent(ev.time):
        raise RuntimeError(f"planted {ev.activity!r} at {ev.time} is outside the recent window")
    return ev


def _partner_added(ctx: AuditContext, t: datetime, tenant: str) -> list[AuditEvent]:
    """Seed 000 reads modifiedProperties[0] {displayName: tenantId, newValue: "\"<tenant>\""}."""
    props = [
        prop("tenantId", None, tenant),
        prop("b2bCollaborationInbound", None, {"usersAndGroups": "AllUsers"}),
    ]
    targets = [target(tenant, "Policy", NEW_PARTNER, props=props)]
    activity = "Add a partner to cross-tenant access setting"
    return [event(ctx.rng, t, activity, by_admin(ctx.catalog.admins[0]), targets)]


def _sync_enabled(ctx: AuditContext, timeline: Timeline, tenant: str) -> list[AuditEvent]:
    admin = by_admin(ctx.catalog.admins[0])
    created = event(
        ctx.rng,
        at(timeline, "cross_tenant_sync_enabled"),
        "Create a partner cross-tenant identity sync setting",
        admin,
        [target(tenant, "Policy", NEW_PARTNER, props=[prop("tenantId", None, tenant)])],
    )
    props = [prop("userSyncInbound.isSyncAllowed", [False], [True])]
    updated = event(
        ctx.rng,
        at(timeline, "cross_tenant_sync_enabled", 1),
        "Update a partner cross-tenant identity sync setting",
        admin,
        [target(tenant, "Policy", NEW_PARTNER, props=props)],
    )
    return [created, updated]


def _connected_org(ctx: AuditContext, t: datetime, tenant: str) -> AuditEvent:
    """Seed 000 parses the Description detail: `parse value with * "\\n" TenantID`."""
    org_id = guid(ctx.rng)
    name, description = CONNECTED_ORG
    details = [
        detail("ConnectedOrganizationId", org_id),
        detail("Description", f"{description}\n{tenant}"),
        detail("State", "configured"),
    ]
    targets = [target(org_id, "Other", name)]
    activity = "Create connected organization"
    return event(ctx.rng, t, activity, by_admin(ctx.admin()), targets, details=details)


def extension_failure(ctx: AuditContext, t: datetime, name: str) -> AuditEvent:
    package = next(p for p in ctx.catalog.packages if p.extension == name)
    person = ctx.person()
    targets = [
        target(ctx.catalog.extension_ids[name], "Other", name),
        target(package.id, "Other", package.name),
        user_target(person),
    ]
    reason = "The Logic App returned HTTP 502 Bad Gateway; the custom extension call failed"
    return event(
        ctx.rng,
        t,
        "Execute custom extension",
        by_app(ctx.catalog.governance_app),
        targets,
        result="failure",
        reason=reason,
    )


def _extension_failures(ctx: AuditContext, timeline: Timeline) -> list[AuditEvent]:
    first = at(timeline, "custom_extension_failure")
    retry = at(timeline, "custom_extension_failure", 1)
    return [
        extension_failure(ctx, first, FAILING_EXTENSION),
        extension_failure(ctx, retry, FAILING_EXTENSION),
    ]


def pause_and_restart(
    ctx: AuditContext, start: datetime, end: datetime, job_key: str, change: str
) -> list[AuditEvent]:
    """An admin pauses a job, changes it and restarts it (the pause and restart are alerts)."""
    job, admin = ctx.catalog.job(job_key), by_admin(ctx.catalog.admins[1])
    steps = (
        (start, "Disable/pause provisioning configuration"),
        (start + (end - start) / 3, change),
        (end, "Enable/restart provisioning configuration"),
    )
    targets, details = [directory.provisioning_target(job)], [detail("JobId", job.job_id)]
    return [event(ctx.rng, t, name, admin, targets, details=details) for t, name in steps]


def _pause_and_restart(ctx: AuditContext, timeline: Timeline) -> list[AuditEvent]:
    """After the failure spike, an admin pauses ServiceNow, renews its token and restarts it."""
    start = at(timeline, "provisioning_config_changed")
    end = at(timeline, "provisioning_config_changed", 1)
    change = "Update provisioning setting or credentials"
    return pause_and_restart(ctx, start, end, "servicenow", change)


def _review_deleted(ctx: AuditContext, t: datetime, review: tuple[str, str]) -> AuditEvent:
    name, review_id = review
    targets = [target(review_id, "Other", name)]
    return event(ctx.rng, t, "Delete access review", by_admin(ctx.admin()), targets)


def _pim_alert_disabled(ctx: AuditContext, t: datetime) -> AuditEvent:
    targets = [target(ctx.catalog.tenant_id, "Other", PIM_ALERT)]
    details = [detail("AlertName", PIM_ALERT), detail("Scope", "Directory roles")]
    return event(ctx.rng, t, "Disable PIM alert", by_admin(ctx.admin()), targets, details=details)


def history(ctx: AuditContext, catalog: Catalog) -> Iterator[AuditEvent]:
    """Rare earlier occurrences of alert events, kept out of the recent and quiet windows."""
    day, t = timedelta(days=1), ctx.timeline
    admin = by_admin(catalog.admins[2])
    litware_name, litware = directory.LITWARE
    candidates: list[AuditEvent] = [
        _review_deleted(ctx, t.ago(20 * day), REVIEWS[3]),
        group_add(ctx, t.ago(16 * day + 3 * _H), admin, ctx.person(), catalog.watched_groups[1]),
        event(
            ctx.rng,
            t.ago(25 * day),
            "Create connected organization",
            admin,
            [target(guid(ctx.rng), "Other", litware_name)],
            details=[detail("Description", f"{litware_name} consultants\n{litware}")],
        ),
        extension_failure(ctx, t.ago(18 * day + 2 * _H), "Notify payroll Logic App"),
        *workflow_run(ctx, t.ago(8 * day + 5 * _H), "Post-offboarding cleanup", failed_users=1),
        event(
            ctx.rng,
            t.ago(22 * day),
            "Add a partner to cross-tenant access setting",
            admin,
            [target(litware, "Policy", litware_name, props=[prop("tenantId", None, litware)])],
        ),
        event(
            ctx.rng,
            t.ago(27 * day),
            "Update a partner cross-tenant identity sync setting",
            admin,
            [
                target(
                    catalog.fabrikam_tenant_id,
                    "Policy",
                    "Fabrikam",
                    props=[prop("userSyncInbound.isSyncAllowed", [False], [True])],
                )
            ],
        ),
        _pim_alert_disabled(ctx, t.ago(17 * day + 4 * _H)),
        *pause_and_restart(
            ctx,
            t.ago(HISTORY_PAUSE[0]),
            t.ago(HISTORY_PAUSE[1]),
            "servicenow",
            "Update attribute mappings or scope",
        ),
    ]
    return (e for e in candidates if t.outside_windows(e.time))


def lookup_followup(ctx: AuditContext, person: Person, t: datetime) -> AuditEvent:
    """After the admin reset, the user registers a new method (seed 004's follow-up event)."""
    reason = "User registered Authenticator App with Notification and Code"
    return event(
        ctx.rng,
        t,
        "User registered security info",
        ctx.by_self(person),
        [user_target(person)],
        reason=reason,
    )


#: The Agents Playground's current user (tools/playground/admin.yml `currentUser`; a test
#: keeps the two in step): the person the planted account-security notice is for.
PLAYGROUND_USER: Final = Person(
    index=-1,
    object_id="0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    display_name="Alex Wilber",
    given_name="Alex",
    surname="Wilber",
    upn="alexw@contoso.example",
    employee_id="",
    workday_id="",
    ad_guid="",
    department="IT",
    job_title="Identity administrator",
    office="",
    from_ad=False,
)


def account_security_notice(ctx: AuditContext) -> list[AuditEvent]:
    """An admin resets the Playground user's password, then a method is registered in their
    name from an unfamiliar address (seed 004's pair): one notice for both."""
    t, person = ctx.timeline, PLAYGROUND_USER
    reset = directory.password_reset(ctx, at(t, "account_security_notice"), person)
    registered = event(
        ctx.rng,
        at(t, "account_security_notice", 1),
        "User registered security info",
        by_user(person, "203.0.113.77"),
        [user_target(person)],
        reason="User registered Authenticator App with Notification and Code",
    )
    return [_exact(reset, t), _exact(registered, t)]
