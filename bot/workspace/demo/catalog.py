"""The demo tenant (Woodgrove): people, admins, groups, access packages, apps and provisioning jobs.

Built once per spec from its own random stream, so ids are stable for a seed.
Names are plain ASCII and never contain "true" (a seed query matches that word).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from bot.workspace.demo.spec import JobKind, Size
from bot.workspace.demo.timeline import guid, hex32, stream

DOMAIN: Final = "woodgrove.com"

_FIRST: Final = (
    "Adele", "Alex", "Amara", "Ana", "Anders", "Anil", "Aylin", "Ben", "Bianca", "Carlos", "Chen",
    "Chloe", "Dana", "Daniel", "Diego", "Elena", "Emeka", "Emma", "Farah", "Felix", "Fatima",
    "Gabriel", "Grace", "Hana", "Hugo", "Ines", "Isaac", "Ivan", "Jade", "James", "Jana", "Jonas",
    "Julia", "Kai", "Kenji", "Lara", "Leon", "Lina", "Lucas", "Maja", "Marco", "Maria", "Mateo",
    "Maya", "Mei", "Mohammed", "Nadia", "Noah", "Nora", "Olga", "Omar", "Oscar", "Priya", "Rafael",
    "Ravi", "Rosa", "Sam", "Sara", "Sofia", "Sven", "Tariq", "Tom", "Uma", "Victor", "Wei", "Yara",
    "Zoe",
)  # fmt: skip
_LAST: Final = (
    "Adams", "Ahmed", "Alvarez", "Andersen", "Bauer", "Becker", "Brown", "Castro", "Chen", "Costa",
    "Dubois", "Edwards", "Fischer", "Garcia", "Gupta", "Hansen", "Hoffmann", "Ito", "Jensen",
    "Johansson", "Kaur", "Khan", "Kim", "Kowalski", "Larsen", "Lee", "Lopez", "Martin", "Meyer",
    "Moreau", "Murphy", "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Park", "Patel", "Perez",
    "Petrov", "Quinn", "Rossi", "Sato", "Schmidt", "Silva", "Singh", "Smith", "Suzuki", "Tanaka",
    "Taylor", "Torres", "Vargas", "Wagner", "Walsh", "Weber", "Wilson", "Wong", "Yilmaz", "Zhang",
    "Ziegler",
)  # fmt: skip
_DEPARTMENTS: Final = {
    "Finance": ("Accountant", "Financial Analyst", "Controller", "Payroll Specialist"),
    "Sales": ("Account Executive", "Sales Manager", "Sales Engineer", "Inside Sales Rep"),
    "Marketing": ("Marketing Specialist", "Content Strategist", "Brand Manager"),
    "Engineering": ("Software Engineer", "Senior Software Engineer", "Engineering Manager", "SRE"),
    "IT": ("Systems Administrator", "Service Desk Analyst", "Identity Engineer", "IT Manager"),
    "Human Resources": ("HR Business Partner", "Recruiter", "HR Generalist"),
    "Legal": ("Counsel", "Paralegal", "Compliance Officer"),
    "Operations": ("Operations Analyst", "Logistics Coordinator", "Facilities Manager"),
    "Customer Support": ("Support Engineer", "Support Team Lead", "Customer Success Manager"),
}
_OFFICES: Final = ("London", "Munich", "Amsterdam", "Seattle", "Singapore", "Toronto")
_ADMIN_IPS: Final = (
    "20.81.111.85", "52.142.33.17", "40.114.20.203", "51.105.9.64", "13.79.160.40",
    "62.213.45.120", "85.215.20.11", "91.198.174.192", "145.53.12.77", "194.9.80.15",
)  # fmt: skip
_WATCHED_GROUPS: Final = ("SAP Finance - Production Admins", "Payroll Approvers")
_OTHER_GROUPS: Final = (
    "Marketing Team", "London Office", "Project Falcon", "Sales EMEA", "Engineering Contractors",
    "IT Service Desk", "All Managers", "Munich Office", "Customer Support Tier 2", "Legal Hold",
    "Data Platform Readers", "Seattle Office", "Fabrikam Collaboration", "Design Reviewers",
)  # fmt: skip
_SYNCED_GROUPS: Final = (
    "Fabrikam Shared Projects",
    "Joint Venture Finance",
    "Partner Support Desk",
    "Alliance Sales",
)
CUSTOM_EXTENSIONS: Final = (
    "Create ServiceNow onboarding ticket",
    "Provision SAP GRC role",
    "Notify payroll Logic App",
)
FAILING_EXTENSION: Final = "Provision SAP GRC role"
WORKFLOWS: Final = (
    "Onboard pre-hire employee",
    "Onboard new hire - day 1",
    "Mover - department change",
    "Offboard leaver - last day",
    "Post-offboarding cleanup",
)
FAILING_WORKFLOW: Final = "Offboard leaver - last day"
#: Built-in Entra role display names and their well-known template ids.
ROLES: Final = (
    ("Global Administrator", "62e90394-69f5-4237-9190-012177145e10"),
    ("User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1"),
    ("Exchange Administrator", "29232cdf-9323-42fd-ade2-1d097af3e4de"),
    ("SharePoint Administrator", "f28a1f50-f6e7-4571-818b-6a12f2af6b6c"),
    ("Security Administrator", "194ae4cb-b126-40b2-bd5b-6091b380977d"),
    ("Helpdesk Administrator", "729827e3-9c14-49f7-bb1b-9608f156bbb8"),
    ("Privileged Role Administrator", "e8611ab8-c189-46e8-94e1-60213ab1f814"),
    ("Application Administrator", "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"),
    ("Identity Governance Administrator", "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e"),
)
#: Extra SCIM apps the medium and large sizes add (cloned from the Salesforce job in SQL).
CLONE_APPS: Final = (
    "Zoom", "Slack", "Dropbox Business", "Box", "Atlassian Cloud", "GitHub Enterprise Managed User",
    "Workplace from Meta", "Zscaler Internet Access", "DocuSign", "Adobe Identity Management",
    "Smartsheet", "Miro", "Figma", "Asana", "Tableau Cloud", "SAP Cloud Identity Services",
    "Webex", "LinkedIn Learning", "Coupa", "Freshservice", "Jamf Pro", "Lucid", "monday.com",
    "Netskope", "Confluence", "Jira Service Management", "Snowflake", "Databricks", "Cornerstone",
    "Concur", "Egnyte", "Keeper Password Manager", "Zendesk", "HubSpot", "Splunk Cloud",
    "Okta Workforce", "Trello", "Notion", "Airtable", "Mural",
)  # fmt: skip


@dataclass(frozen=True)
class SizeProfile:
    """How big the demo tenant is and how busy its logs are."""

    people: int
    rows_per_cycle: float
    audit_scale: float
    clones: int


PROFILES: Final[dict[Size, SizeProfile]] = {
    "small": SizeProfile(people=400, rows_per_cycle=10.0, audit_scale=1.5, clones=0),
    "medium": SizeProfile(people=2500, rows_per_cycle=75.0, audit_scale=3.0, clones=6),
    "large": SizeProfile(people=12000, rows_per_cycle=160.0, audit_scale=8.0, clones=36),
}


@dataclass(frozen=True)
class Person:
    index: int
    object_id: str
    display_name: str
    given_name: str
    surname: str
    upn: str
    employee_id: str
    workday_id: str
    ad_guid: str
    department: str
    job_title: str
    office: str
    from_ad: bool


@dataclass(frozen=True)
class Admin:
    person: Person
    ip_address: str


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    watched: bool = False


@dataclass(frozen=True)
class AccessPackage:
    id: str
    name: str
    group: Group
    extension: str | None
    needs_approval: bool


@dataclass(frozen=True)
class App:
    """A service principal that shows up as an initiator or a provisioning configuration."""

    app_id: str
    sp_id: str
    name: str


@dataclass(frozen=True)
class JobDef:
    key: str
    kind: JobKind
    job_id: str
    app: App
    source_name: str
    source_id: str
    target_name: str
    target_id: str
    cycle_minutes: int
    phase_minutes: float
    volume: float
    scope: float  # share of people the job provisions


@dataclass(frozen=True)
class Catalog:
    tenant_id: str
    workspace_id: str
    people: tuple[Person, ...]
    admins: tuple[Admin, ...]
    watched_groups: tuple[Group, ...]
    other_groups: tuple[Group, ...]
    synced_groups: tuple[Group, ...]
    packages: tuple[AccessPackage, ...]
    extension_ids: dict[str, str]
    workflow_ids: dict[str, str]
    jobs: tuple[JobDef, ...]
    governance_app: App
    pim_app: App
    workflows_app: App
    reviews_app: App
    provisioning_app: App
    fabrikam_tenant_id: str

    def job(self, key: str) -> JobDef:
        for job in self.jobs:
            if job.key == key:
                return job
        raise KeyError(f"no job {key!r}")


def build_catalog(seed: int, size: Size) -> Catalog:
    rng = stream(seed, "catalog")
    tenant_id, workspace_id = guid(rng), guid(rng)
    people = _people(rng, PROFILES[size].people)
    admins = tuple(Admin(p, ip) for p, ip in zip(rng.sample(people, 10), _ADMIN_IPS, strict=True))
    watched = tuple(Group(guid(rng), name, watched=True) for name in _WATCHED_GROUPS)
    others = tuple(Group(guid(rng), name) for name in _OTHER_GROUPS)
    return Catalog(
        tenant_id=tenant_id,
        workspace_id=workspace_id,
        people=people,
        admins=admins,
        watched_groups=watched,
        other_groups=others,
        synced_groups=tuple(Group(guid(rng), name) for name in _SYNCED_GROUPS),
        packages=_packages(rng, watched, others),
        extension_ids={name: guid(rng) for name in CUSTOM_EXTENSIONS},
        workflow_ids={name: guid(rng) for name in WORKFLOWS},
        jobs=_jobs(rng, tenant_id),
        governance_app=App(guid(rng), guid(rng), "Azure AD Identity Governance - User Management"),
        pim_app=App("01fc33a7-78ba-4d2f-a4b7-768e336e890e", guid(rng), "MS-PIM"),
        workflows_app=App(guid(rng), guid(rng), "Lifecycle Workflows"),
        reviews_app=App(guid(rng), guid(rng), "Access Reviews"),
        provisioning_app=App(guid(rng), guid(rng), "Azure AD Provisioning Service"),
        fabrikam_tenant_id=guid(rng),
    )


def _people(rng: random.Random, count: int) -> tuple[Person, ...]:
    seen: set[str] = set()
    people = []
    for index in range(count):
        given, surname = rng.choice(_FIRST), rng.choice(_LAST)
        alias = _unique_alias(f"{given}.{surname}".lower(), seen)
        department = rng.choice(list(_DEPARTMENTS))
        people.append(
            Person(
                index=index,
                object_id=guid(rng),
                display_name=f"{given} {surname}",
                given_name=given,
                surname=surname,
                upn=f"{alias}@{DOMAIN}",
                employee_id=str(100200 + index * 7),
                workday_id=hex32(rng),
                ad_guid=guid(rng),
                department=department,
                job_title=rng.choice(_DEPARTMENTS[department]),
                office=rng.choice(_OFFICES),
                from_ad=rng.random() < 0.3,
            )
        )
    return tuple(people)


def _unique_alias(alias: str, seen: set[str]) -> str:
    candidate, n = alias, 1
    while candidate in seen:
        n += 1
        candidate = f"{alias}{n}"
    seen.add(candidate)
    return candidate


def _packages(
    rng: random.Random, watched: tuple[Group, ...], others: tuple[Group, ...]
) -> tuple[AccessPackage, ...]:
    specs = (
        ("Finance Systems Access", watched[0], FAILING_EXTENSION, True),
        ("Payroll Processing", watched[1], "Notify payroll Logic App", True),
        ("Marketing Tools", others[0], None, False),
        ("Project Falcon Collaboration", others[2], "Create ServiceNow onboarding ticket", True),
        ("Sales EMEA Workspace", others[3], None, False),
        (
            "Engineering Contractor Onboarding",
            others[4],
            "Create ServiceNow onboarding ticket",
            True,
        ),
        ("Data Platform Read Access", others[10], None, True),
        ("Fabrikam Partner Collaboration", others[12], None, True),
    )
    return tuple(AccessPackage(guid(rng), *spec) for spec in specs)


def _jobs(rng: random.Random, tenant_id: str) -> tuple[JobDef, ...]:
    aad = "Microsoft Entra ID"
    specs: tuple[tuple[str, JobKind, str, str, str, str, int, float, float], ...] = (
        (
            "workday",
            "hr_inbound",
            "Workday",
            "Workday to Microsoft Entra ID User Provisioning",
            "Workday",
            aad,
            40,
            1.2,
            0.7,
        ),
        ("servicenow", "scim_app", "scim", "ServiceNow", aad, "ServiceNow", 40, 1.0, 0.6),
        ("salesforce", "scim_app", "scim", "Salesforce", aad, "Salesforce", 40, 0.6, 0.3),
        (
            "fabrikam",
            "cross_tenant_sync",
            "Azure2Azure",
            "Fabrikam cross-tenant sync",
            aad,
            "Fabrikam",
            40,
            0.5,
            0.2,
        ),
        (
            "adsync",
            "onprem_ad",
            "AD2AADProvisioning",
            "corp.woodgrove.com",
            "Active Directory",
            aad,
            40,
            0.8,
            0.3,
        ),
    )
    return tuple(_job(rng, tenant_id, *spec) for spec in specs)


def _job(
    rng: random.Random,
    tenant_id: str,
    key: str,
    kind: JobKind,
    template: str,
    app_name: str,
    source: str,
    target: str,
    cycle: int,
    volume: float,
    scope: float,
) -> JobDef:
    app = App(guid(rng), guid(rng), app_name)
    return JobDef(
        key=key,
        kind=kind,
        job_id=f"{template}.{app.app_id.replace('-', '')}.{tenant_id}",
        app=app,
        source_name=source,
        source_id=guid(rng),
        target_name=target,
        target_id=guid(rng),
        cycle_minutes=cycle,
        phase_minutes=rng.uniform(0, cycle),
        volume=volume,
        scope=scope,
    )


def clone_app(seed: int, index: int, tenant_id: str) -> tuple[App, str]:
    """The index-th extra SCIM app of medium/large sizes, with its JobId."""
    rng = stream(seed, f"clone:{index}")
    app = App(guid(rng), guid(rng), CLONE_APPS[index % len(CLONE_APPS)])
    return app, f"scim.{app.app_id.replace('-', '')}.{tenant_id}"
