"""Run the Provisioning insights KPIs and the governance changes (config/health/*.yaml) and
read their rows as types.

The KQL lives in the question catalog, not here: the digest and `health` run the same
commands `alertbot ask` shows, by name, over an explicit [start, end) interval, with
values bound as literals (bot.ask.bind). Only the reading of the columns is code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from bot.ask.bind import bind_question
from bot.ask.catalog import Catalog
from bot.ask.timephrases import TimeWindow
from bot.errors import ConfigError
from bot.workspace.base import QueryResult, Workspace

HEALTH: Final = "provisioning-health"
STATUS_PER_DAY: Final = "provisioning-status-per-day"
TOP_ERRORS: Final = "provisioning-top-errors"
CYCLES: Final = "provisioning-cycles"
GOVERNANCE: Final = "governance-changes"
JOB_STATE: Final = "provisioning-job-state"
#: Every command the digest and `health` need from the catalog.
REQUIRED: Final = (HEALTH, STATUS_PER_DAY, TOP_ERRORS, CYCLES, GOVERNANCE, JOB_STATE)

Span = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class JobHealth:
    """One job's counts over a period (the workbook's "unique sync count by status")."""

    app: str
    job_id: str
    events: int
    success: int
    failure: int
    skipped: int
    warning: int
    objects: int
    disables_deletes: int
    last_event: datetime
    #: Success / (Success + Failure + Skipped + Warning) in percent, one decimal.
    success_rate: float | None
    hours_since_last: float
    #: The last Success in the period (None without one): a quarantine before it is over.
    last_success: datetime | None = None


@dataclass(frozen=True, slots=True)
class ErrorCount:
    app: str
    job_id: str
    error_code: str
    count: int
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class CycleCounts:
    cycle_id: str
    app: str
    job_id: str
    start: datetime
    events: int
    success: int
    failure: int
    skipped: int
    warning: int


@dataclass(frozen=True, slots=True)
class GovernanceCount:
    """One kind of governance change over a period, and its latest occurrence."""

    area: str
    change: str
    count: int
    last_at: datetime
    last_by: str
    last_target: str


ConfigState = Literal["Paused", "Deleted", "Quarantined", "Running"]
_STATES: Final[dict[str, ConfigState]] = {
    "Paused": "Paused", "Deleted": "Deleted", "Quarantined": "Quarantined", "Running": "Running",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class JobState:
    """An app's latest provisioning configuration change in AuditLogs (config/health,
    provisioning-job-state): paused, deleted, quarantined, or running again."""

    app: str
    state: ConfigState
    since: datetime
    #: Who made the change (a UPN, or the service that did: the quarantine's is the
    #: provisioning service).
    by: str
    activity: str


@dataclass(frozen=True, slots=True)
class StatusCount:
    bucket: datetime
    result: str
    events: int


def check_catalog(catalog: Catalog) -> None:
    """ConfigError naming the KPI commands the catalog lacks."""
    missing = [name for name in REQUIRED if catalog.find(name) is None]
    if missing:
        raise ConfigError(
            [f"the question catalog lacks the health command {name}" for name in missing]
        )


async def run_kpi(
    workspace: Workspace, catalog: Catalog, name: str, span: Span, *, job: str = ""
) -> QueryResult:
    """The catalog command `name` for one job (or all when empty) over [start, end)."""
    command = catalog.find(name)
    if command is None:
        raise ConfigError([f"the question catalog has no command {name!r}"])
    window = TimeWindow(spec=_spec(span), timespan=span, label=_label(span))
    values: Mapping[str, str] = {"job": job} if "job" in command.parameters else {}
    bound = bind_question(command, values, window, max_rows=catalog.limits.max_rows)
    return await workspace.query(bound.kql, timespan=bound.timespan)


async def job_health(
    workspace: Workspace, catalog: Catalog, span: Span, *, job: str = ""
) -> list[JobHealth]:
    rows = (await run_kpi(workspace, catalog, HEALTH, span, job=job)).as_dicts()
    return [_job_health(row) for row in rows]


async def top_errors(
    workspace: Workspace, catalog: Catalog, span: Span, *, job: str = ""
) -> list[ErrorCount]:
    rows = (await run_kpi(workspace, catalog, TOP_ERRORS, span, job=job)).as_dicts()
    return [
        ErrorCount(
            app=str(row["App"]),
            job_id=str(row["JobId"]),
            error_code=str(row["ErrorCode"]),
            count=int(row["Count"]),
            last_seen=row["LastSeen"],
        )
        for row in rows
    ]


async def cycles(
    workspace: Workspace, catalog: Catalog, span: Span, *, job: str
) -> list[CycleCounts]:
    rows = (await run_kpi(workspace, catalog, CYCLES, span, job=job)).as_dicts()
    return [
        CycleCounts(
            cycle_id=str(row["CycleId"]),
            app=str(row["App"]),
            job_id=str(row["JobId"]),
            start=row["Start"],
            events=int(row["Events"]),
            success=int(row["Success"]),
            failure=int(row["Failure"]),
            skipped=int(row["Skipped"]),
            warning=int(row["Warning"]),
        )
        for row in rows
    ]


async def status_per_bucket(
    workspace: Workspace, catalog: Catalog, span: Span, *, job: str = ""
) -> list[StatusCount]:
    rows = (await run_kpi(workspace, catalog, STATUS_PER_DAY, span, job=job)).as_dicts()
    return [
        StatusCount(
            bucket=row["TimeGenerated"], result=str(row["Result"]), events=int(row["Events"])
        )
        for row in rows
    ]


async def governance_changes(
    workspace: Workspace, catalog: Catalog, span: Span
) -> list[GovernanceCount]:
    rows = (await run_kpi(workspace, catalog, GOVERNANCE, span)).as_dicts()
    return [
        GovernanceCount(
            area=str(row["Area"]),
            change=str(row["Change"]),
            count=int(row["Count"]),
            last_at=row["LastAt"],
            last_by=str(row["LastBy"] or ""),
            last_target=str(row["LastTarget"] or ""),
        )
        for row in rows
    ]


async def job_states(workspace: Workspace, catalog: Catalog, span: Span) -> list[JobState]:
    """Each app's latest provisioning configuration change in `span` (the digest looks
    back STATE_LOOKBACK, so a job paused last week still shows paused)."""
    rows = (await run_kpi(workspace, catalog, JOB_STATE, span)).as_dicts()
    return [_job_state(row) for row in rows]


def _job_state(row: dict[str, Any]) -> JobState:
    state = _STATES.get(str(row["State"]))
    if state is None:
        raise ConfigError([f"{JOB_STATE} returned the unknown State {row['State']!r}"])
    return JobState(
        app=str(row["App"]),
        state=state,
        since=row["Since"],
        by=str(row["By"] or ""),
        activity=str(row["Activity"]),
    )


def _job_health(row: dict[str, Any]) -> JobHealth:
    rate = row["SuccessRate"]
    return JobHealth(
        app=str(row["App"]),
        job_id=str(row["JobId"]),
        events=int(row["Events"]),
        success=int(row["Success"]),
        failure=int(row["Failure"]),
        skipped=int(row["Skipped"]),
        warning=int(row["Warning"]),
        objects=int(row["Objects"]),
        disables_deletes=int(row["DisablesDeletes"]),
        last_event=row["LastEvent"],
        success_rate=None if rate is None else float(rate),
        hours_since_last=float(row["HoursSinceLast"]),
        last_success=row.get("LastSuccess"),
    )


def _spec(span: Span) -> str:
    hours = round((span[1] - span[0]).total_seconds() / 3600)
    return f"{hours}h" if hours < 48 else f"{hours // 24}d"


def _label(span: Span) -> str:
    start, end = span
    return f"from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
