"""load_demo: generate the demo tenant's AuditLogs and AADProvisioningLogs and load them in DuckDB.

The same DemoSpec always gives the same rows: every random choice comes from a
named stream seeded by the spec (timeline.stream), ids included, and nothing reads
the clock. Medium and large sizes add SCIM apps by cloning one job's rows in SQL; one more
copy, paused six days ago, is in every history long enough for it (scenario_paused).
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import duckdb

from bot.workspace.demo.audit_background import background_audit
from bot.workspace.demo.audit_rows import AuditContext, AuditEvent, audit_row
from bot.workspace.demo.catalog import (
    CUSTOM_EXTENSIONS,
    FAILING_EXTENSION,
    FAILING_WORKFLOW,
    PROFILES,
    WORKFLOWS,
    Catalog,
    Person,
    build_catalog,
    clone_app,
)
from bot.workspace.demo.provisioning_background import (
    Cycles,
    background_changes,
    populations,
    schedule,
)
from bot.workspace.demo.provisioning_rows import Change, RowWriter
from bot.workspace.demo.scenario_paused import StillPaused, pause_event, still_paused
from bot.workspace.demo.scenarios import (
    SCENARIO_OFFSETS,
    Planted,
    account_security_notice,
    at,
    history,
    lookup_followup,
    planted_audit,
)
from bot.workspace.demo.scenarios_provisioning import (
    CLONED_JOB,
    DISABLE_SPIKE_JOB,
    FAILURE_SPIKE_JOB,
    PAUSED_JOB,
    SILENT_JOB,
    UNRESOLVED_JOB,
    job_plans,
    planted_changes,
    planted_people,
)
from bot.workspace.demo.sink import Clone, bulk_load, clone_job, create_tables, cut_job
from bot.workspace.demo.spec import DemoJob, DemoManifest, DemoSpec
from bot.workspace.demo.timeline import Timeline, aware, build_timeline, guid, stream


def load_demo(
    con: duckdb.DuckDBPyConnection, spec: DemoSpec, *, schema: str = "raw"
) -> DemoManifest:
    """Create schema `schema` with tables AuditLogs and AADProvisioningLogs and fill them.

    Existing tables of that name are replaced. Returns what was planted where.
    """
    catalog = build_catalog(spec.seed, spec.size)
    timeline = build_timeline(spec.now, spec.days)
    people = populations(catalog, spec.seed)
    planted = _planted(catalog, people, spec.seed)
    cycles = schedule(catalog, timeline, spec.seed, job_plans(timeline))
    paused = still_paused(spec.seed, catalog.tenant_id, timeline)
    audit = _audit(catalog, timeline, spec, planted, paused)
    changes = _changes(catalog, timeline, spec, cycles, people, planted)
    counts = _load(
        con, schema, catalog, audit, changes, RowWriter(catalog, stream(spec.seed, "rows"))
    )
    clones = _clones(catalog, spec) + ([paused.clone] if paused else [])
    counts["AADProvisioningLogs"] += _load_clones(con, schema, catalog, timeline, clones)
    if paused is not None:
        counts["AADProvisioningLogs"] -= cut_job(con, schema, paused.clone.job_id, paused.at)
    return _manifest(spec, catalog, timeline, planted, clones, counts, paused)


def _load(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    catalog: Catalog,
    audit: list[AuditEvent],
    changes: list[Change],
    writer: RowWriter,
) -> dict[str, int]:
    """(Re)create the tables and bulk-load the rows; returns rows loaded per table."""
    create_tables(con, schema)
    with tempfile.TemporaryDirectory(prefix="entra-demo-") as name:
        directory = Path(name)
        audit_rows = (audit_row(e, catalog) for e in audit)
        provisioning_rows = (writer.row(c) for c in changes)
        return {
            "AuditLogs": bulk_load(con, schema, "AuditLogs", audit_rows, directory),
            "AADProvisioningLogs": bulk_load(
                con, schema, "AADProvisioningLogs", provisioning_rows, directory
            ),
        }


def _planted(catalog: Catalog, people: dict[str, tuple[Person, ...]], seed: int) -> Planted:
    rng = stream(seed, "planted")
    watched_add_user, lookup_user, unresolved_member = planted_people(catalog, people, rng)
    return Planted(
        connected_org_tenant_id=guid(rng),
        partner_tenant_id=guid(rng),
        watched_add_user=watched_add_user,
        lookup_user=lookup_user,
        unresolved_member=unresolved_member,
        unresolved_group=catalog.synced_groups[1].name,
    )


def _audit(
    catalog: Catalog,
    timeline: Timeline,
    spec: DemoSpec,
    planted: Planted,
    paused: StillPaused | None,
) -> list[AuditEvent]:
    events = background_audit(catalog, timeline, spec.seed, PROFILES[spec.size].audit_scale)
    ctx = AuditContext(stream(spec.seed, "planted-audit"), catalog, timeline)
    events += planted_audit(ctx, planted)
    events += history(ctx, catalog)
    followup = at(timeline, "password_reset") + timedelta(minutes=25)
    events.append(lookup_followup(ctx, planted.lookup_user, followup))
    events += account_security_notice(
        AuditContext(stream(spec.seed, "account-notice"), catalog, timeline)
    )
    if paused is not None:
        events.append(
            pause_event(AuditContext(stream(spec.seed, "pause"), catalog, timeline), paused)
        )
    return sorted((e for e in events if timeline.contains(e.time)), key=lambda e: e.time)


def _changes(
    catalog: Catalog,
    timeline: Timeline,
    spec: DemoSpec,
    cycles: Cycles,
    people: dict[str, tuple[Person, ...]],
    planted: Planted,
) -> list[Change]:
    plans = job_plans(timeline)
    profile = PROFILES[spec.size]
    changes = background_changes(
        catalog, timeline, cycles, people, seed=spec.seed, profile=profile, plans=plans
    )
    rng = stream(spec.seed, "planted-provisioning")
    changes += planted_changes(catalog, timeline, cycles, people, rng, planted)
    return sorted((c for c in changes if timeline.contains(c.time)), key=lambda c: c.time)


def _clones(catalog: Catalog, spec: DemoSpec) -> list[Clone]:
    clones = []
    for index in range(PROFILES[spec.size].clones):
        app, job_id = clone_app(spec.seed, index, catalog.tenant_id)
        target_id = str(uuid.uuid5(uuid.UUID(app.sp_id), "target-system"))
        shift = 3 + (index * 11) % 37
        clones.append(Clone(index, job_id, app.sp_id, target_id, app.name, shift))
    return clones


def _load_clones(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    catalog: Catalog,
    timeline: Timeline,
    clones: list[Clone],
) -> int:
    source = catalog.job(CLONED_JOB)
    return clone_job(
        con,
        schema,
        source_job_id=source.job_id,
        source_sp_id=source.app.sp_id,
        source_target_id=source.target_id,
        source_name=source.app.name,
        clones=clones,
        history_start=timeline.start,
    )


def _span(timeline: Timeline, start: timedelta, end: timedelta) -> tuple[datetime, datetime]:
    """Half-open [now - start, now - end + 1 s): events planted exactly at the end offset are
    inside; a span that reaches now ends at now."""
    last = min(timeline.now, timeline.now - end + timedelta(seconds=1))
    return aware(timeline.now - start), aware(last)


def _jobs(catalog: Catalog, clones: list[Clone]) -> Iterator[DemoJob]:
    for job in catalog.jobs:
        yield DemoJob(job.job_id, job.kind, job.app.name, job.app.sp_id)
    for clone in clones:
        yield DemoJob(clone.job_id, "scim_app", clone.app_name, clone.sp_id)


def _manifest(
    spec: DemoSpec,
    catalog: Catalog,
    timeline: Timeline,
    planted: Planted,
    clones: list[Clone],
    counts: dict[str, int],
    paused: StillPaused | None,
) -> DemoManifest:
    spans = {name: _span(timeline, start, end) for name, (start, end) in SCENARIO_OFFSETS.items()}
    return DemoManifest(
        spec=spec,
        jobs=tuple(_jobs(catalog, clones)),
        failure_spike_job_id=catalog.job(FAILURE_SPIKE_JOB).job_id,
        silent_job_id=catalog.job(SILENT_JOB).job_id,
        watched_group_ids=tuple(g.id for g in catalog.watched_groups),
        custom_extension_names=CUSTOM_EXTENSIONS,
        failing_custom_extension=FAILING_EXTENSION,
        workflow_names=WORKFLOWS,
        failing_workflow=FAILING_WORKFLOW,
        connected_org_tenant_id=planted.connected_org_tenant_id,
        cross_tenant_partner_tenant_id=planted.partner_tenant_id,
        recent_window=(aware(timeline.recent[0]), aware(timeline.recent[1])),
        quiet_window=(aware(timeline.quiet[0]), aware(timeline.quiet[1])),
        tenant_id=catalog.tenant_id,
        workspace_id=catalog.workspace_id,
        disable_spike_job_id=catalog.job(DISABLE_SPIKE_JOB).job_id,
        paused_job_id=catalog.job(PAUSED_JOB).job_id,
        still_paused_job_id=paused.clone.job_id if paused else "",
        still_paused_since=aware(paused.at) if paused else None,
        silent_since=aware(at(timeline, "silent_job")),
        unresolved_group_job_id=catalog.job(UNRESOLVED_JOB).job_id,
        unresolved_group_name=planted.unresolved_group,
        unresolved_member_id=planted.unresolved_member.object_id,
        lookup_source_identity_id=planted.lookup_user.object_id,
        lookup_user_principal_name=planted.lookup_user.upn,
        password_reset_user_principal_name=planted.lookup_user.upn,
        scenario_spans=MappingProxyType(spans),
        row_counts=MappingProxyType(counts),
    )
