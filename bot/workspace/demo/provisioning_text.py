"""Words of the provisioning logs: error codes and texts, attribute names per job kind, verbs."""

from __future__ import annotations

import random
from typing import Any, Final

from bot.workspace.demo.catalog import Person
from bot.workspace.demo.timeline import guid

Json = dict[str, Any]

#: ResultSignature -> (reason, errorCategory, recommendedAction), codes from facts.md.
ERRORS: Final[dict[str, tuple[str, str, str]]] = {
    "EntryConflict": (
        "An object with the same matching attribute value already exists in the target system",
        "NonServiceFailure",
        "Resolve the duplicate in the target system or change the matching attribute.",
    ),
    "Conflict": (
        "The target system returned HTTP 409 Conflict for this request",
        "NonServiceFailure",
        "Check the target system for a conflicting object.",
    ),
    "TooManyRequests": (
        "The target system throttled the request (HTTP 429); it will be retried in the next cycle",
        "TransientServiceFailure",
        "No action needed unless the error persists.",
    ),
    "InternalServerError": (
        "The target system returned HTTP 500 Internal Server Error",
        "TransientServiceFailure",
        "Retry later; contact the application vendor if it persists.",
    ),
    "InsufficientRights": (
        "The credentials used by the provisioning service lack the rights to change this object",
        "NonServiceFailure",
        "Grant the provisioning account the required role in the application.",
    ),
    "Unauthorized": (
        "The target system rejected the admin credentials (HTTP 401 Unauthorized); the secret "
        "token may have expired",
        "NonServiceFailure",
        "Update the secret token under Admin Credentials and test the connection.",
    ),
    "InvalidAnchor": (
        "The anchor attribute of the object is missing or changed in the source system",
        "NonServiceFailure",
        "Make sure the source anchor attribute is populated and stable.",
    ),
    "MandatoryFieldsMissing": (
        "Mandatory attributes are missing: the source record has no value for 'mail'",
        "NonServiceFailure",
        "Populate the attribute in the source or add a default value mapping.",
    ),
    "SchemaAttributeNotFound": (
        "The target schema has no attribute "
        "'urn:ietf:params:scim:schemas:extension:woodgrove:2.0:User:costCenter'",
        "NonServiceFailure",
        "Fix the attribute mapping or extend the target schema.",
    ),
    "Timeout": (
        "The request to the target system timed out after 30 seconds",
        "TransientServiceFailure",
        "No action needed unless the error persists.",
    ),
    "LicenseLimitExceeded": (
        "The application has no licenses left to assign to this user",
        "NonServiceFailure",
        "Buy more licenses or remove unused assignments in the application.",
    ),
    "DuplicateTargetEntries": (
        "More than one object in the target system matched this object",
        "NonServiceFailure",
        "Remove the duplicate objects from the target system.",
    ),
    "DuplicateSourceEntries": (
        "More than one source object has the same matching attribute value",
        "NonServiceFailure",
        "Make the matching attribute unique in the source system.",
    ),
    "AzureActiveDirectoryDuplicateUserPrincipalName": (
        "Another object in Microsoft Entra ID already uses this userPrincipalName",
        "NonServiceFailure",
        "Change the userPrincipalName mapping to generate a unique value.",
    ),
    "AzureActiveDirectoryCannotUpdateObjectsOriginatedInExternalService": (
        "The object is synchronized from on-premises Active Directory and cannot be updated here",
        "NonServiceFailure",
        "Update the object in its source of authority.",
    ),
    "AzureDirectoryB2BManagementPolicyCheckFailure": (
        "The target tenant's cross-tenant access policy does not allow this user to be "
        "synchronized",
        "NonServiceFailure",
        "Ask the target tenant to allow inbound sync for your tenant.",
    ),
    "UnableToResolveReferenceAttributeValue": (
        "A referenced member could not be found in the target system",
        "NonServiceFailure",
        "Provision the member first or bring it into scope.",
    ),
}

