"""The workbook KPIs in config/questions/health.yaml, checked against figures computed by hand.

"By hand" is plain SQL over the generated rows (no KQL engine), plus what the demo plants
(bot/workspace/demo/scenarios.py): 25 ServiceNow failures (Unauthorized) in the last 24 h
and none in the background there, 60 Workday disables, the AD job silent for 8 hours.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.ask.catalog import Catalog
from bot.health import kpis
from bot.workspace.demo import DemoManifest
from bot.workspace.demo.scenarios import DISABLE_SPIKE_COUNT, FAILURE_SPIKE_COUNT
from bot.workspace.local import LocalWorkspace
from tests.health.conftest import NOW, Raw

DAY = (NOW - timedelta(hours=24), NOW)
Demo = tuple[LocalWorkspace, DemoManifest, Raw]

_BY_JOB = """
select JobId, count(*), count(*) filter (where ResultType = 'Success'),
       count(*) filter (where ResultType = 'Failure'),
       count(*) filter (where ResultType = 'Skipped'),
       count(*) filter (where ResultType = 'Warning'),
       count(distinct json_extract_string(SourceIdentity, '$.Id')),
       count(*) filter (where Action in ('Disable', 'Delete', 'StagedDelete')), max(TimeGenerated)
from raw.AADProvisioningLogs where TimeGenerated >= ? and TimeGenerated < ? group by JobId
"""


def _naive(span: tuple) -> list:  # type: ignore[type-arg]
    return [moment.replace(tzinfo=None) for moment in span]


async def test_health_per_job_matches_the_rows_counted_by_hand(
    health_demo: Demo, health_catalog: Catalog
) -> None:
    workspace, _, raw = health_demo
    found = {job.job_id: job for job in await kpis.job_health(workspace, health_catalog, DAY)}
    by_hand = {row[0]: row[1:] for row in raw.rows(_BY_JOB, *_naive(DAY))}
    assert set(found) == set(by_hand)
    assert len(found) >= 5
    for job_id, (events, ok, failed, skipped, warned, objects, removals, last) in by_hand.items():
        job = found[job_id]
        assert (job.events, job.success, job.failure, job.skipped, job.warning) == (
            events, ok, failed, skipped, warned,
        )  # fmt: skip
        assert (job.objects, job.disables_deletes) == (objects, removals)
        assert job.last_event.replace(tzinfo=None) == last
        assert job.success_rate == round(100 * ok / (ok + failed + skipped + warned), 1)


async def test_the_planted_spike_and_the_silent_job_show(
    health_demo: Demo, health_catalog: Catalog
) -> None:
    workspace, manifest, _ = health_demo
    found = {job.job_id: job for job in await kpis.job_health(workspace, health_catalog, DAY)}
    spike = found[manifest.failure_spike_job_id]
    assert spike.failure == FAILURE_SPIKE_COUNT  # no background failures in the last 24 h
    assert found[manifest.disable_spike_job_id].disables_deletes >= DISABLE_SPIKE_COUNT
    silent = found[manifest.silent_job_id]
    assert silent.last_event < manifest.silent_since
    assert silent.hours_since_last >= 8.0
    assert all(job.hours_since_last < 1 for key, job in found.items() if key != silent.job_id)
    # ordered by failures: the spike job first
    first = (await kpis.job_health(workspace, health_catalog, DAY))[0]
    assert first.job_id == manifest.failure_spike_job_id


async def test_top_errors_name_the_expired_token(
    health_demo: Demo, health_catalog: Catalog
) -> None:
    workspace, manifest, raw = health_demo
    errors = await kpis.top_errors(workspace, health_catalog, DAY)
    spike = [e for e in errors if e.job_id == manifest.failure_spike_job_id]
    assert [(e.error_code, e.count) for e in spike] == [("Unauthorized", FAILURE_SPIKE_COUNT)]
    (last,) = raw.rows(
        "select max(TimeGenerated) from raw.AADProvisioningLogs where JobId = ? "
        "and ResultType = 'Failure' and TimeGenerated >= ? and TimeGenerated < ?",
        manifest.failure_spike_job_id, *_naive(DAY),
    )  # fmt: skip
    assert spike[0].last_seen.replace(tzinfo=None) == last[0]
    total = raw.rows(
        "select count(*) from raw.AADProvisioningLogs where ResultType = 'Failure' "
        "and TimeGenerated >= ? and TimeGenerated < ?",
        *_naive(DAY),
    )[0][0]
    assert sum(e.count for e in errors) == total


async def test_cycles_of_one_job_match_the_rows(health_demo: Demo, health_catalog: Catalog) -> None:
    workspace, manifest, raw = health_demo
    job = manifest.failure_spike_job_id
    found = await kpis.cycles(workspace, health_catalog, DAY, job=job)
    by_hand = raw.rows(
        "select CycleId, min(TimeGenerated), count(*), "
        "count(*) filter (where ResultType = 'Failure') "
        "from raw.AADProvisioningLogs where JobId = ? and TimeGenerated >= ? and TimeGenerated < ? "
        "group by CycleId order by 2 desc",
        job, *_naive(DAY),
    )  # fmt: skip
    assert [(c.cycle_id, c.start.replace(tzinfo=None), c.events, c.failure) for c in found] == [
        tuple(row) for row in by_hand
    ]
    assert sum(c.failure for c in found) == FAILURE_SPIKE_COUNT
    assert all(c.job_id == job for c in found)


async def test_status_per_day_adds_up_to_the_week(
    health_demo: Demo, health_catalog: Catalog
) -> None:
    workspace, _, raw = health_demo
    week = (NOW - timedelta(days=7), NOW)
    found = await kpis.status_per_bucket(workspace, health_catalog, week)
    by_hand = dict(
        raw.rows(
            "select ResultType, count(*) from raw.AADProvisioningLogs "
            "where TimeGenerated >= ? and TimeGenerated < ? group by ResultType",
            *_naive(week),
        )
    )
    totals: dict[str, int] = {}
    for row in found:
        totals[row.result] = totals.get(row.result, 0) + row.events
    assert totals == by_hand
    assert len({row.bucket for row in found}) == 8  # days, the first and last partial


def test_the_catalog_has_every_health_command(health_catalog: Catalog) -> None:
    kpis.check_catalog(health_catalog)


@pytest.mark.parametrize("job", ['x" or 1==1 //', "servicenow\n| take 1"])
async def test_job_text_never_changes_the_query(
    health_demo: Demo, health_catalog: Catalog, job: str
) -> None:
    workspace, _, _ = health_demo
    assert await kpis.job_health(workspace, health_catalog, DAY, job=job) == []
