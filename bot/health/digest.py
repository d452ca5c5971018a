"""Build the provisioning digest view from the catalog's KPIs: this period against the last.

`collect` runs the KPI commands (bot.health.kpis); `digest_view` is pure: it ranks the
jobs (quarantined, failing, silent, paused, deleted, degraded, then healthy), lists the
first `top` and counts the rest,
gives each top error code its remediation hint, charts failures per day with the same
numbers in a table for hosts without charts, and adds the governance changes by kind and
the open alerts (read from the store by the service) when the digest has them.

Paused, deleted and quarantined come from AuditLogs (kpis.job_states, over the last
STATE_LOOKBACK), joined to the jobs by app name (the job rows' `App` is the service
principal's name, the audit entries' target is the same service principal): the app's
latest provisioning configuration change decides. A pause or delete holds until a start or
restart is logged; a quarantine holds until the job logs a success after it (leaving
quarantine is not logged; the portal's progress bar or Graph's synchronizationJob status
says for sure). A paused, deleted or quarantined app that logged nothing in the period is
still listed (every job's digest only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bot import messages
from bot.ask.catalog import Catalog
from bot.health.kpis import (
    CycleCounts,
    ErrorCount,
    GovernanceCount,
    JobHealth,
    JobState,
    Span,
    StatusCount,
    cycles,
    governance_changes,
    job_health,
    job_states,
    status_per_bucket,
    top_errors,
)
from bot.views.digest import DigestError, DigestJob, DigestView, JobStatus, more_jobs_note
from bot.views.digest_sections import Governance, GovernanceChange, OpenAlerts
from bot.views.model import Row, Table
from bot.views.query_views import BarPoint, Chart
from bot.workspace.base import Workspace

#: Jobs listed by name; the rest are counted.
TOP_JOBS: Final = 8
#: Error codes listed per job.
TOP_ERRORS: Final = 3
#: A job whose failures are at least this share of its events is failing (a stray one is not).
FAILING_PERCENT: Final = 2.0
#: A job that logged nothing for this long is silent (cycles run every ~40 minutes).
SILENT_AFTER_HOURS: Final = 2.0
#: A success rate this many points below the previous period's is degraded.
DEGRADED_POINTS: Final = 5.0
#: Cycles listed by `health`, newest first.
MAX_CYCLES: Final = 48
#: Days charted.
CHART_DAYS: Final = 7
#: Kinds of governance change listed; the rest are counted.
TOP_CHANGES: Final = 8
#: How far back a pause, delete or quarantine is looked for.
STATE_LOOKBACK: Final = timedelta(days=30)
_RANK: Final[dict[JobStatus, int]] = {
    "quarantined": 0, "failing": 1, "silent": 2, "paused": 3, "deleted": 4, "degraded": 5,
    "healthy": 6,
}  # fmt: skip
#: How the summary counts each status that needs attention (failures are counted apart).
_SUMMARY_WORDS: Final[tuple[tuple[JobStatus, str], ...]] = (
    ("quarantined", "quarantined job"),
    ("silent", "silent job"),
    ("paused", "paused job"),
    ("deleted", "deleted job"),
)


@dataclass(frozen=True, slots=True)
class DigestData:
    """What the KPI queries returned for one digest."""

    period: Span
    current: Sequence[JobHealth]
    previous: Sequence[JobHealth]
    errors: Sequence[ErrorCount]
    per_day: Sequence[StatusCount]
    cycles: Sequence[CycleCounts] | None = None
    #: Governance changes by kind (every job's digest only).
    governance: Sequence[GovernanceCount] | None = None
    #: Open alerts by severity, from the store (the digest, when the service has a store).
    open_alerts: OpenAlerts | None = None
    #: Each app's latest provisioning configuration change (paused, deleted, ...).
    states: Sequence[JobState] = ()
    #: The one job the data is for (`health`); empty for every job's digest.
    job: str = ""


def no_hint(code: str) -> str:
    return ""


async def collect(
    workspace: Workspace, catalog: Catalog, period: Span, *, job: str = ""
) -> DigestData:
    """Every KPI the digest needs for `period` (and the period of the same length before);
    for every job (no `job`) also the governance changes of the period."""
    start, end = period
    before = (start - (end - start), start)
    week = (end - timedelta(days=CHART_DAYS), end)
    lookback = (min(start, end - STATE_LOOKBACK), end)
    return DigestData(
        period=period,
        current=await job_health(workspace, catalog, period, job=job),
        previous=await job_health(workspace, catalog, before, job=job),
        errors=await top_errors(workspace, catalog, period, job=job),
        per_day=await status_per_bucket(workspace, catalog, week, job=job),
        cycles=await cycles(workspace, catalog, period, job=job) if job else None,
        governance=None if job else await governance_changes(workspace, catalog, period),
        states=await job_states(workspace, catalog, lookback),
        job=job,
    )


def digest_view(
    data: DigestData,
    *,
    now: datetime,
    title: str = "Provisioning digest",
    top: int = TOP_JOBS,
    hints: Callable[[str], str] = no_hint,
) -> DigestView:
    previous = {job.job_id: job for job in data.previous}
    states = {state.app.casefold(): state for state in data.states}
    listed = [
        _job(job, previous.get(job.job_id), data.errors, hints, states.get(job.app.casefold()))
        for job in data.current
    ]
    logged = {job.app.casefold() for job in data.current}
    for key, state in states.items():
        held = _held(state, None)
        if held and key not in logged and not data.job:
            listed.append(_idle(state, held))
    jobs = sorted(listed, key=lambda j: (_RANK[j.status], -j.failure, j.app.lower()))
    shown, hidden = jobs[:top], jobs[top:]
    healthy = all(job.status == "healthy" for job in hidden)
    return DigestView(
        title=title,
        period=_period_text(data.period),
        as_of=now,
        summary=_summary(jobs),
        quiet=not any(job.status != "healthy" for job in jobs),
        jobs=tuple(shown),
        more_jobs=len(hidden),
        more_healthy=healthy,
        more_note=more_jobs_note(len(hidden), healthy=healthy),
        chart=_chart(data.per_day),
        cycles=_cycles(data.cycles),
        governance=None if data.governance is None else governance(data.governance),
        open_alerts=data.open_alerts,
    )


def governance(found: Sequence[GovernanceCount], *, top: int = TOP_CHANGES) -> Governance:
    """The kinds of change, most frequent first; one quiet line when there were none."""
    ordered = sorted(found, key=lambda g: (-g.count, g.change))
    more = len(ordered) - top
    return Governance(
        changes=tuple(
            GovernanceChange(
                area=g.area,
                change=g.change,
                count=g.count,
                last_at=g.last_at,
                last_by=g.last_by,
                last_target=g.last_target,
            )
            for g in ordered[:top]
        ),
        more_kinds=max(more, 0),
        more_note=messages.digest_more_change_kinds(more) if more > 0 else "",
        note="" if ordered else messages.digest_no_governance_changes(),
    )


def _job(
    job: JobHealth,
    before: JobHealth | None,
    errors: Sequence[ErrorCount],
    hints: Callable[[str], str],
    state: JobState | None,
) -> DigestJob:
    change = (
        None
        if before is None or before.success_rate is None or job.success_rate is None
        else round(job.success_rate - before.success_rate, 1)
    )
    mine = [e for e in errors if e.job_id == job.job_id][:TOP_ERRORS]
    held = _held(state, job.last_success)
    return DigestJob(
        app=job.app,
        job_id=job.job_id,
        status=held or _status(job, change),
        events=job.events,
        success=job.success,
        failure=job.failure,
        skipped=job.skipped,
        warning=job.warning,
        disables_deletes=job.disables_deletes,
        success_rate=job.success_rate,
        rate_change=change,
        last_event=job.last_event,
        hours_since_last=job.hours_since_last,
        top_errors=tuple(
            DigestError(
                code=e.error_code, count=e.count, last_seen=e.last_seen, hint=hints(e.error_code)
            )
            for e in mine
        ),
        state_since=state.since if held and state else None,
        state_by=state.by if held and state else "",
    )


def _held(state: JobState | None, last_success: datetime | None) -> JobStatus | None:
    """The status the app's latest configuration change holds the job in, if any."""
    if state is None:
        return None
    if state.state == "Paused":
        return "paused"
    if state.state == "Deleted":
        return "deleted"
    over = last_success is not None and last_success > state.since
    return "quarantined" if state.state == "Quarantined" and not over else None


