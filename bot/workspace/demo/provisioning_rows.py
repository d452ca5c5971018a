"""AADProvisioningLogs records: a provisioning change and how the service writes it down.

Every identity, system and step column is a string of compact JSON (published
queries `parse` it as text, e.g. `"identityType":"User"`). Steps follow Graph's
provisioningStep: {name, provisioningStepType, status, description, details}.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from bot.workspace.demo.catalog import Catalog, Group, JobDef, Person
from bot.workspace.demo.provisioning_text import (
    ERRORS,
    attribute_changes,
    create_props,
    disable_props,
    verb,
)
from bot.workspace.demo.timeline import fmt, guid

Json = dict[str, Any]

#: Compact JSON, as Log Analytics stores it (json.dumps would build an encoder per call).
_COMPACT: Final = json.JSONEncoder(separators=(",", ":"))

#: The step that writes the change, per action (the last step's name, which seed 001 counts).
_EXPORT_STEP: Final = {
    "Create": "EntryExportAdd",
    "Update": "EntryExportUpdate",
    "Disable": "EntryExportUpdateSoftDelete",
    "Delete": "EntryExportDelete",
    "StagedDelete": "EntryExportStagedDelete",
}
_CHANGE_TYPE: Final = {"Create": "Add", "Delete": "Delete", "StagedDelete": "Delete"}
_SCOPED: Final = {
    "Active in the source system": "True",
    "Assigned to the application": "True",
    "User has the required role": "True",
    "Scoping filter evaluation passed": "True",
}
_OUT_OF_SCOPE: Final = {
    **_SCOPED,
    "Assigned to the application": "False",
    "Scoping filter evaluation passed": "False",
}


@dataclass(frozen=True, slots=True)
class Change:
    """One object the provisioning service processed in a cycle."""

    job: JobDef
    cycle_id: str
    time: datetime
    action: str  # Create, Update, Delete, Disable, StagedDelete, Other
    result: str  # Success, Failure, Skipped
    subject: Person | Group
    error: str = "None"
    member_id: str = ""  # the member that could not be resolved (group reference failures)
    out_of_scope: bool = False

    @property
    def subject_id(self) -> str:
        subject = self.subject
        return subject.object_id if isinstance(subject, Person) else subject.id


class RowWriter:
    """Formats changes as rows; caches each job's constant JSON and each identity's JSON."""

    def __init__(self, catalog: Catalog, rng: random.Random) -> None:
        self._catalog = catalog
        self._rng = rng
        self._identities: dict[tuple[str, str], tuple[str, str, str]] = {}
        self._constants = {job.key: _job_constants(catalog, job) for job in catalog.jobs}
        app = catalog.provisioning_app
        self._initiated_by = _dump({"Id": app.sp_id, "Name": app.name, "Type": "Application"})

    def row(self, change: Change) -> tuple[str, ...]:
        """The record in bot.workspace.schema.AAD_PROVISIONING_LOGS column order."""
        job, rng = change.job, self._rng
        source, target, label = self._identity(change)
        steps, description, status = _steps(change, label)
        service_principal, source_system, target_system = self._constants[job.key]
        action = "Other" if change.result == "Skipped" else change.action
        return (
            self._catalog.workspace_id,
            fmt(change.time),
            self._catalog.tenant_id,
            action,
            fmt(change.time - timedelta(milliseconds=rng.randrange(200, 4000))),
            guid(rng),
            guid(rng),
            change.cycle_id,
            str(_duration(rng, change.result)),
            guid(rng),
            self._initiated_by,
            job.job_id,
            _dump(_modified(change, rng)),
            "Provisioning activity",
            "1.0",
            "ProvisioningLogs",
            action,
            _dump(status),
            _dump(steps),
            change.result,
            change.error,
            description,
            service_principal,
            source,
            source_system,
            target,
            target_system,
            "AADProvisioningLogs",
        )

    def _identity(self, change: Change) -> tuple[str, str, str]:
        key = (change.job.key, change.subject_id)
        if key not in self._identities:
            self._identities[key] = _identities(change)
        return self._identities[key]


def _job_constants(catalog: Catalog, job: JobDef) -> tuple[str, str, str]:
    return (
        _dump({"Id": job.app.sp_id, "Name": job.app.name}),
        _dump({"Id": job.source_id, "Name": job.source_name, "Details": {}}),
        _dump({"Id": job.target_id, "Name": job.target_name, "Details": {}}),
    )


def _identities(change: Change) -> tuple[str, str, str]:
    """(SourceIdentity, TargetIdentity, the label the step texts use)."""
    if isinstance(change.subject, Person):
        return _user_identities(change.job, change.subject)
    return _group_identities(change.job, change.subject)


def _user_identities(job: JobDef, person: Person) -> tuple[str, str, str]:
    entra = _identity(
        person.object_id,
        person.upn,
        "User",
        {"DisplayName": person.display_name, "UserPrincipalName": person.upn},
    )
    if job.kind == "hr_inbound":
        details = {"EmployeeID": person.employee_id, "DisplayName": person.display_name}
        worker = _identity(person.workday_id, person.display_name, "User", details)
        return worker, entra, person.display_name
    if job.kind == "onprem_ad":
        dn = f"CN={person.display_name},OU=Users,OU={person.office},DC=corp,DC=woodgrove,DC=com"
        details = {"DistinguishedName": dn, "sAMAccountName": person.upn.split("@")[0][:20]}
        return _identity(person.ad_guid, person.display_name, "User", details), entra, person.upn
    remote_id = str(uuid.uuid5(uuid.UUID(job.app.sp_id), person.object_id))
    if job.kind == "cross_tenant_sync":
        guest = person.upn.replace("@", "_") + "#EXT#@fabrikam.onmicrosoft.com"
        remote = _identity(
            remote_id,
            person.display_name,
            "User",
            {"UserPrincipalName": guest, "userType": "Member"},
        )
    else:
        remote = _identity(remote_id, person.upn, "User", {"userName": person.upn})
    return entra, remote, person.upn


def _group_identities(job: JobDef, group: Group) -> tuple[str, str, str]:
    source = _identity(group.id, group.name, "Group", {"DisplayName": group.name})
    remote_id = str(uuid.uuid5(uuid.UUID(job.app.sp_id), group.id))
    return (
        source,
        _identity(remote_id, group.name, "Group", {"DisplayName": group.name}),
        group.name,
    )


def _identity(id: str, name: str, kind: str, details: Json) -> str:
    return _dump({"Id": id, "Name": name, "identityType": kind, "details": details})


def _steps(change: Change, label: str) -> tuple[list[Json], str, Json]:
    """(ProvisioningSteps, ResultDescription, ProvisioningStatusInfo)."""
    job, kind = change.job, "User" if isinstance(change.subject, Person) else "Group"
    change_type = _CHANGE_TYPE.get(change.action, "Update")
    steps = [
        _step(
            "EntryImport",
            "import",
            "success",
            f"Received {kind} '{label}' change of type ({change_type}) from {job.source_name}",
        ),
        _step(
            "EntrySynchronizationScoping",
            "scoping",
            "skipped" if change.out_of_scope else "success",
            f"Determine if {kind} in scope by evaluating against each scoping filter",
            _OUT_OF_SCOPE if change.out_of_scope else _SCOPED,
        ),
    ]
    if change.result == "Skipped":
        return _skipped(steps, change, kind, label)
    if change.error == "UnableToResolveReferenceAttributeValue":
        return _unresolved(steps, change, label)
    matched = (
        f"No matching {kind} was found in {job.target_name}"
        if change.action == "Create"
        else f"Retrieved '{label}' from {job.target_name}"
    )
    steps.append(_step("EntryImport", "matching", "success", matched))
    return _exported(steps, change, kind, label)


def _skipped(
    steps: list[Json], change: Change, kind: str, label: str
) -> tuple[list[Json], str, Json]:
    if change.out_of_scope:
        text = (
            f"The {kind} '{label}' will be skipped as it is not in scope (NotEffectivelyEntitled)"
        )
    else:
        text = (
            f"The state of the {kind.lower()} in both the source and target systems already "
            f"match. No change to the {kind} '{label}' currently needs to be made."
        )
    steps.append(_step("EntrySynchronizationSkip", "export", "skipped", text))
    return steps, text, {"status": "skipped"}


def _unresolved(steps: list[Json], change: Change, label: str) -> tuple[list[Json], str, Json]:
    """Seed 001 parses steps[2].description as
    'We were unable to assign <id> as the members of <group>. ...'."""
    target = change.job.target_name
    reference = (
        f"We were unable to assign {change.member_id} as the members of {label}. "
        f"The member is not in scope for provisioning or has not been provisioned to "
        f"{target} yet."
    )
    steps.append(
        _step(
            "EntryReferenceResolution",
            "referenceResolution",
            "failure",
            reference,
            {
                "ReferenceAttribute": "members",
                "UnresolvedReference": change.member_id,
                "ErrorCode": change.error,
            },
        )
    )
    steps.append(_step("EntryImport", "matching", "success", f"Retrieved '{label}' from {target}"))
    text = f"Failed to update Group '{label}' in {target}; 1 member could not be resolved"
    details = {"ReportableIdentifier": label, "ErrorCode": change.error}
    steps.append(_step("EntryExportUpdate", "export", "failure", text, details))
    return steps, text, _failure_status(change.error, reference)


def _exported(
    steps: list[Json], change: Change, kind: str, label: str
) -> tuple[list[Json], str, Json]:
    target, name = change.job.target_name, _EXPORT_STEP[change.action]
    details = {"ReportableIdentifier": label}
    if change.result == "Failure":
        reason, _, _ = ERRORS[change.error]
        text = f"Failed to {verb(change.action)} {kind} '{label}' in {target}; Error: {reason}"
        steps.append(_step(name, "export", "failure", text, {**details, "ErrorCode": change.error}))
        return steps, text, _failure_status(change.error, reason)
    text = f"{kind} '{label}' was {verb(change.action, past=True)} in {target}"
    steps.append(_step(name, "export", "success", text, details))
    return steps, text, {"status": "success"}


def _failure_status(code: str, reason: str) -> Json:
    _, category, action = ERRORS[code]
    info = {
        "errorCode": code,
        "reason": reason,
        "additionalDetails": "",
        "errorCategory": category,
        "recommendedAction": action,
    }
    return {"status": "failure", "errorInformation": info}


def _step(name: str, kind: str, status: str, description: str, details: Json | None = None) -> Json:
    return {
        "name": name,
        "provisioningStepType": kind,
        "status": status,
        "description": description,
        "details": details or {},
    }


def _modified(change: Change, rng: random.Random) -> list[Json]:
    person = change.subject
    if change.result == "Skipped" or not isinstance(person, Person):
        return []
    if change.action == "Create":
        return create_props(change.job.kind, person)
    if change.action == "Disable":
        return disable_props(change.job.kind)
    if change.action == "Update":
        return attribute_changes(change.job.kind, person, rng)
    return []


def _duration(rng: random.Random, result: str) -> int:
    if result == "Failure":
        return rng.randrange(800, 30_000)
    return rng.randrange(15, 400) if result == "Skipped" else rng.randrange(90, 2800)


def _dump(value: Any) -> str:
    return _COMPACT.encode(value)
