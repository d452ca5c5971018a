"""Background governance audit events: access reviews, entitlement management, groups, workflows.

Each builder turns one occurrence at time `t` into its audit events (a request
becomes request -> approval -> fulfilment -> group add -> custom extension).
All outcomes are the ordinary ones; failures worth an alert are planted elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
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
    group_target,
    prop,
    target,
    user_target,
)
from bot.workspace.demo.catalog import WORKFLOWS, AccessPackage, Group, Person
from bot.workspace.demo.timeline import HOUR, guid

REVIEWS: Final = (
    ("Quarterly review - Finance Systems Access", "0b1d43a5-6b62-4b7e-9d0a-1f2f0c6d5a11"),
    ("Guest access review - Fabrikam Collaboration", "3c6f2d9e-8a41-4c55-b1e2-7d90a4e3c222"),
    ("Privileged roles - monthly attestation", "5e8a7b10-2c3d-4f6e-9a1b-3c4d5e6f7a33"),
    ("Sales EMEA group membership review", "7a9b0c1d-4e5f-4a6b-8c7d-9e0f1a2b3c44"),
)
_JUSTIFICATIONS: Final = (
    "Needed for the Q3 close",
    "Joining the project team",
    "Covering for a colleague on leave",
    "New role in the department",
    "Customer escalation support",
)
#: Hours between two scheduled runs of a lifecycle workflow (the service default).
WORKFLOW_INTERVAL: Final = timedelta(hours=3)


def review_decision(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    name, review_id = ctx.rng.choice(REVIEWS)
    activity = "Approve decision" if ctx.rng.random() < 0.85 else "Deny decision"
    reviewer, reviewed = ctx.admin(), ctx.person()
    targets = [target(review_id, "Other", name), user_target(reviewed)]
    details = [detail("ReviewedEntity", reviewed.upn), detail("Justification", "Still required")]
    return [event(ctx.rng, t, activity, by_admin(reviewer), targets, details=details)]


def review_change(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    name, review_id = ctx.rng.choice(REVIEWS)
    activity = "Update access review" if ctx.rng.random() < 0.7 else "Create access review"
    props = [prop("Reviewers", ["Group owners"], ["Group owners", "Managers"])]
    targets = [target(review_id, "Other", name, props=props)]
    return [event(ctx.rng, t, activity, by_admin(ctx.admin()), targets)]


def review_ended(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    """A recurring review closes: ended, auto-applied, and denied users removed."""
    name, review_id = ctx.rng.choice(REVIEWS)
    app, review = by_app(ctx.catalog.reviews_app), target(review_id, "Other", name)
    events = [event(ctx.rng, t, "Access review ended", app, [review])]
    applied = ctx.later(t, 60, 600)
    events.append(event(ctx.rng, applied, "Auto apply review", app, [review]))
    for _ in range(ctx.rng.randint(0, 3)):
        when = ctx.later(applied, 5, 120)
        events.append(
            event(ctx.rng, when, "Apply decision", app, [review, user_target(ctx.person())])
        )
    return events


def package_request(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    """A user asks for an access package; most are approved and fulfilled."""
    package, requestor = _package(ctx, t), ctx.person()
    targets = [_package_target(package), target(guid(ctx.rng), "Other"), user_target(requestor)]
    details = [detail("Justification", ctx.rng.choice(_JUSTIFICATIONS))]
    events = [
        event(
            ctx.rng,
            t,
            "User requests access package assignment",
            ctx.by_self(requestor),
            targets,
            details=details,
        )
    ]
    if package.needs_approval:
        t = ctx.later(t, 900, 5 * 3600)
        approved = ctx.rng.random() < 0.88
        verdict = "Approve" if approved else "Deny"
        activity = f"{verdict} access package assignment request"
        events.append(event(ctx.rng, t, activity, by_admin(ctx.admin()), targets))
        if not approved:
            return events
    return events + _fulfil(ctx, ctx.later(t, 30, 180), package, requestor)


def direct_assignment(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    package, person = _package(ctx, t), ctx.person()
    targets = [_package_target(package), user_target(person)]
    activity = "Administrator directly assigns user to access package"
    first = event(ctx.rng, t, activity, by_admin(ctx.admin()), targets)
    return [first, *_fulfil(ctx, ctx.later(t, 20, 120), package, person)]


def failed_request(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    package, person = _package(ctx, t), ctx.person()
    targets = [_package_target(package), user_target(person)]
    reason = "The user is not in the allowed requestor scope anymore"
    activity = "Failed access package assignment request"
    app = by_app(ctx.catalog.governance_app)
    return [event(ctx.rng, t, activity, app, targets, result="failure", reason=reason)]


def package_update(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    package = ctx.rng.choice(ctx.catalog.packages)
    props = [prop("Description", "Access for the team", f"Access to {package.group.name}")]
    targets = [target(package.id, "Other", package.name, props=props)]
    return [event(ctx.rng, t, "Update access package", by_admin(ctx.admin()), targets)]


def _package(ctx: AuditContext, t: datetime) -> AccessPackage:
    """Any package, except that no governance add to a watched group lands in the quiet window
    (the seed query reads InitiatedBy.user, so it would count the service principal's adds)."""
    quiet_start, quiet_end = ctx.timeline.quiet
    packages = ctx.catalog.packages
    if quiet_start - 8 * HOUR <= t < quiet_end:
        packages = tuple(p for p in packages if not p.group.watched)
    return ctx.rng.choice(packages)


def _package_target(package: AccessPackage) -> Json:
    return target(package.id, "Other", package.name)


def _fulfil(
    ctx: AuditContext, t: datetime, package: AccessPackage, person: Person
) -> list[AuditEvent]:
    """Fulfilment by the governance service principal: group add, then the custom extension."""
    app = by_app(ctx.catalog.governance_app)
    targets = [_package_target(package), user_target(person)]
    events = [event(ctx.rng, t, "Fulfill access package assignment request", app, targets)]
    events.append(group_add(ctx, ctx.later(t, 2, 40), app, person, package.group))
    if package.extension is not None:
        ext_id = ctx.catalog.extension_ids[package.extension]
        ext_targets = [target(ext_id, "Other", package.extension), *targets]
        when = ctx.later(t, 30, 150)
        events.append(event(ctx.rng, when, "Execute custom extension", app, ext_targets))
    return events


def group_add(
    ctx: AuditContext, t: datetime, initiated_by: Json, person: Person, group: Group
) -> AuditEvent:
    """'Add member to group': TargetResources[0] the user, [1] the group (seed 000 reads [1].id)."""
    props = [prop("Group.ObjectID", None, group.id), prop("Group.DisplayName", None, group.name)]
    targets = [user_target(person, props), group_target(group)]
    return event(ctx.rng, t, "Add member to group", initiated_by, targets)


def person_group_add(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    """A person adds someone to an ordinary (not watched) group."""
    group = ctx.rng.choice(ctx.catalog.other_groups)
    return [group_add(ctx, t, by_admin(ctx.admin()), ctx.person(), group)]


def person_group_remove(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    group, person = ctx.rng.choice(ctx.catalog.other_groups), ctx.person()
    props = [prop("Group.ObjectID", group.id, None), prop("Group.DisplayName", group.name, None)]
    targets = [user_target(person, props), group_target(group)]
    return [event(ctx.rng, t, "Remove member from group", by_admin(ctx.admin()), targets)]


def workflow_runs(ctx: AuditContext) -> Iterator[AuditEvent]:
    """Every workflow runs on its schedule; each run logs started and completed (success)."""
    for index, name in enumerate(WORKFLOWS):
        t = ctx.timeline.start + timedelta(minutes=17 + 31 * index)
        while t < ctx.timeline.now:
            yield from workflow_run(ctx, t, name)
            t += WORKFLOW_INTERVAL


def workflow_run(
    ctx: AuditContext, t: datetime, name: str, *, failed_users: int = 0
) -> list[AuditEvent]:
    app = by_app(ctx.catalog.workflows_app)
    targets = [target(ctx.catalog.workflow_ids[name], "Other", name)]
    users = ctx.rng.randint(0, 6) + failed_users
    started = event(ctx.rng, t, "Scheduled workflow execution started", app, targets)
    details = [
        detail("WorkflowVersion", "3"),
        detail("UsersProcessed", str(users)),
        detail("UsersFailed", str(failed_users)),
    ]
    result, reason = (
        ("failure", f"{failed_users} of {users} users failed") if failed_users else ("success", "")
    )
    done = ctx.later(t, 40, 400)
    completed = event(
        ctx.rng,
        done,
        "Scheduled workflow execution completed",
        app,
        targets,
        details=details,
        result=result,
        reason=reason,
    )
    return [started, completed]


def on_demand_workflow(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    name = ctx.rng.choice(WORKFLOWS)
    targets = [target(ctx.catalog.workflow_ids[name], "Other", name), user_target(ctx.person())]
    activity = "On-demand workflow execution completed"
    return [event(ctx.rng, t, activity, by_admin(ctx.admin()), targets)]


def workflow_update(ctx: AuditContext, t: datetime) -> list[AuditEvent]:
    name = ctx.rng.choice(WORKFLOWS)
    props = [prop("Description", "Runs for new joiners", "Runs for new joiners and rehires")]
    targets = [target(ctx.catalog.workflow_ids[name], "Other", name, props=props)]
    return [event(ctx.rng, t, "Update workflow", by_admin(ctx.admin()), targets)]
