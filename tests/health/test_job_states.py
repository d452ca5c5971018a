"""Paused, deleted and quarantined jobs (config/health/provisioning.yaml,
provisioning-job-state) checked against the audit rows read by hand, and how the digest
joins them to its jobs by app name.

"By hand" is plain SQL over raw.AuditLogs (no KQL engine), plus what the demo plants
(bot/workspace/demo/scenario_paused.py and scenarios.py): Greenhouse Recruiting paused six
days ago and never restarted (its job logs nothing since), ServiceNow paused and restarted
2 h 50 min - 2 h 35 min ago (it shows its normal status: failing, with the planted spike).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.ask.catalog import Catalog
from bot.health import kpis
from bot.health.digest import STATE_LOOKBACK, DigestData, collect, digest_view
from bot.health.kpis import ConfigState, JobHealth, JobState
from bot.workspace.demo import DemoManifest
from bot.workspace.demo.scenario_paused import STILL_PAUSED_AGO, STILL_PAUSED_APP
from bot.workspace.demo.scenarios import FAILURE_SPIKE_COUNT
from bot.workspace.local import LocalWorkspace
from tests.health.conftest import NOW, Raw

DAY = (NOW - timedelta(hours=24), NOW)
LOOKBACK = (NOW - STATE_LOOKBACK, NOW)
Demo = tuple[LocalWorkspace, DemoManifest, Raw]
#: The activities and the state each leaves the job in, written out again here.
STATES = {
    "Add provisioning configuration": "Running",
    "Enable/start provisioning configuration": "Running",
    "Enable/restart provisioning configuration": "Running",
    "Disable/pause provisioning configuration": "Paused",
    "Delete provisioning configuration": "Deleted",
    "Quarantine": "Quarantined",
}
_ROWS = """
select TimeGenerated, ActivityDisplayName,
       coalesce(nullif(json_extract_string(InitiatedBy, '$.user.userPrincipalName'), ''),
                json_extract_string(InitiatedBy, '$.app.displayName')),
       json_extract_string(TargetResources, '$[0].displayName')
from raw.AuditLogs where TimeGenerated >= ? and TimeGenerated < ?
"""


def by_hand(raw: Raw, span: tuple[datetime, datetime]) -> dict[str, tuple[str, datetime, str]]:
    """App -> (state, since, by) of its latest provisioning configuration change."""
    latest: dict[str, tuple[datetime, str, str]] = {}
    for at, activity, by, app in raw.rows(_ROWS, *(t.replace(tzinfo=None) for t in span)):
        if activity in STATES and (app not in latest or at > latest[app][0]):
            latest[app] = (at, activity, by)
    return {app: (STATES[activity], at, by) for app, (at, activity, by) in latest.items()}


async def test_the_latest_change_per_app_matches_the_rows_read_by_hand(
    health_demo: Demo, health_catalog: Catalog
) -> None:
    workspace, _, raw = health_demo
    found = await kpis.job_states(workspace, health_catalog, LOOKBACK)
    assert {s.app: (s.state, s.since.replace(tzinfo=None), s.by) for s in found} == by_hand(
        raw, LOOKBACK
    )
    assert {s.app: s.state for s in found} == {
        STILL_PAUSED_APP: "Paused",
        "ServiceNow": "Running",  # paused and restarted in the last day
    }


async def test_the_pause_six_days_ago_needs_the_long_lookback(
    health_demo: Demo, health_catalog: Catalog
) -> None:
    workspace, manifest, _ = health_demo
    (paused,) = [
        s for s in await kpis.job_states(workspace, health_catalog, LOOKBACK) if s.state == "Paused"
    ]
    assert paused.since == manifest.still_paused_since == NOW - STILL_PAUSED_AGO
    assert paused.activity == "Disable/pause provisioning configuration"
    assert paused.by.endswith("@woodgrove.com")
    last_day = await kpis.job_states(workspace, health_catalog, DAY)
    assert [s.app for s in last_day] == ["ServiceNow"]


async def test_the_digest_lists_the_paused_app_and_servicenow_as_usual(
    health_demo: Demo, health_catalog: Catalog
) -> None:
    workspace, manifest, _ = health_demo
    view = digest_view(await collect(workspace, health_catalog, DAY), now=NOW)
    jobs = {job.app: job for job in view.jobs}
    paused = jobs[STILL_PAUSED_APP]
    assert (paused.status, paused.events, paused.last_event) == ("paused", 0, None)
    assert paused.state_since == manifest.still_paused_since
    assert paused.state_by.endswith("@woodgrove.com")
    servicenow = jobs["ServiceNow"]
    assert (servicenow.status, servicenow.failure) == ("failing", FAILURE_SPIKE_COUNT)
    assert (servicenow.state_since, servicenow.state_by) == (None, "")
    assert [job.status for job in view.jobs][:3] == ["failing", "silent", "paused"]
    failures = sum(j.failure for j in await kpis.job_health(workspace, health_catalog, DAY))
    assert view.summary == (
        f"3 of 6 jobs need attention: {failures} failures, 1 silent job, 1 paused job."
    )


async def test_one_jobs_health_lists_no_other_paused_app(
    health_demo: Demo, health_catalog: Catalog
) -> None:
    workspace, manifest, _ = health_demo
    data = await collect(workspace, health_catalog, DAY, job=manifest.failure_spike_job_id)
    view = digest_view(data, now=NOW)
    assert [(job.app, job.status) for job in view.jobs] == [("ServiceNow", "failing")]


def job(app: str, *, silent_hours: float = 0.2, last_success: float | None = 0.2) -> JobHealth:
    return JobHealth(
        app=app,
        job_id=f"scim.{app}",
        events=100,
        success=100,
        failure=0,
        skipped=0,
        warning=0,
        objects=50,
        disables_deletes=0,
        last_event=NOW - timedelta(hours=silent_hours),
        success_rate=100.0,
        hours_since_last=silent_hours,
        last_success=None if last_success is None else NOW - timedelta(hours=last_success),
    )


def state(app: str, kind: ConfigState, hours_ago: float) -> JobState:
    activity = next(a for a, s in STATES.items() if s == kind)
    return JobState(app, kind, NOW - timedelta(hours=hours_ago), "admin@woodgrove.com", activity)


def statuses(jobs: list[JobHealth], states: list[JobState]) -> dict[str, str]:
    data = DigestData(DAY, jobs, jobs, [], [])
    view = digest_view(replace(data, states=states), now=NOW)
    return {j.app: j.status for j in view.jobs}


def test_a_resumed_job_shows_its_usual_status() -> None:
    jobs = [job("Resumed", silent_hours=3), job("Restarted")]
    states = [state("Resumed", "Running", 5), state("Restarted", "Running", 1)]
    assert statuses(jobs, states) == {"Resumed": "silent", "Restarted": "healthy"}


def test_a_paused_job_that_logs_nothing_is_paused_not_silent() -> None:
    jobs = [job("Paused", silent_hours=6), job("Deleted")]
    # joined by app name, whatever its case
    states = [state("paused", "Paused", 6), state("Deleted", "Deleted", 0.1)]
    assert statuses(jobs, states) == {"Paused": "paused", "Deleted": "deleted"}


def test_a_quarantine_is_over_once_the_job_succeeds_again() -> None:
    jobs = [
        job("Still", last_success=5),
        job("Over", last_success=0.5),
        job("Never", last_success=None),
    ]
    states = [state(app, "Quarantined", 3) for app in ("Still", "Over", "Never")]
    assert statuses(jobs, states) == {
        "Still": "quarantined",
        "Never": "quarantined",
        "Over": "healthy",
    }
