"""Column names and Log Analytics types of the Entra tables we query.

One source for the embedded engine's DDL, the demo generator and rule validation
(unknown-column warnings). Order follows the Log Analytics table reference.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from bot.workspace.base import ColumnType
from bot.workspace.entra_tables import OTHER_TABLES

AUDIT_LOGS: Final = MappingProxyType[str, ColumnType](
    {
        "TenantId": "string",
        "SourceSystem": "string",
        "TimeGenerated": "datetime",
        "ResourceId": "string",
        "OperationName": "string",
        "OperationVersion": "string",
        "Category": "string",
        "ResultType": "string",
        "ResultSignature": "string",
        "ResultDescription": "string",
        "DurationMs": "long",
        "CorrelationId": "string",
        "Resource": "string",
        "ResourceGroup": "string",
        "ResourceProvider": "string",
        "Identity": "string",
        "Level": "string",
        "Location": "string",
        "AdditionalDetails": "dynamic",
        "Id": "string",
        "InitiatedBy": "dynamic",
        "LoggedByService": "string",
        "Result": "string",
        "ResultReason": "string",
        "TargetResources": "dynamic",
        "AADTenantId": "string",
        "ActivityDisplayName": "string",
        "ActivityDateTime": "datetime",
        "AADOperationType": "string",
        "Type": "string",
    }
)

#: Identity, system and step columns are strings holding JSON in this table, which
#: is why published queries wrap them in parse_json(). `Action` is not in the
#: reference but Microsoft's own sample queries use it, so the demo carries both.
AAD_PROVISIONING_LOGS: Final = MappingProxyType[str, ColumnType](
    {
        "TenantId": "string",
        "TimeGenerated": "datetime",
        "AADTenantId": "string",
        "Action": "string",
        "ActivityDateTime": "datetime",
        "ChangeId": "string",
        "CorrelationId": "string",
        "CycleId": "string",
        "DurationMs": "long",
        "Id": "string",
        "InitiatedBy": "string",
        "JobId": "string",
        "ModifiedProperties": "string",
        "OperationName": "string",
        "OperationVersion": "string",
        "Category": "string",
        "ProvisioningAction": "string",
        "ProvisioningStatusInfo": "string",
        "ProvisioningSteps": "string",
        "ResultType": "string",
        "ResultSignature": "string",
        "ResultDescription": "string",
        "ServicePrincipal": "string",
        "SourceIdentity": "string",
        "SourceSystem": "string",
        "TargetIdentity": "string",
        "TargetSystem": "string",
        "Type": "string",
    }
)

TABLES: Final = MappingProxyType(
    {"AuditLogs": AUDIT_LOGS, "AADProvisioningLogs": AAD_PROVISIONING_LOGS}
)

#: Every table rule validation knows: the two above, which the demo fills, and the
#: other Entra tables published rules join with (empty in the demo workspace).
KNOWN_TABLES: Final = MappingProxyType({**TABLES, **OTHER_TABLES})
