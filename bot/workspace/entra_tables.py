"""The other Entra and Sentinel identity tables that published rules join with.

Sentinel rules over AuditLogs often join SigninLogs, IdentityInfo or
BehaviorAnalytics. The demo workspace carries these tables empty, with the
columns and types of the Azure Monitor Logs table reference
(learn.microsoft.com/azure/azure-monitor/reference/tables/<table>), so such
queries validate and run (on no rows) instead of failing on an unknown table.
Self-contained on purpose: `create_empty` is the one hook the workspace calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, cast

import duckdb

from bot.workspace.base import ColumnType

_DUCKDB: Final[dict[str, str]] = {
    "string": "VARCHAR",
    "long": "BIGINT",
    "int": "INTEGER",
    "real": "DOUBLE",
    "bool": "BOOLEAN",
    "datetime": "TIMESTAMP",
    "dynamic": "JSON",
}

_SIGN_IN_COMMON: Final = """
TenantId:string SourceSystem:string TimeGenerated:datetime ResourceId:string OperationName:string
OperationVersion:string Category:string ResultType:string ResultSignature:string
ResultDescription:string DurationMs:long CorrelationId:string ResourceGroup:string
Identity:string Level:string Location:string AADTenantId:string AppId:string Id:string
IPAddress:string ResourceDisplayName:string ResourceIdentity:string
ResourceServicePrincipalId:string ServicePrincipalId:string ServicePrincipalName:string
UniqueTokenIdentifier:string ConditionalAccessStatus:string AuthenticationProcessingDetails:string
Type:string
"""

_USER_SIGN_IN: Final = """
AlternateSignInName:string AppDisplayName:string AuthenticationContextClassReferences:string
AuthenticationDetails:string AuthenticationMethodsUsed:string AuthenticationProtocol:string
AuthenticationRequirement:string AuthenticationRequirementPolicies:string
AutonomousSystemNumber:string ClientAppUsed:string CreatedDateTime:datetime
CrossTenantAccessType:string FlaggedForReview:bool HomeTenantId:string IncomingTokenType:string
IsInteractive:bool IsRisky:bool NetworkLocationDetails:string OriginalRequestId:string
ProcessingTimeInMilliseconds:string ResourceTenantId:string RiskDetail:string
RiskEventTypes:string RiskEventTypes_V2:string RiskLevelAggregated:string
RiskLevelDuringSignIn:string RiskState:string SessionLifetimePolicies:string
SignInIdentifier:string SignInIdentifierType:string TokenIssuerName:string
TokenIssuerType:string UserAgent:string UserDisplayName:string UserId:string
UserPrincipalName:string UserType:string
"""

#: SigninLogs carries these as dynamic; AADNonInteractiveUserSignInLogs as strings.
_USER_SIGN_IN_DETAILS: Final = [
    "ConditionalAccessPolicies",
    "DeviceDetail",
    "LocationDetails",
    "MfaDetail",
    "Status",
]

_SERVICE_PRINCIPAL_SIGN_IN: Final = """
ConditionalAccessPolicies:string FederatedCredentialId:string LocationDetails:string
ServicePrincipalCredentialKeyId:string ServicePrincipalCredentialThumbprint:string
"""

_SPECS: Final = {
    "AADUserRiskEvents": """
TenantId:string Activity:string ActivityDateTime:datetime AdditionalInfo:dynamic
CorrelationId:string DetectedDateTime:datetime DetectionTimingType:string Id:string
IpAddress:string LastUpdatedDateTime:datetime Location:dynamic OperationName:string
RequestId:string RiskDetail:string RiskEventType:string RiskLevel:string RiskState:string
Source:string SourceSystem:string TimeGenerated:datetime TokenIssuerType:string
UserDisplayName:string UserId:string UserPrincipalName:string Type:string
""",
    "IdentityInfo": """