#: Error codes each job kind tends to hit in everyday operation.
ERRORS_BY_KIND: Final = {
    "hr_inbound": (
        "AzureActiveDirectoryDuplicateUserPrincipalName",
        "MandatoryFieldsMissing",
        "InvalidAnchor",
        "DuplicateSourceEntries",
    ),
    "scim_app": (
        "EntryConflict",
        "Conflict",
        "TooManyRequests",
        "InternalServerError",
        "SchemaAttributeNotFound",
        "Timeout",
        "LicenseLimitExceeded",
        "DuplicateTargetEntries",
    ),
    "cross_tenant_sync": (
        "AzureDirectoryB2BManagementPolicyCheckFailure",
        "EntryConflict",
        "AzureActiveDirectoryCannotUpdateObjectsOriginatedInExternalService",
    ),
    "onprem_ad": (
        "EntryConflict",
        "AzureActiveDirectoryDuplicateUserPrincipalName",
        "InvalidAnchor",
        "TooManyRequests",
    ),
}

#: Entra ID's attribute names: the target of HR-inbound and cross-tenant sync jobs alike.
_ENTRA_ATTRIBUTES: Final[dict[str, str]] = {
    "department": "department",
    "title": "jobTitle",
    "office": "physicalDeliveryOfficeName",
    "manager": "manager",
    "enabled": "accountEnabled",
    "given": "givenName",
    "surname": "surname",
}

#: Logical attribute -> its name in the target, per job kind.
_ATTRIBUTES: Final[dict[str, dict[str, str]]] = {
    "hr_inbound": _ENTRA_ATTRIBUTES,
    "scim_app": {
        "department": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        "title": "title",
        "office": 'addresses[type eq "work"].locality',
        "manager": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        "enabled": "active",
        "given": "name.givenName",
        "surname": "name.familyName",
    },
    "cross_tenant_sync": _ENTRA_ATTRIBUTES,
    "onprem_ad": {
        "department": "Department",
        "title": "JobTitle",
        "office": "PhysicalDeliveryOfficeName",
        "manager": "Manager",
        "enabled": "AccountEnabled",
        "given": "GivenName",
        "surname": "Surname",
    },
}
_OLD_DEPARTMENTS: Final = ("Sales", "Finance", "Operations", "IT", "Marketing", "Engineering")
_OLD_TITLES: Final = ("Analyst", "Associate", "Specialist", "Coordinator", "Team Lead")
_OLD_OFFICES: Final = ("London", "Munich", "Amsterdam", "Seattle", "Dublin")
_VERBS: Final = {
    "Create": ("create", "created"),
    "Update": ("update", "updated"),
    "Disable": ("disable", "disabled"),
    "Delete": ("delete", "deleted"),
    "StagedDelete": ("stage the deletion of", "staged for deletion"),
}


def verb(action: str, *, past: bool = False) -> str:
    present, past_tense = _VERBS[action]
    return past_tense if past else present


def attribute_changes(kind: str, person: Person, rng: random.Random) -> list[Json]:
    """One to three attributes that moved (department, title, office or manager)."""
    names = _ATTRIBUTES[kind]
    picks = rng.sample(("department", "title", "office", "manager"), rng.choice((1, 1, 2, 3)))
    changes = []
    for pick in picks:
        old, new = _values(pick, person, rng)
        changes.append({"displayName": names[pick], "oldValue": old, "newValue": new})
    return changes


def _values(attribute: str, person: Person, rng: random.Random) -> tuple[str, str]:
    if attribute == "department":
        return rng.choice(_OLD_DEPARTMENTS), person.department
    if attribute == "title":
        return rng.choice(_OLD_TITLES), person.job_title
    if attribute == "office":
        return rng.choice(_OLD_OFFICES), person.office
    return guid(rng), guid(rng)  # manager: object ids of the old and the new manager


def create_props(kind: str, person: Person) -> list[Json]:
    names = _ATTRIBUTES[kind]
    values = {
        "enabled": "True",
        "given": person.given_name,
        "surname": person.surname,
        "department": person.department,
        "title": person.job_title,
        "office": person.office,
    }
    return [{"displayName": names[k], "oldValue": None, "newValue": v} for k, v in values.items()]


def disable_props(kind: str) -> list[Json]:
    return [{"displayName": _ATTRIBUTES[kind]["enabled"], "oldValue": "True", "newValue": "False"}]