def _idle(state: JobState, status: JobStatus) -> DigestJob:
    """A paused, deleted or quarantined app whose job logged nothing in the period."""
    return DigestJob(
        app=state.app,
        job_id="",
        status=status,
        events=0,
        success=0,
        failure=0,
        skipped=0,
        warning=0,
        disables_deletes=0,
        success_rate=None,
        rate_change=None,
        last_event=None,
        hours_since_last=None,
        state_since=state.since,
        state_by=state.by,
    )


def _status(job: JobHealth, change: float | None) -> JobStatus:
    if job.failure and job.failure * 100 >= FAILING_PERCENT * job.events:
        return "failing"
    if job.hours_since_last >= SILENT_AFTER_HOURS:
        return "silent"
    if change is not None and change <= -DEGRADED_POINTS:
        return "degraded"
    return "healthy"


def _summary(jobs: Sequence[DigestJob]) -> str:
    if not jobs:
        return "No provisioning job logged anything in this period."
    attention = [job for job in jobs if job.status != "healthy"]
    if not attention:
        return f"All {len(jobs)} provisioning jobs healthy: no failures, none silent."
    failures = sum(job.failure for job in jobs)
    parts = [f"{failures} failure{'' if failures == 1 else 's'}"] if failures else []
    for status, noun in _SUMMARY_WORDS:
        count = sum(job.status == status for job in jobs)
        if count:
            parts.append(f"{count} {noun}{'' if count == 1 else 's'}")
    degraded = sum(job.status == "degraded" for job in jobs)
    if degraded:
        parts.append(f"{degraded} with a lower success rate")
    verb = "needs" if len(attention) == 1 else "need"
    return f"{len(attention)} of {len(jobs)} jobs {verb} attention: {', '.join(parts)}."


