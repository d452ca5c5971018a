"""The 20 KQL queries of seeds 000 and 001, verbatim, and how to fill their placeholders.

Shared by the seed-query tests and the benchmark. `fill` only replaces the
placeholders and the typographic quotes (and the seed's `resultType`, which is
`ResultType` in Log Analytics); every other character is the seed's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.workspace.demo import DemoManifest


@dataclass(frozen=True)
class SeedQuery:
    key: str
    source: str
    title: str
    kql: str


@dataclass(frozen=True)
class Placeholders:
    """Demo values that stand in for the seeds' `<input ...>` markers."""

    group_ids: tuple[str, str]
    custom_extension_names: tuple[str, str]
    workflow_names: tuple[str, str]
    failure_job_id: str
    source_identity_id: str
    cross_tenant_job_id: str
    scim_job_id: str


SEED_QUERIES: tuple[SeedQuery, ...] = (
    SeedQuery(
        "access_review_deleted",
        "000",
        "Access review deleted",
        '''AuditLogs
| where ActivityDisplayName == " Delete access review"''',
    ),
    SeedQuery(
        "direct_group_add",
        "000",
        "User directly added to a group",
        '''AuditLogs
| where parse_json(tostring(TargetResources[1].id)) in ("InputGroupID", "InputGroupID")
| where ActivityDisplayName == "Add member to group"
| extend ActorName = tostring(InitiatedBy.user.displayName)
| where ActorName != "Azure AD Identity Governance - User Management"''',
    ),
    SeedQuery(
        "connected_org_created",
        "000",
        "Connected organization created",
        """AuditLogs
| where ActivityDisplayName == "Create connected organization"
| mv-expand AdditionalDetails
| extend key = AdditionalDetails.key, value = AdditionalDetails.value
| extend tostring(key) == "Description"
| where key == "Description"
| parse value with * "\\n" TenantID 
| distinct TenantID""",
    ),
    SeedQuery(
        "custom_extension",
        "000",
        "Custom extension (seed filters success)",
        """AuditLogs
| where ActivityDisplayName == "Execute custom extension"
| where Result == "success"
| mvexpand TargetResources 
| extend  CustomExtensionName=TargetResources.displayName
| where CustomExtensionName in ('<input custom exteionsion name>', '<input custom extension name>')""",
    ),
    SeedQuery(
        "workflow_failure",
        "000",
        "Lifecycle workflow failure",
        """AuditLogs
| where Category == "WorkflowManagement"
| where ActivityDisplayName in ('On-demand workflow execution completed', 'Scheduled workflow execution completed')
| where Result == "failure"
| mvexpand TargetResources 
| extend  WorkflowName=TargetResources.displayName
| where WorkflowName in ('<input workflow name>', '<input workflow name>')
| distinct Id""",
    ),
    SeedQuery(
        "cross_tenant_partner_added",
        "000",
        "Cross-tenant access partner added",
        """AuditLogs
| where OperationName == "Add a partner to cross-tenant access setting"
| where parse_json(tostring(TargetResources[0].modifiedProperties))[0].displayName == "tenantId"
| extend initiating_user=parse_json(tostring(InitiatedBy.user)).userPrincipalName
| extend source_ip=parse_json(tostring(InitiatedBy.user)).ipAddress
| extend target_tenant=parse_json(tostring(TargetResources[0].modifiedProperties))[0].newValue
| project TimeGenerated, OperationName,initiating_user,source_ip, AADTenantId,target_tenant
| project-rename source_tenant= AADTenantId""",
    ),
    SeedQuery(
        "cross_tenant_sync_enabled",
        "000",
        "Cross-tenant sync enabled",
        '''AuditLogs
| where OperationName == "Update a partner cross-tenant identity sync setting"
| extend a = tostring(TargetResources)
| where a contains "true"
| where parse_json(tostring(TargetResources[0].modifiedProperties))[0].newValue contains "true"''',
    ),
    SeedQuery(
        "pim_alert_disabled",
        "000",
        "PIM alert disabled",
        '''AuditLogs
| where ActivityDisplayName == "Disable PIM alert"''',
    ),
    SeedQuery(
        "provisioning_failure_spike",
        "000",
        "Provisioning failures for a job",
        """AADProvisioningLogs
| where JobId == “<input JobId>”
| where resultType == “Failure”""",
    ),
    SeedQuery(
        "provisioning_config_changed",
        "000",
        "Provisioning configuration changed",
        """AuditLogs
| where ActivityDisplayName in ('Add provisioning configuration','Delete provisioning configuration','Disable/pause provisioning configuration', 'Enable/restart provisioning configuration', 'Enable/start provisioning configuration')""",
    ),
    SeedQuery(
        "events_for_source_identity",
        "001",
        "Events for a source identity",
        '''AADProvisioningLogs
| extend SourceIdentity = parse_json(SourceIdentity)
| where tostring(SourceIdentity.Id) == "49a4974bb-5011-415d-b9b8-78caa7024f9a"''',
    ),
    SeedQuery(
        "count_by_error_code",
        "001",
        "Count per error code",
        """AADProvisioningLogs
| summarize count() by ErrorCode = ResultSignature""",
    ),
    SeedQuery(
        "actions_per_day",
        "001",
        "Events per day by action",
        """AADProvisioningLogs
| where TimeGenerated > ago(7d)
| summarize count() by Action, bin(TimeGenerated, 1d)""",
    ),
    SeedQuery(
        "key_properties",
        "001",
        "Key properties of group events",
        """AADProvisioningLogs
| extend SourceIdentity = parse_json(SourceIdentity)
| extend TargetIdentity = parse_json(TargetIdentity)
| extend ServicePrincipal = parse_json(ServicePrincipal)
| where tostring(SourceIdentity.identityType) == "Group"
| project tostring(ServicePrincipal.Id), tostring(ServicePrincipal.Name), ModifiedProperties, JobId, Id, CycleId, ChangeId, Action, SourceIdentity.identityType, SourceIdentity.details, TargetIdentity.identityType, TargetIdentity.details, ProvisioningSteps
| take 100""",
    ),
    SeedQuery(
        "unresolved_group_members",
        "001",
        "Groups with unresolved members",
        """AADProvisioningLogs
| where TimeGenerated >= ago(10d)
| where JobId == "Azure2Azure.73f0883f-d67d-4af1-ac8a-45367f8982e0.5ef3be57-f45f-451g-88c4-68a7fda680bb" // Customize by adding a specific app JobId
| extend SourceIdentity = parse_json(SourceIdentity)
| extend ProvisioningSteps = parse_json(ProvisioningSteps)
| where tostring(SourceIdentity.identityType) == "Group"
| where ProvisioningSteps matches regex "UnableToResolveReferenceAttributeValue"
| parse tostring(ProvisioningSteps.[2].description) with "We were unable to assign " userObjectId " as the members of " groupDisplayName "." *
| project groupDisplayName, userObjectId,  JobId
| take 100""",
    ),
    SeedQuery(
        "actions_by_app",
        "001",
        "Actions by application",
        """AADProvisioningLogs
| where TimeGenerated > ago(30d)
| where JobId == "Azure2Azure.73f0883f-d67d-4af1-ac8a-45367f8982e0.5ef3be57-f45f-451g-88c4-68a7fda680bb" // Customize by adding a specific app JobId
| extend ProvisioningSteps = parse_json(ProvisioningSteps)
| extend eventName = tostring(ProvisioningSteps.[-1].name)
| summarize count() by eventName, JobId
| order by JobId asc
| take 5""",
    ),
    SeedQuery(
        "operation_spikes",
        "001",
        "Spikes in operations (time chart)",
        """AADProvisioningLogs
| where TimeGenerated > ago(30d)
| where JobId == "scim.73f0883f-d67d-4af1-ac8a-45367f8982e0.5ef3be57-f45f-451g-88c4-68a7fda680bb" // Customize by adding a specific app JobId
| extend ProvisioningSteps = parse_json(ProvisioningSteps)
| extend eventName = tostring(ProvisioningSteps.[-1].name)
| summarize count() by eventName, bin(TimeGenerated, 1d)
| render timechart""",
    ),
    SeedQuery(
        "failure_spike_alert",
        "001",
        "Alert: failures for a job",
        '''AADProvisioningLogs
| where JobId == "string" // Customize by adding a specific app JobId
| where ResultType == "Failure"''',
    ),
    SeedQuery(
        "no_events_alert",
        "001",
        "Alert: no provisioning events",
        """AADProvisioningLogs
| take 1""",
    ),
    SeedQuery(
        "disables_deletes_alert",
        "001",
        "Alert: disables and deletes",
        """AADProvisioningLogs
| where Action in ("Disable", "Delete")""",
    ),
)

