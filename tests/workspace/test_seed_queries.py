"""Every seed query runs on the demo workspace and finds what the planted scenarios imply.

The queries are the seeds' own text (benchmarks/seed_corpus.py) with only their
placeholders filled from the demo manifest and their typographic quotes fixed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb_kql
import pytest
import pytest_asyncio

from benchmarks.seed_corpus import SEED_QUERIES, SeedQuery, fill, placeholders
from bot.workspace.base import QueryResult, TimeSpan
from bot.workspace.demo import DemoManifest, DemoSpec, load_demo
from bot.workspace.local import LocalWorkspace

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
IG_SERVICE_PRINCIPAL = "Azure AD Identity Governance - User Management"
#: The seed's custom-extension alert filters successes although its title says failure.
FAILURE_NOT_SUCCESS = ('Result == "success"', 'Result == "failure"')

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo() -> AsyncIterator[tuple[LocalWorkspace, DemoManifest]]:
    con = duckdb_kql.connect()
    manifest = load_demo(con, DemoSpec(now=NOW))
    workspace = LocalWorkspace(con, clock=lambda: NOW)
    yield workspace, manifest
    await workspace.close()


async def _run(
    demo: tuple[LocalWorkspace, DemoManifest],
    key: str,
    timespan: TimeSpan = None,
    replace: tuple[str, str] | None = None,
) -> QueryResult:
    """Run a filled seed query; `replace` corrects one more thing (the seed's quirks)."""
    workspace, manifest = demo
    query = next(q for q in SEED_QUERIES if q.key == key)
    text = fill(query, placeholders(manifest))
    if replace is not None:
        assert replace[0] in text
        text = text.replace(*replace)
    return await workspace.query(text, timespan=timespan)


def _column(result: QueryResult, name: str) -> list[Any]:
    index = result.column_index(name)
    return [row[index] for row in result.rows]


def _recent(manifest: DemoManifest) -> tuple[datetime, datetime]:
    return manifest.recent_window


@pytest.mark.parametrize("query", SEED_QUERIES, ids=lambda q: q.key)
async def test_every_seed_query_runs_after_filling_placeholders(
    demo: tuple[LocalWorkspace, DemoManifest], query: SeedQuery
) -> None:
    workspace, manifest = demo
    result = await workspace.query(fill(query, placeholders(manifest)), timespan=None)
    assert result.columns


async def test_access_review_deleted(demo: tuple[LocalWorkspace, DemoManifest]) -> None:
    _, manifest = demo
    verbatim = await _run(demo, "access_review_deleted", _recent(manifest))
    assert verbatim.rows == []  # the seed's stray leading space matches no real event
    fixed = await demo[0].query(
        'AuditLogs | where ActivityDisplayName == "Delete access review"',
        timespan=_recent(manifest),
    )
    assert len(fixed.rows) >= 1


async def test_direct_group_add_by_a_person(demo: tuple[LocalWorkspace, DemoManifest]) -> None:
    _, manifest = demo
    result = await _run(demo, "direct_group_add", _recent(manifest))
    assert result.rows
    assert IG_SERVICE_PRINCIPAL not in _column(result, "ActorName")
    targets = _column(result, "TargetResources")
    assert {t[1]["id"] for t in targets} <= set(manifest.watched_group_ids)


async def test_connected_organization_tenant(demo: tuple[LocalWorkspace, DemoManifest]) -> None:
    _, manifest = demo
    result = await _run(demo, "connected_org_created", _recent(manifest))
    assert _column(result, "TenantID") == [manifest.connected_org_tenant_id]


async def test_custom_extension_failure(demo: tuple[LocalWorkspace, DemoManifest]) -> None:
    _, manifest = demo
    as_written = await _run(demo, "custom_extension", _recent(manifest))
    assert set(_column(as_written, "Result")) <= {"success"}  # the seed's quirk
    failures = await _run(demo, "custom_extension", _recent(manifest), FAILURE_NOT_SUCCESS)
    assert set(_column(failures, "CustomExtensionName")) == {manifest.failing_custom_extension}


async def test_lifecycle_workflow_failure(demo: tuple[LocalWorkspace, DemoManifest]) -> None:
    _, manifest = demo
    result = await _run(demo, "workflow_failure", _recent(manifest))
    assert len(result.rows) >= 1
    assert [c.name for c in result.columns] == ["Id"]


async def test_cross_tenant_partner(demo: tuple[LocalWorkspace, DemoManifest]) -> None:
    _, manifest = demo
    result = await _run(demo, "cross_tenant_partner_added", _recent(manifest))
    assert [c.name for c in result.columns] == [
        "TimeGenerated", "OperationName", "initiating_user", "source_ip", "source_tenant",
        "target_tenant",
    ]  # fmt: skip
    assert manifest.cross_tenant_partner_tenant_id in str(_column(result, "target_tenant"))
    assert _column(result, "source_tenant") == [manifest.tenant_id] * len(result.rows)


@pytest.mark.parametrize(
    "key", ["cross_tenant_sync_enabled", "pim_alert_disabled", "provisioning_config_changed"]
)
async def test_governance_events_in_the_recent_window(
    demo: tuple[LocalWorkspace, DemoManifest], key: str
) -> None:
    _, manifest = demo
    assert (await _run(demo, key, _recent(manifest))).rows


@pytest.mark.parametrize("key", ["provisioning_failure_spike", "failure_spike_alert"])
async def test_failure_spike_exceeds_ten_in_24h(
    demo: tuple[LocalWorkspace, DemoManifest], key: str
) -> None:
    _, manifest = demo
    assert len((await _run(demo, key, _recent(manifest))).rows) > 10


async def test_disables_and_deletes_spike(demo: tuple[LocalWorkspace, DemoManifest]) -> None:
    _, manifest = demo
    recent = await _run(demo, "disables_deletes_alert", _recent(manifest))
    quiet = await _run(demo, "disables_deletes_alert", manifest.quiet_window)
    assert len(recent.rows) > 3 * max(1, len(quiet.rows))


async def test_silent_job_has_no_events_but_others_do(
    demo: tuple[LocalWorkspace, DemoManifest],
) -> None:
    workspace, manifest = demo
    since_silent = (manifest.silent_since, NOW)
    jobs = await workspace.query("AADProvisioningLogs | distinct JobId", timespan=since_silent)
    assert manifest.silent_job_id not in _column(jobs, "JobId")
    assert (await _run(demo, "no_events_alert", since_silent)).rows  # others keep running


async def test_sample_queries_answer_with_demo_data(
    demo: tuple[LocalWorkspace, DemoManifest],
) -> None:
    identity = await _run(demo, "events_for_source_identity")
    assert identity.rows
    codes = _column(await _run(demo, "count_by_error_code"), "ErrorCode")
    assert "UnableToResolveReferenceAttributeValue" in codes
    per_day = await _run(demo, "actions_per_day")
    assert {"Create", "Update", "Disable"} <= set(_column(per_day, "Action"))
    assert len(set(_column(per_day, "TimeGenerated"))) in (7, 8)
    groups = await _run(demo, "key_properties")
    assert 0 < len(groups.rows) <= 100
    assert set(_column(groups, "SourceIdentity_identityType")) == {"Group"}


async def test_groups_with_unresolved_members(demo: tuple[LocalWorkspace, DemoManifest]) -> None:
    _, manifest = demo
    result = await _run(demo, "unresolved_group_members")
    assert (manifest.unresolved_group_name, manifest.unresolved_member_id) in {
        (row[0], row[1]) for row in result.rows
    }


async def test_last_step_names_and_a_time_chart(
    demo: tuple[LocalWorkspace, DemoManifest],
) -> None:
    by_app = await _run(demo, "actions_by_app")
    assert 0 < len(by_app.rows) <= 5
    assert all(_column(by_app, "eventName"))
    chart = await _run(demo, "operation_spikes")
    assert chart.render == {"visualization": "timechart"}
    assert len(set(_column(chart, "TimeGenerated"))) >= 28


SEED_000_ALERTS = (
    "direct_group_add",
    "connected_org_created",
    "workflow_failure",
    "cross_tenant_partner_added",
    "cross_tenant_sync_enabled",
    "pim_alert_disabled",
    "provisioning_config_changed",
)


@pytest.mark.parametrize("key", SEED_000_ALERTS)
async def test_quiet_window_finds_nothing(
    demo: tuple[LocalWorkspace, DemoManifest], key: str
) -> None:
    _, manifest = demo
    assert (await _run(demo, key, manifest.quiet_window)).rows == []


async def test_quiet_window_has_no_spike_and_no_deletion(
    demo: tuple[LocalWorkspace, DemoManifest],
) -> None:
    workspace, manifest = demo
    failures = await workspace.query(
        "AADProvisioningLogs | where ResultType == 'Failure' | summarize n = count() by JobId",
        timespan=manifest.quiet_window,
    )
    assert all(n <= 10 for n in _column(failures, "n"))
    deleted = await workspace.query(
        "AuditLogs | where ActivityDisplayName == 'Delete access review'",
        timespan=manifest.quiet_window,
    )
    assert deleted.rows == []
    custom = await _run(demo, "custom_extension", manifest.quiet_window, FAILURE_NOT_SUCCESS)
    assert custom.rows == []
    assert manifest.quiet_window[1] - manifest.quiet_window[0] >= DAY