def _chart(per_day: Sequence[StatusCount]) -> Chart | None:
    days: dict[datetime, dict[str, int]] = {}
    for row in per_day:
        days.setdefault(row.bucket, {})[row.result] = row.events
    if not days:
        return None
    ordered = sorted(days.items())
    rows = []
    for day, counts in ordered:
        total = sum(counts.values())
        rate = 100.0 * counts.get("Success", 0) / total if total else 0.0
        rows.append(
            Row(
                cells=(f"{day:%a %d %b}", str(total), str(counts.get("Failure", 0)), f"{rate:.1f}%")
            )
        )
    return Chart(
        kind="bar",
        bar=True,
        line=False,
        title="Failures per day",
        x_title="Day (UTC)",
        y_title="Failures",
        bars=tuple(
            BarPoint(x=f"{day:%a %d}", y=float(counts.get("Failure", 0))) for day, counts in ordered
        ),
        table=Table(columns=("Day", "Events", "Failures", "Success rate"), rows=tuple(rows)),
    )


def _cycles(found: Sequence[CycleCounts] | None) -> Table | None:
    """Newest first: CycleId, start, events and the counts by result in one cell."""
    if found is None:
        return None
    shown = found[:MAX_CYCLES]
    more = len(found) - len(shown)
    return Table(
        columns=("CycleId", "Start (UTC)", "Events", "Success / Failure / Skipped / Warning"),
        rows=tuple(
            Row(
                cells=(
                    c.cycle_id,
                    f"{c.start:%d %b %H:%M}",
                    str(c.events),
                    f"{c.success} / {c.failure} / {c.skipped} / {c.warning}",
                )
            )
            for c in shown
        ),
        more_rows=more,
        more_note=f"…and {more} older cycles" if more else "",
    )


def _period_text(period: Span) -> str:
    start, end = period
    hours = (end - start).total_seconds() / 3600
    length = f"{hours:g} hours" if hours < 48 else f"{hours / 24:g} days"
    return f"Last {length} to {end:%a %d %b %H:%M} UTC"
