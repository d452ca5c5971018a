"""Planted incidents: every seed alert fires in the recent window and none in the quiet window.

The seed 000 alert queries are mirrored in plain DuckDB SQL over the raw tables (the
KQL versions run in tests/workspace/test_seed_queries.py), with the custom extension
query filtering failures as its title intends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pytest

from bot.workspace.demo import DemoManifest, DemoSpec, load_demo

SPECS = {
    "30-days": DemoSpec(now=datetime(2025, 6, 18, 14, 0, tzinfo=UTC)),
    "3-days-odd-now": DemoSpec(now=datetime(2026, 1, 4, 7, 37, 12, tzinfo=UTC), seed=7, days=3),
}
IG_APP = "Azure AD Identity Governance - User Management"
PROVISIONING_CONFIG = (
    "Add provisioning configuration",
    "Delete provisioning configuration",
    "Disable/pause provisioning configuration",
    "Enable/restart provisioning configuration",
    "Enable/start provisioning configuration",
)
WINDOW = "TimeGenerated >= $start AND TimeGenerated < $end"

Loaded = tuple[duckdb.DuckDBPyConnection, DemoManifest]
Query = tuple[str, dict[str, Any]]


@pytest.fixture(scope="module", params=list(SPECS))
def loaded(request: pytest.FixtureRequest) -> Iterator[Loaded]:
    con = duckdb.connect()
    yield con, load_demo(con, SPECS[request.param])
    con.close()


def naive(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(tzinfo=None)


def count(con: duckdb.DuckDBPyConnection, query: Query, window: tuple[datetime, datetime]) -> int:
    sql, params = query
    params = {**params, "start": naive(window[0]), "end": naive(window[1])}
    return int(con.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0])  # type: ignore[index]


def values(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[Any]:
    return [row[0] for row in con.execute(sql, params).fetchall()]


def audit(where: str, **params: Any) -> Query:
    return f"SELECT * FROM raw.AuditLogs WHERE {WINDOW} AND {where}", params


def any_target_named(names: str) -> str:
    return (
        f"EXISTS (SELECT 1 FROM unnest(CAST(TargetResources AS JSON[])) AS t(r) "
        f"WHERE list_contains({names}, r->>'displayName'))"
    )


#: The ten seed-000 alerts, placeholders filled from the manifest.
SEED_000: dict[str, Callable[[DemoManifest], Query]] = {
    "access_review_deleted": lambda m: audit("ActivityDisplayName = 'Delete access review'"),
    "direct_group_add": lambda m: audit(
        "ActivityDisplayName = 'Add member to group' "
        "AND list_contains($groups, TargetResources->>'$[1].id') "
        "AND coalesce(InitiatedBy->'user'->>'displayName', '') <> $ig",
        groups=list(m.watched_group_ids),
        ig=IG_APP,
    ),
    "connected_org_created": lambda m: (
        f"SELECT split_part(d->>'value', chr(10), 2) AS TenantID FROM raw.AuditLogs, "
        f"unnest(CAST(AdditionalDetails AS JSON[])) AS u(d) WHERE {WINDOW} "
        f"AND ActivityDisplayName = 'Create connected organization' AND d->>'key' = 'Description'",
        {},
    ),
    "custom_extension_failure": lambda m: audit(
        "ActivityDisplayName = 'Execute custom extension' AND Result = 'failure' AND "
        + any_target_named("$names"),
        names=list(m.custom_extension_names),
    ),
    "workflow_failure": lambda m: audit(
        "Category = 'WorkflowManagement' AND ActivityDisplayName IN "
        "('On-demand workflow execution completed', 'Scheduled workflow execution completed') "
        "AND Result = 'failure' AND " + any_target_named("$names"),
        names=list(m.workflow_names),
    ),
    "cross_tenant_partner_added": lambda m: audit(
        "OperationName = 'Add a partner to cross-tenant access setting' "
        "AND TargetResources->>'$[0].modifiedProperties[0].displayName' = 'tenantId'"
    ),
    "cross_tenant_sync_enabled": lambda m: audit(
        "OperationName = 'Update a partner cross-tenant identity sync setting' "
        "AND CAST(TargetResources AS VARCHAR) ILIKE '%true%' "
        "AND TargetResources->>'$[0].modifiedProperties[0].newValue' ILIKE '%true%'"
    ),
    "pim_alert_disabled": lambda m: audit("ActivityDisplayName = 'Disable PIM alert'"),
    "provisioning_failure_spike": lambda m: (
        f"SELECT count(*) FROM raw.AADProvisioningLogs WHERE {WINDOW} AND JobId = $job "
        f"AND ResultType = 'Failure' HAVING count(*) > 10",
        {"job": m.failure_spike_job_id},
    ),
    "provisioning_config_changed": lambda m: audit(
        "list_contains($names, ActivityDisplayName)", names=list(PROVISIONING_CONFIG)
    ),
}


@pytest.mark.parametrize("alert", list(SEED_000))
def test_seed_alert_fires_in_the_recent_window(loaded: Loaded, alert: str) -> None:
    con, manifest = loaded
    assert count(con, SEED_000[alert](manifest), manifest.recent_window) >= 1


@pytest.mark.parametrize("alert", list(SEED_000))
def test_seed_alert_is_silent_in_the_quiet_window(loaded: Loaded, alert: str) -> None:
    con, manifest = loaded
    start, end = manifest.quiet_window
    assert end - start >= timedelta(hours=24)
    assert count(con, SEED_000[alert](manifest), manifest.quiet_window) == 0
    for hours in range(0, int((end - start).total_seconds() // 3600) - 23):  # every 24 h inside
        window = (start + timedelta(hours=hours), start + timedelta(hours=hours + 24))
        assert count(con, SEED_000[alert](manifest), window) == 0


def test_windows_lie_in_the_history(loaded: Loaded) -> None:
    _, manifest = loaded
    now, start = manifest.spec.now, manifest.spec.now - timedelta(days=manifest.spec.days)
    assert manifest.recent_window == (now - timedelta(hours=24), now)
    assert start <= manifest.quiet_window[0] < manifest.quiet_window[1] <= manifest.recent_window[0]
    for name, (first, last) in manifest.scenario_spans.items():
        assert manifest.recent_window[0] <= first < last <= now, name


def test_planted_audit_events_lie_in_their_spans(loaded: Loaded) -> None:
    con, manifest = loaded
    spans = manifest.scenario_spans
    planted = {
        "delete_access_review": "Delete access review",
        "connected_org_created": "Create connected organization",
        "cross_tenant_partner_added": "Add a partner to cross-tenant access setting",
        "cross_tenant_sync_enabled": "Update a partner cross-tenant identity sync setting",
        "pim_alert_disabled": "Disable PIM alert",
        "provisioning_config_changed": "Disable/pause provisioning configuration",
        "password_reset": "Reset user password",
    }
    for name, activity in planted.items():
        query = audit("ActivityDisplayName = $activity", activity=activity)
        assert count(con, query, spans[name]) >= 1, name


def test_connected_org_and_partner_tenant_ids(loaded: Loaded) -> None:
    con, manifest = loaded
    params = {"start": naive(manifest.recent_window[0]), "end": naive(manifest.recent_window[1])}
    sql, _ = SEED_000["connected_org_created"](manifest)
    assert values(con, sql, params) == [manifest.connected_org_tenant_id]
    sql, _ = SEED_000["cross_tenant_partner_added"](manifest)
    partner = f"SELECT TargetResources->>'$[0].modifiedProperties[0].newValue' FROM ({sql})"
    assert values(con, partner, params) == [f'"{manifest.cross_tenant_partner_tenant_id}"']


def test_only_the_failing_extension_and_workflow_fail_recently(loaded: Loaded) -> None:
    con, manifest = loaded
    params = {"start": naive(manifest.recent_window[0]), "end": naive(manifest.recent_window[1])}
    for alert, expected in (
        ("custom_extension_failure", manifest.failing_custom_extension),
        ("workflow_failure", manifest.failing_workflow),
    ):
        sql, extra = SEED_000[alert](manifest)
        names = values(
            con,
            f"SELECT r->>'displayName' FROM ({sql}), "
            f"unnest(CAST(TargetResources AS JSON[])) AS t(r) "
            f"WHERE list_contains($names, r->>'displayName')",
            {**params, **extra},
        )
        assert set(names) == {expected}


def test_watched_group_add_was_made_by_a_person(loaded: Loaded) -> None:
    con, manifest = loaded
    sql, params = SEED_000["direct_group_add"](manifest)
    span = manifest.scenario_spans["watched_group_add"]
    params = {**params, "start": naive(span[0]), "end": naive(span[1])}
    found = con.execute(
        f"SELECT InitiatedBy, TargetResources->>'$[1].id', "
        f"TargetResources->>'$[0].type' FROM ({sql})",
        params,
    ).fetchall()
    assert len(found) == 1
    initiated_by, group_id, first_type = found[0]
    assert '"user"' in initiated_by
    assert (group_id, first_type) == (manifest.watched_group_ids[0], "User")


def max_in_any_24h(con: duckdb.DuckDBPyConnection, where: str, params: dict[str, Any]) -> int:
    """Most matching rows per JobId in any 24 h window (windows start at a matching row)."""
    sql = f"""
        WITH f AS (SELECT JobId, TimeGenerated AS t FROM raw.AADProvisioningLogs WHERE {where})
        SELECT coalesce(max(n), 0) FROM (
            SELECT a.JobId, a.t, count(*) AS n FROM f a JOIN f b
              ON a.JobId = b.JobId AND b.t >= a.t AND b.t < a.t + INTERVAL 24 HOUR
            GROUP BY ALL)"""
    return int(con.execute(sql, params).fetchone()[0])  # type: ignore[index]


def test_failure_spike_stands_alone(loaded: Loaded) -> None:
    con, manifest = loaded
    spike = {"job": manifest.failure_spike_job_id}
    in_span = audit_free_count(
        con,
        "JobId = $job AND ResultType = 'Failure'",
        spike,
        manifest.scenario_spans["failure_spike"],
    )
    assert in_span == 25
    others = "ResultType = 'Failure' AND JobId <> $job"
    assert max_in_any_24h(con, others, spike) <= 3
    before = {**spike, "cut": naive(manifest.recent_window[0])}
    assert (
        max_in_any_24h(
            con, "ResultType = 'Failure' AND JobId = $job AND TimeGenerated < $cut", before
        )
        <= 3
    )


def audit_free_count(
    con: duckdb.DuckDBPyConnection,
    where: str,
    params: dict[str, Any],
    window: tuple[datetime, datetime],
) -> int:
    sql = f"SELECT * FROM raw.AADProvisioningLogs WHERE {WINDOW} AND {where}"
    return count(con, (sql, params), window)


def test_disable_spike_against_a_low_background(loaded: Loaded) -> None:
    con, manifest = loaded
    spike_start, spike_end = manifest.scenario_spans["disable_spike"]
    assert spike_end - spike_start <= timedelta(hours=1, seconds=1)
    job = {"job": manifest.disable_spike_job_id}
    assert (
        audit_free_count(con, "JobId = $job AND Action = 'Disable'", job, (spike_start, spike_end))
        >= 60
    )
    outside = {"a": naive(spike_start), "b": naive(spike_end)}
    sql = """
        WITH d AS (SELECT TimeGenerated AS t FROM raw.AADProvisioningLogs
                   WHERE Action IN ('Disable', 'Delete')
                     AND NOT (TimeGenerated >= $a AND TimeGenerated < $b))
        SELECT coalesce(max(n), 0) FROM (
            SELECT x.t, count(*) AS n FROM d x
            JOIN d y ON y.t >= x.t AND y.t < x.t + INTERVAL 24 HOUR
            GROUP BY x.t)"""
    assert con.execute(sql, outside).fetchone()[0] <= 10  # type: ignore[index]


def silent_hours(
    con: duckdb.DuckDBPyConnection, job_id: str, start: datetime, end: datetime
) -> int:
    """Whole clock hours in [start, end) in which the job logged nothing."""
    sql = """
        SELECT count(*) FROM generate_series(
            date_trunc('hour', $start::TIMESTAMP) + INTERVAL 1 HOUR,
            $end::TIMESTAMP - INTERVAL 1 HOUR,
            INTERVAL 1 HOUR) AS h(hour)
        WHERE NOT EXISTS (SELECT 1 FROM raw.AADProvisioningLogs
                          WHERE JobId = $job AND TimeGenerated >= h.hour
                            AND TimeGenerated < h.hour + INTERVAL 1 HOUR)"""
    params = {"job": job_id, "start": naive(start), "end": naive(end)}
    return int(con.execute(sql, params).fetchone()[0])  # type: ignore[index]


def test_silent_job_went_quiet_and_everyone_else_keeps_emitting(loaded: Loaded) -> None:
    con, manifest = loaded
    now, since = manifest.spec.now, manifest.silent_since
    assert manifest.scenario_spans["silent_job"] == (since, now)
    assert audit_free_count(con, "JobId = $job", {"job": manifest.silent_job_id}, (since, now)) == 0
    history_start = now - timedelta(days=manifest.spec.days)
    assert silent_hours(con, manifest.silent_job_id, history_start, since) == 0
    for job in manifest.jobs:
        assert silent_hours(con, job.job_id, *manifest.quiet_window) == 0, job.app_name
        held = (manifest.silent_job_id, manifest.paused_job_id, manifest.still_paused_job_id)
        if job.job_id not in held:
            assert silent_hours(con, job.job_id, *manifest.recent_window) == 0, job.app_name


def test_the_still_paused_job_logs_nothing_after_its_pause(loaded: Loaded) -> None:
    con, manifest = loaded
    since = manifest.still_paused_since
    if since is None:  # the 3-day history is too short for it
        assert manifest.still_paused_job_id == ""
        return
    job = {"job": manifest.still_paused_job_id}
    rows = "SELECT * FROM raw.AADProvisioningLogs WHERE JobId = $job AND " + WINDOW
    assert count(con, (rows, job), (since, manifest.spec.now)) == 0
    assert count(con, (rows, job), (since - timedelta(hours=1), since)) >= 1
    pause = audit(
        "ActivityDisplayName = 'Disable/pause provisioning configuration' "
        "AND TargetResources->>'$[0].type' = 'ServicePrincipal'"
    )
    sql = f"SELECT TargetResources->>'$[0].displayName', TimeGenerated FROM ({pause[0]})"
    window = {"start": naive(since), "end": naive(since) + timedelta(seconds=1)}
    paused = con.execute(sql, window).fetchall()
    assert paused == [(manifest.job(manifest.still_paused_job_id).app_name, naive(since))]


def test_group_with_an_unresolved_member(loaded: Loaded) -> None:
    con, manifest = loaded
    sql = """
        SELECT ProvisioningSteps->>'$[2].description', ProvisioningSteps->>'$[#-1].name'
        FROM raw.AADProvisioningLogs
        WHERE JobId = $job AND TimeGenerated >= $since AND SourceIdentity->>'identityType' = 'Group'
          AND regexp_matches(ProvisioningSteps, 'UnableToResolveReferenceAttributeValue')"""
    since = naive(manifest.spec.now - timedelta(days=10))
    found = con.execute(sql, {"job": manifest.unresolved_group_job_id, "since": since}).fetchall()
    parsed = set()
    for description, last_step in found:
        match = re.match(r"We were unable to assign (.+?) as the members of ([^.]*)\.", description)
        assert match, description
        parsed.add((match[2], match[1]))
        assert last_step == "EntryExportUpdate"
    assert (manifest.unresolved_group_name, manifest.unresolved_member_id) in parsed


def test_lookup_user_appears_on_several_jobs(loaded: Loaded) -> None:
    con, manifest = loaded
    jobs = values(
        con,
        "SELECT DISTINCT JobId FROM raw.AADProvisioningLogs WHERE SourceIdentity->>'Id' = $id",
        {"id": manifest.lookup_source_identity_id},
    )
    assert len(jobs) >= 3
    resets = audit(
        "ActivityDisplayName = 'Reset user password' AND "
        "TargetResources->>'$[0].userPrincipalName' = $upn",
        upn=manifest.password_reset_user_principal_name,
    )
    assert count(con, resets, manifest.scenario_spans["password_reset"]) == 1