_SAMPLE_JOB_SUFFIX = ".73f0883f-d67d-4af1-ac8a-45367f8982e0.5ef3be57-f45f-451g-88c4-68a7fda680bb"


def fill(query: SeedQuery, values: Placeholders) -> str:
    """The seed's text with its placeholders replaced by demo values."""
    replacements = {
        '("InputGroupID", "InputGroupID")': _kql_list(values.group_ids, '"'),
        "('<input custom exteionsion name>', '<input custom extension name>')": _kql_list(
            values.custom_extension_names, "'"
        ),
        "('<input workflow name>', '<input workflow name>')": _kql_list(values.workflow_names, "'"),
        "“<input JobId>”": f'"{values.failure_job_id}"',
        "resultType == “Failure”": 'ResultType == "Failure"',
        '"49a4974bb-5011-415d-b9b8-78caa7024f9a"': f'"{values.source_identity_id}"',
        f'"Azure2Azure{_SAMPLE_JOB_SUFFIX}"': f'"{values.cross_tenant_job_id}"',
        f'"scim{_SAMPLE_JOB_SUFFIX}"': f'"{values.scim_job_id}"',
        'JobId == "string"': f'JobId == "{values.failure_job_id}"',
    }
    text = query.kql
    for placeholder, value in replacements.items():
        text = text.replace(placeholder, value)
    return text


def placeholders(manifest: DemoManifest) -> Placeholders:
    """The demo values that stand in for the seeds' placeholders."""
    running = (job for job in manifest.jobs if job.job_id != manifest.still_paused_job_id)
    by_kind = {job.kind: job.job_id for job in running}
    return Placeholders(
        group_ids=(manifest.watched_group_ids[0], manifest.watched_group_ids[-1]),
        custom_extension_names=(
            manifest.failing_custom_extension,
            manifest.custom_extension_names[0],
        ),
        workflow_names=(manifest.failing_workflow, manifest.workflow_names[0]),
        failure_job_id=manifest.failure_spike_job_id,
        source_identity_id=manifest.lookup_source_identity_id,
        cross_tenant_job_id=manifest.unresolved_group_job_id,
        scim_job_id=by_kind["scim_app"],
    )


def _kql_list(items: tuple[str, str], quote: str) -> str:
    return "(" + ", ".join(f"{quote}{item}{quote}" for item in items) + ")"