TenantId:string AccountCloudSID:string AccountCreationTime:datetime AccountDisplayName:string
AccountDomain:string AccountName:string AccountObjectId:string AccountSID:string
AccountTenantId:string AccountUPN:string AdditionalMailAddresses:dynamic AssignedRoles:dynamic
BlastRadius:string ChangeSource:string City:string CompanyName:string Country:string
DeletedDateTime:datetime Department:string EmployeeId:string ExtensionProperty:dynamic
GivenName:string GroupMembership:dynamic IsAccountEnabled:bool IsMFARegistered:bool
IsServiceAccount:bool JobTitle:string MailAddress:string Manager:string
OnPremisesDistinguishedName:string Phone:string RiskLevel:string RiskLevelDetails:string
RiskState:string SourceSystem:string State:string StreetAddress:string Surname:string
Tags:dynamic TimeGenerated:datetime UserAccountControl:dynamic UserState:string
UserStateChangedOn:datetime UserType:string Type:string
""",
    "BehaviorAnalytics": """
TenantId:string ActionType:string ActivityInsights:dynamic ActivityType:string
DestinationDevice:string DestinationIPAddress:string DestinationIPLocation:string
DevicesInsights:dynamic EventSource:string EventVendor:string InvestigationPriority:int
SourceDevice:string SourceIPAddress:string SourceIPLocation:string SourceRecordId:string
SourceSystem:string TimeGenerated:datetime UserName:string UserPrincipalName:string
UsersInsights:dynamic Type:string
""",
    "SecurityAlert": """
TenantId:string AlertLink:string AlertName:string AlertSeverity:string AlertType:string
CompromisedEntity:string ConfidenceLevel:string ConfidenceScore:real Description:string
DisplayName:string EndTime:datetime Entities:string ExtendedLinks:string
ExtendedProperties:string IsIncident:bool ProcessingEndTime:datetime ProductComponentName:string
ProductName:string ProviderName:string RemediationSteps:string ResourceId:string
SourceComputerId:string SourceSystem:string StartTime:datetime Status:string SubTechniques:string
SystemAlertId:string Tactics:string Techniques:string TimeGenerated:datetime VendorName:string
VendorOriginalId:string WorkspaceResourceGroup:string WorkspaceSubscriptionId:string Type:string
""",
}


def _columns(*specs: str) -> Mapping[str, ColumnType]:
    columns: dict[str, ColumnType] = {}
    for spec in specs:
        for item in spec.split():
            name, kind = item.split(":")
            columns.setdefault(name, cast(ColumnType, kind))
    return MappingProxyType(columns)


def _details(kind: str) -> str:
    return " ".join(f"{name}:{kind}" for name in _USER_SIGN_IN_DETAILS)


OTHER_TABLES: Final[Mapping[str, Mapping[str, ColumnType]]] = MappingProxyType(
    {
        "SigninLogs": _columns(_SIGN_IN_COMMON, _USER_SIGN_IN, _details("dynamic")),
        "AADNonInteractiveUserSignInLogs": _columns(
            _SIGN_IN_COMMON, _USER_SIGN_IN, _details("string")
        ),
        "AADServicePrincipalSignInLogs": _columns(_SIGN_IN_COMMON, _SERVICE_PRINCIPAL_SIGN_IN),
        "AADManagedIdentitySignInLogs": _columns(_SIGN_IN_COMMON, _SERVICE_PRINCIPAL_SIGN_IN),
        **{table: _columns(spec) for table, spec in _SPECS.items()},
    }
)


def create_empty(con: duckdb.DuckDBPyConnection, schema: str) -> None:
    """Create the tables above in `schema`, empty, where they do not exist yet."""
    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    for table, columns in OTHER_TABLES.items():
        ddl = ", ".join(f'"{name}" {_DUCKDB[kind]}' for name, kind in columns.items())
        con.execute(f'CREATE TABLE IF NOT EXISTS "{schema}"."{table}" ({ddl})')
