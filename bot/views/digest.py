"""The provisioning digest and the `health` answer as data: per job KPIs, top errors with
their remediation hints, a chart with its table, per-cycle rows, governance changes by kind
and open alerts by severity (bot.views.digest_sections). Pure; every channel renders the
same view.

Plain data only (numbers, datetimes, a status word), so Teams (Adaptive Cards) and Slack
(Block Kit) each choose their own words, colours and time formats. `shrink()` keeps a
message within a channel's limits however many jobs there are: the chart goes first,
then the listed jobs are halved, the rest counted in `more_note` ("and 12 more, all healthy");
the open alerts per severity and the kinds of governance change are halved the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from bot.models import AlertEvent, AlertEventKind
from bot.views.digest_sections import Governance, OpenAlerts
from bot.views.model import CardView, Part, Table
from bot.views.query_views import Chart

#: `paused`, `deleted` and `quarantined` come from the app's latest provisioning
#: configuration change in AuditLogs (bot.health.kpis.JobState); a paused job that logs
#: nothing is paused, not silent.
JobStatus = Literal["quarantined", "failing", "silent", "paused", "deleted", "degraded", "healthy"]
#: Jobs kept before the chart is dropped to fit.
MIN_JOBS = 3


class DigestError(Part):
    code: str
    count: int
    last_seen: datetime
    #: What usually fixes it (config/health/hints), empty when none is known.
    hint: str = ""


class DigestJob(Part):
    """One job over the period, compared with the period before."""

    app: str
    job_id: str
    status: JobStatus
    events: int
    success: int
    failure: int
    skipped: int
    warning: int
    disables_deletes: int
    #: Success / (Success + Failure + Skipped + Warning), percent; None without events.
    success_rate: float | None
    #: Percentage points against the previous period; None when it had no events.
    rate_change: float | None
    #: None for a paused, deleted or quarantined job that logged nothing in the period.
    last_event: datetime | None
    hours_since_last: float | None
    top_errors: tuple[DigestError, ...] = ()
    #: Since when the job is paused, deleted or quarantined, and who did it (a UPN, or the
    #: provisioning service for a quarantine); None and empty for a running job.
    state_since: datetime | None = None
    state_by: str = ""


class DigestView(CardView):
    """The digest for one conversation and period (or `health` for one job: `cycles` set)."""

    title: str
    #: `Last 24 hours to 08:00 UTC`: the period in words.
    period: str
    as_of: datetime
    #: One line: `3 of 9 jobs need attention: 25 failures, 1 silent job`, or the quiet line.
    summary: str
    quiet: bool
    jobs: tuple[DigestJob, ...]
    #: Jobs not listed, said in words; empty when all are listed.
    more_note: str = ""
    #: Jobs not listed (for renderers that say it their own way).
    more_jobs: int = 0
    more_healthy: bool = True
    chart: Chart | None = None
    cycles: Table | None = None
    #: Governance changes by kind (the digest; None for one job's `health`).
    governance: Governance | None = None
    #: Open alerts by severity with their status (the digest; None for one job).
    open_alerts: OpenAlerts | None = None

    def shrink(self) -> Self | None:
        """Fewer jobs (down to MIN_JOBS), then no chart, fewer open alerts and kinds of
        governance change, fewer cycles, then fewer jobs."""
        if len(self.jobs) > MIN_JOBS:
            return self._fewer_jobs()
        if self.chart is not None:
            return self.model_copy(update={"chart": None})
        fewer_alerts = self.open_alerts.shrink() if self.open_alerts is not None else None
        if fewer_alerts is not None:
            return self.model_copy(update={"open_alerts": fewer_alerts})
        fewer_changes = self.governance.shrink() if self.governance is not None else None
        if fewer_changes is not None:
            return self.model_copy(update={"governance": fewer_changes})
        if self.cycles is not None and len(self.cycles.rows) > 1:
            fewer_cycles = self.cycles.shrink()
            if fewer_cycles is not None:
                return self.model_copy(update={"cycles": fewer_cycles})
        return self._fewer_jobs() if len(self.jobs) > 1 else None

    def _fewer_jobs(self) -> Self:
        keep = max(len(self.jobs) // 2, 1)
        dropped = self.jobs[keep:]
        more = self.more_jobs + len(dropped)
        healthy = self.more_healthy and all(job.status == "healthy" for job in dropped)
        return self.model_copy(
            update={
                "jobs": self.jobs[:keep],
                "more_jobs": more,
                "more_healthy": healthy,
                "more_note": more_jobs_note(more, healthy=healthy),
            }
        )


def more_jobs_note(count: int, *, healthy: bool) -> str:
    if not count:
        return ""
    jobs = f"{count} more job{'' if count == 1 else 's'}"
    return f"…and {jobs}, all healthy" if healthy else f"…and {jobs}"


def digest_of(event: AlertEvent) -> DigestView | None:
    """The digest view a DIGEST event carries (as JSON in `detail`), or None."""
    if event.kind is not AlertEventKind.DIGEST or not event.detail:
        return None
    try:
        return DigestView.model_validate_json(event.detail)
    except ValueError:
        return None
