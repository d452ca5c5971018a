"""The demo workspace's shape: schema, determinism, sizes, JSON shapes and everyday realism."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pytest

from bot.workspace.demo import DemoManifest, DemoSpec, load_demo
from bot.workspace.demo.audit_rows import ACTIVITIES
from bot.workspace.demo.provisioning_text import ERRORS
from bot.workspace.schema import TABLES

NOW = datetime(2025, 6, 18, 14, 0, tzinfo=UTC)
GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
DUCKDB_TYPES = {"string": "VARCHAR", "long": "BIGINT", "datetime": "TIMESTAMP", "dynamic": "JSON"}
JSON_TEXT_COLUMNS = (
    "InitiatedBy",
    "ModifiedProperties",
    "ProvisioningStatusInfo",
    "ProvisioningSteps",
    "ServicePrincipal",
    "SourceIdentity",
    "SourceSystem",
    "TargetIdentity",
    "TargetSystem",
)

Loaded = tuple[duckdb.DuckDBPyConnection, DemoManifest]


@pytest.fixture(scope="module")
def loaded() -> Iterator[Loaded]:
    con = duckdb.connect()
    yield con, load_demo(con, DemoSpec(now=NOW))
    con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    return con.execute(sql, params).fetchall()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> Any:
    return rows(con, sql, params)[0][0]


def digest(con: duckdb.DuckDBPyConnection, table: str) -> str:
    sql = f'SELECT md5(string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY t.Id)) FROM raw."{table}" t'
    return str(scalar(con, sql))


def digests(spec: DemoSpec) -> tuple[str, str]:
    con = duckdb.connect()
    load_demo(con, spec)
    return digest(con, "AuditLogs"), digest(con, "AADProvisioningLogs")


def test_same_spec_same_bytes_other_seed_other_data(loaded: Loaded) -> None:
    con, _ = loaded
    mine = (digest(con, "AuditLogs"), digest(con, "AADProvisioningLogs"))
    assert digests(DemoSpec(now=NOW)) == mine
    other = digests(DemoSpec(now=NOW, seed=43))
    assert other[0] != mine[0]
    assert other[1] != mine[1]


def test_manifest_is_reproducible(loaded: Loaded) -> None:
    _, manifest = loaded
    assert load_demo(duckdb.connect(), DemoSpec(now=NOW)) == manifest


@pytest.mark.parametrize("table", list(TABLES))
def test_columns_order_and_types_follow_the_schema(loaded: Loaded, table: str) -> None:
    con, _ = loaded
    described = [(r[0], r[1]) for r in rows(con, f'DESCRIBE raw."{table}"')]
    assert described == [(name, DUCKDB_TYPES[kind]) for name, kind in TABLES[table].items()]


def test_small_size_row_counts(loaded: Loaded) -> None:
    con, manifest = loaded
    counts = {t: scalar(con, f'SELECT count(*) FROM raw."{t}"') for t in TABLES}
    assert counts == dict(manifest.row_counts)
    assert 20_000 <= sum(counts.values()) <= 60_000
    assert counts["AuditLogs"] >= 4_000


def test_every_row_lies_in_the_history(loaded: Loaded) -> None:
    con, manifest = loaded
    start = (NOW - timedelta(days=manifest.spec.days)).replace(tzinfo=None)
    for table in TABLES:
        low, high = rows(con, f'SELECT min(TimeGenerated), max(TimeGenerated) FROM raw."{table}"')[
            0
        ]
        assert start <= low
        assert high < NOW.replace(tzinfo=None)


@pytest.mark.parametrize("column", ["AdditionalDetails", "InitiatedBy", "TargetResources"])
def test_audit_dynamic_columns_hold_json_of_the_graph_shape(loaded: Loaded, column: str) -> None:
    con, _ = loaded
    kinds = {r[0] for r in rows(con, f"SELECT DISTINCT json_type({column}) FROM raw.AuditLogs")}
    assert kinds == ({"OBJECT"} if column == "InitiatedBy" else {"ARRAY"})


def test_initiators_are_a_user_or_an_app(loaded: Loaded) -> None:
    con, _ = loaded
    keys = rows(con, "SELECT DISTINCT json_keys(InitiatedBy) FROM raw.AuditLogs")
    assert {tuple(k[0]) for k in keys} == {("user",), ("app",)}
    users = rows(
        con,
        "SELECT DISTINCT json_keys(InitiatedBy->'user') FROM raw.AuditLogs "
        "WHERE (InitiatedBy->'user') IS NOT NULL",
    )
    assert [tuple(k[0]) for k in users] == [
        ("id", "displayName", "userPrincipalName", "ipAddress", "roles")
    ]


def test_modified_property_values_are_json_text_inside_strings(loaded: Loaded) -> None:
    con, _ = loaded
    checked = 0
    for (targets,) in rows(con, "SELECT TargetResources FROM raw.AuditLogs"):
        for resource in json.loads(targets):
            for change in resource["modifiedProperties"]:
                for value in (change["oldValue"], change["newValue"]):
                    if value is not None:
                        json.loads(value)  # decode twice: the string holds JSON text
                        checked += 1
    assert checked > 500


def test_audit_columns_are_consistent(loaded: Loaded) -> None:
    con, _ = loaded
    assert (
        scalar(con, "SELECT count(*) FROM raw.AuditLogs WHERE OperationName <> ActivityDisplayName")
        == 0
    )
    lag = rows(
        con,
        "SELECT min(TimeGenerated - ActivityDateTime), max(TimeGenerated - ActivityDateTime) "
        "FROM raw.AuditLogs",
    )[0]
    assert lag[0].total_seconds() >= 0
    assert lag[1].total_seconds() <= 5
    seen = rows(
        con,
        "SELECT DISTINCT ActivityDisplayName, Category, LoggedByService, AADOperationType "
        "FROM raw.AuditLogs",
    )
    assert {(a, (c, s, o)) for a, c, s, o in seen} <= set(ACTIVITIES.items())
    constant = rows(
        con, "SELECT DISTINCT Type, SourceSystem, AADTenantId, TenantId FROM raw.AuditLogs"
    )
    assert len(constant) == 1
    assert constant[0][:2] == ("AuditLogs", "Azure AD")
    assert re.fullmatch(GUID, scalar(con, "SELECT any_value(Id) FROM raw.AuditLogs"))
    assert scalar(con, "SELECT count(DISTINCT Id) = count(*) FROM raw.AuditLogs")


def test_audit_covers_every_governance_area_mostly_successfully(loaded: Loaded) -> None:
    con, _ = loaded
    services = {r[0] for r in rows(con, "SELECT DISTINCT LoggedByService FROM raw.AuditLogs")}
    assert services == {
        "Access Reviews",
        "Entitlement Management",
        "Core Directory",
        "Lifecycle Workflows",
        "PIM",
        "Account Provisioning",
        "Self-service Password Management",
        "Authentication Methods",
    }
    failed = scalar(
        con, "SELECT avg(CASE WHEN Result = 'success' THEN 0 ELSE 1 END) FROM raw.AuditLogs"
    )
    assert 0 < failed < 0.05


def test_governance_service_principal_adds_members_too(loaded: Loaded) -> None:
    con, _ = loaded
    actors = rows(
        con,
        "SELECT DISTINCT coalesce(InitiatedBy->'app'->>'displayName', 'person') "
        "FROM raw.AuditLogs WHERE ActivityDisplayName = 'Add member to group'",
    )
    assert {a[0] for a in actors} == {"person", "Azure AD Identity Governance - User Management"}


def test_working_hours_are_busier(loaded: Loaded) -> None:
    con, _ = loaded
    by_band = dict(
        rows(
            con,
            """
        SELECT hour(TimeGenerated) BETWEEN 8 AND 16 AS working, count(*) / count(DISTINCT
               date_trunc('hour', TimeGenerated))
        FROM raw.AuditLogs WHERE dayofweek(TimeGenerated) BETWEEN 1 AND 5
          AND (hour(TimeGenerated) BETWEEN 8 AND 16 OR hour(TimeGenerated) BETWEEN 0 AND 4)
        GROUP BY 1""",
        )
    )
    assert by_band[True] > 3 * by_band[False]


def test_provisioning_json_columns_parse(loaded: Loaded) -> None:
    con, _ = loaded
    for column in JSON_TEXT_COLUMNS:
        invalid = f"SELECT count(*) FROM raw.AADProvisioningLogs WHERE NOT json_valid({column})"
        assert scalar(con, invalid) == 0, column


def test_job_ids_and_guids(loaded: Loaded) -> None:
    con, manifest = loaded
    job_ids = {r[0] for r in rows(con, "SELECT DISTINCT JobId FROM raw.AADProvisioningLogs")}
    assert job_ids == {job.job_id for job in manifest.jobs}
    pattern = (
        rf"(Workday|scim|Azure2Azure|AD2AADProvisioning)\.[0-9a-f]{{32}}\.{manifest.tenant_id}"
    )
    assert all(re.fullmatch(pattern, job_id) for job_id in job_ids)
    assert len({job.kind for job in manifest.jobs}) >= 4
    for column in ("CycleId", "ChangeId", "Id", "CorrelationId"):
        bad = f"NOT regexp_full_match({column}, '{GUID}')"
        assert scalar(con, f"SELECT count(*) FROM raw.AADProvisioningLogs WHERE {bad}") == 0
    assert scalar(con, "SELECT count(DISTINCT ChangeId) = count(*) FROM raw.AADProvisioningLogs")


def test_identity_and_system_shapes(loaded: Loaded) -> None:
    con, _ = loaded
    shapes = {
        "SourceIdentity": ["Id", "Name", "identityType", "details"],
        "TargetIdentity": ["Id", "Name", "identityType", "details"],
        "ServicePrincipal": ["Id", "Name"],
        "SourceSystem": ["Id", "Name", "Details"],
        "TargetSystem": ["Id", "Name", "Details"],
    }
    for column, keys in shapes.items():
        found = rows(con, f"SELECT DISTINCT json_keys({column}) FROM raw.AADProvisioningLogs")
        assert [k[0] for k in found] == [keys], column
    kinds = rows(
        con, "SELECT DISTINCT SourceIdentity->>'identityType' FROM raw.AADProvisioningLogs"
    )
    assert {k[0] for k in kinds} == {"User", "Group"}
    # Published queries `parse` the text, so the JSON must be compact.
    assert (
        scalar(
            con,
            """SELECT count(*) FROM raw.AADProvisioningLogs
                          WHERE NOT contains(SourceIdentity, '"identityType":"')""",
        )
        == 0
    )


def test_provisioning_steps(loaded: Loaded) -> None:
    con, _ = loaded
    steps = rows(
        con,
        """SELECT DISTINCT s->>'provisioningStepType', s->>'status', list_sort(json_keys(s))
           FROM raw.AADProvisioningLogs, unnest(CAST(ProvisioningSteps AS JSON[])) u(s)""",
    )
    assert {s[0] for s in steps} == {
        "import",
        "scoping",
        "matching",
        "referenceResolution",
        "export",
    }
    assert {s[1] for s in steps} <= {"success", "skipped", "failure", "warning"}
    assert {tuple(s[2]) for s in steps} == {
        ("description", "details", "name", "provisioningStepType", "status")
    }
    last = rows(
        con, "SELECT DISTINCT ProvisioningSteps->>'$[#-1].name' FROM raw.AADProvisioningLogs"
    )
    assert {n[0] for n in last} == {
        "EntryExportAdd",
        "EntryExportUpdate",
        "EntryExportUpdateSoftDelete",
        "EntryExportDelete",
        "EntryExportStagedDelete",
        "EntrySynchronizationSkip",
    }


def test_actions_results_and_error_codes(loaded: Loaded) -> None:
    con, _ = loaded
    assert (
        scalar(
            con, "SELECT count(*) FROM raw.AADProvisioningLogs WHERE Action <> ProvisioningAction"
        )
        == 0
    )
    combos = set(rows(con, "SELECT DISTINCT Action, ResultType FROM raw.AADProvisioningLogs"))
    assert {
        ("Create", "Success"),
        ("Update", "Success"),
        ("Disable", "Success"),
        ("Delete", "Success"),
        ("StagedDelete", "Success"),
        ("Other", "Skipped"),
        ("Update", "Failure"),
    } <= combos
    codes = {
        r[0]
        for r in rows(
            con,
            "SELECT DISTINCT ResultSignature FROM raw.AADProvisioningLogs "
            "WHERE ResultType = 'Failure'",
        )
    }
    assert codes <= set(ERRORS)
    assert len(codes) >= 8
    ok = rows(
        con,
        "SELECT DISTINCT ResultSignature FROM raw.AADProvisioningLogs "
        "WHERE ResultType <> 'Failure'",
    )
    assert ok == [("None",)]


def test_jobs_run_in_cycles(loaded: Loaded) -> None:
    con, manifest = loaded
    per_job = rows(
        con,
        """
        SELECT JobId, count(DISTINCT CycleId), max(span) FROM (
            SELECT JobId, CycleId, max(TimeGenerated) - min(TimeGenerated) AS span
            FROM raw.AADProvisioningLogs GROUP BY ALL) GROUP BY JobId""",
    )
    for job_id, cycles, span in per_job:
        assert cycles >= manifest.spec.days * 36 * 0.6, job_id  # ~every 40 minutes
        assert span.total_seconds() < 300


def test_spec_validation() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        DemoSpec(now=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="days"):
        DemoSpec(now=NOW, days=1)
    with pytest.raises(ValueError, match="size"):
        DemoSpec(now=NOW, size="huge")  # type: ignore[arg-type]


def test_load_replaces_tables_in_another_schema() -> None:
    con = duckdb.connect()
    first = load_demo(con, DemoSpec(now=NOW, days=2), schema="demo")
    second = load_demo(con, DemoSpec(now=NOW, days=2), schema="demo")
    assert scalar(con, 'SELECT count(*) FROM demo."AuditLogs"') == second.row_counts["AuditLogs"]
    assert first == second
