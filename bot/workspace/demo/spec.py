"""Public types of the demo workspace: what to generate (DemoSpec), what was planted (Manifest)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

Size = Literal["small", "medium", "large"]
JobKind = Literal["hr_inbound", "scim_app", "cross_tenant_sync", "onprem_ad"]

#: Shortest history that still leaves a >= 24 h quiet window before the 24 h recent window.
MIN_DAYS = 2


@dataclass(frozen=True)
class DemoSpec:
    """What to generate. `now` is the anchor: every row lies in [now - days, now)."""

    now: datetime
    seed: int = 42
    days: int = 30
    size: Size = "small"

    def __post_init__(self) -> None:
        if self.now.tzinfo is None or self.now.utcoffset() is None:
            raise ValueError("DemoSpec.now must be timezone-aware (UTC)")
        object.__setattr__(self, "now", self.now.astimezone(UTC))
        if self.days < MIN_DAYS:
            raise ValueError(f"DemoSpec.days must be at least {MIN_DAYS}, got {self.days}")
        if self.size not in ("small", "medium", "large"):
            raise ValueError(f"DemoSpec.size must be small, medium or large, got {self.size!r}")


@dataclass(frozen=True)
class DemoJob:
    """One provisioning job that writes to AADProvisioningLogs."""

    job_id: str
    kind: str
    app_name: str
    service_principal_id: str


@dataclass(frozen=True)
class DemoManifest:
    """What was generated and planted, so tests and alert rules can fill seed placeholders.

    Every planted scenario lies inside `recent_window` (the 24 h before `now`); the
    exact span of each is in `scenario_spans` (keys listed in scenarios.SCENARIO_OFFSETS).
    Inside `quiet_window` none of the seed alert conditions holds.
    """

    spec: DemoSpec
    jobs: tuple[DemoJob, ...]
    failure_spike_job_id: str
    silent_job_id: str
    watched_group_ids: tuple[str, ...]
    custom_extension_names: tuple[str, ...]
    failing_custom_extension: str
    workflow_names: tuple[str, ...]
    failing_workflow: str
    connected_org_tenant_id: str
    cross_tenant_partner_tenant_id: str
    recent_window: tuple[datetime, datetime]
    quiet_window: tuple[datetime, datetime]
    #: The Entra tenant (AADTenantId) and the Log Analytics workspace (TenantId column).
    tenant_id: str
    workspace_id: str
    #: The job with the burst of "Disable" actions, and the hour it lies in.
    disable_spike_job_id: str
    #: The job whose provisioning configuration was paused and restarted (scenario 10).
    paused_job_id: str
    #: The job paused six days ago and never restarted (scenario_paused), logging nothing
    #: since `still_paused_since`; empty and None when the history is too short for it.
    still_paused_job_id: str
    still_paused_since: datetime | None
    #: The silent job's last row is before this time; it has no rows in [silent_since, now).
    silent_since: datetime
    #: A group on `unresolved_group_job_id` with a member that could not be resolved.
    unresolved_group_job_id: str
    unresolved_group_name: str
    unresolved_member_id: str
    #: A source identity (SourceIdentity.Id) present on several jobs, to look up.
    lookup_source_identity_id: str
    lookup_user_principal_name: str
    #: The user whose password an admin reset in the recent window (seed 004).
    password_reset_user_principal_name: str
    #: Planted scenario name -> [start, end) of the rows it planted.
    scenario_spans: Mapping[str, tuple[datetime, datetime]]
    #: Table name -> number of rows loaded.
    row_counts: Mapping[str, int]

    def job(self, job_id: str) -> DemoJob:
        """The job with this id; raises KeyError naming the known ids."""
        for job in self.jobs:
            if job.job_id == job_id:
                return job
        raise KeyError(f"no job {job_id!r}; jobs are {[j.job_id for j in self.jobs]}")
