"""Benchmark: the seed queries on the embedded engine, against hand-written DuckDB SQL.

Prints, for each demo size, the rows loaded, the load time and peak memory (after
loading, and after the queries), then per seed query the median latency through
LocalWorkspace (KQL: adapt, look up the translation, run, fetch, normalise to the values
of bot.workspace.base) and of the same question written by hand in DuckDB SQL, and their
ratio. The hand-written side runs its statement with `con.execute` and fetches every row
into Python tuples (`fetchall`), as the KQL side does, but converts nothing (JSON stays
text, times stay naive). Both return the same number of rows (checked; a mismatch is
flagged). The two sides' runs alternate, so a change in the machine's load falls on
both; the load average is printed with each table.

The demo is loaded as the bot loads it: generated into a DuckDB file (memory capped,
bot.workspace.demo.cache.write_demo) and attached read-only. `--in-memory` loads it
into in-memory tables instead (uncompressed: about 2.4 KB a row), as before.

    .venv/bin/python -m benchmarks.seed_queries [--runs medium:12,large:30] [--repeat 7]
        [--in-memory]

Each run is SIZE:DAYS of demo history: medium over 12 days is about 100k rows,
large over 30 days about 1.7 million.

A script that prints figures, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import duckdb_kql

from benchmarks.seed_corpus import SEED_QUERIES, Placeholders, fill, placeholders
from bot.workspace.demo import DemoManifest, DemoSpec, load_demo
from bot.workspace.demo.cache import attach_demo, write_demo
from bot.workspace.local import LocalWorkspace

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
IG = "Azure AD Identity Governance - User Management"
WORKFLOW_ACTIVITIES = (
    "('On-demand workflow execution completed', 'Scheduled workflow execution completed')"
)
CONFIG_ACTIVITIES = (
    "('Add provisioning configuration','Delete provisioning configuration',"
    "'Disable/pause provisioning configuration', 'Enable/restart provisioning configuration',"
    " 'Enable/start provisioning configuration')"
)


def hand_written_sql(values: Placeholders, now: datetime) -> dict[str, str]:
    """The same questions as the seed queries, written directly for DuckDB."""
    a = 'raw."AuditLogs"'
    p = 'raw."AADProvisioningLogs"'
    ts = f"TIMESTAMP '{now.replace(tzinfo=None).isoformat()}'"
    groups = ", ".join(f"'{g}'" for g in values.group_ids)
    extensions = ", ".join(f"'{e}'" for e in values.custom_extension_names)
    workflows = ", ".join(f"'{w}'" for w in values.workflow_names)
    return {
        "access_review_deleted": f"SELECT * FROM {a} WHERE ActivityDisplayName = ' Delete access review'",
        "direct_group_add": f"""SELECT *, InitiatedBy->>'$.user.displayName' AS ActorName FROM {a}
            WHERE TargetResources->>'$[1].id' IN ({groups}) AND ActivityDisplayName = 'Add member to group'
            AND coalesce(InitiatedBy->>'$.user.displayName', '') <> '{IG}'""",
        "connected_org_created": f"""SELECT DISTINCT regexp_extract(d->>'value', '\\n(.*)$', 1) AS TenantID
            FROM {a}, unnest(CAST(AdditionalDetails AS JSON[])) AS t(d)
            WHERE ActivityDisplayName = 'Create connected organization' AND d->>'key' = 'Description'""",
        "custom_extension": f"""SELECT a.*, tr->>'displayName' AS CustomExtensionName
            FROM {a} a, unnest(CAST(TargetResources AS JSON[])) AS t(tr)
            WHERE ActivityDisplayName = 'Execute custom extension' AND Result = 'success'
            AND tr->>'displayName' IN ({extensions})""",
        "workflow_failure": f"""SELECT DISTINCT Id FROM {a}, unnest(CAST(TargetResources AS JSON[])) AS t(tr)
            WHERE Category = 'WorkflowManagement' AND ActivityDisplayName IN {WORKFLOW_ACTIVITIES}
            AND Result = 'failure' AND tr->>'displayName' IN ({workflows})""",
        "cross_tenant_partner_added": f"""SELECT TimeGenerated, OperationName,
            InitiatedBy->'$.user.userPrincipalName' AS initiating_user,
            InitiatedBy->'$.user.ipAddress' AS source_ip, AADTenantId AS source_tenant,
            TargetResources->'$[0].modifiedProperties[0].newValue' AS target_tenant FROM {a}
            WHERE OperationName = 'Add a partner to cross-tenant access setting'
            AND TargetResources->>'$[0].modifiedProperties[0].displayName' = 'tenantId'""",
        "cross_tenant_sync_enabled": f"""SELECT * FROM {a}
            WHERE OperationName = 'Update a partner cross-tenant identity sync setting'
            AND contains(lower(CAST(TargetResources AS VARCHAR)), 'true')
            AND contains(lower(TargetResources->>'$[0].modifiedProperties[0].newValue'), 'true')""",
        "pim_alert_disabled": f"SELECT * FROM {a} WHERE ActivityDisplayName = 'Disable PIM alert'",
        "provisioning_failure_spike": f"SELECT * FROM {p} WHERE JobId = '{values.failure_job_id}' AND ResultType = 'Failure'",
        "provisioning_config_changed": f"SELECT * FROM {a} WHERE ActivityDisplayName IN {CONFIG_ACTIVITIES}",
        "events_for_source_identity": f"SELECT * FROM {p} WHERE SourceIdentity->>'$.Id' = '{values.source_identity_id}'",
        "count_by_error_code": f"SELECT ResultSignature AS ErrorCode, count(*) FROM {p} GROUP BY 1",
        "actions_per_day": f"""SELECT Action, time_bucket(INTERVAL 1 DAY, TimeGenerated) AS day, count(*)
            FROM {p} WHERE TimeGenerated > {ts} - INTERVAL 7 DAY GROUP BY 1, 2""",
        "key_properties": f"""SELECT ServicePrincipal->>'$.Id', ServicePrincipal->>'$.Name', ModifiedProperties,
            JobId, Id, CycleId, ChangeId, Action, SourceIdentity->'$.identityType', SourceIdentity->'$.details',
            TargetIdentity->'$.identityType', TargetIdentity->'$.details', ProvisioningSteps
            FROM {p} WHERE SourceIdentity->>'$.identityType' = 'Group' LIMIT 100""",
        "unresolved_group_members": f"""SELECT
            regexp_extract(ProvisioningSteps->>'$[2].description', 'of (.*?)\\.', 1) AS groupDisplayName,
            regexp_extract(ProvisioningSteps->>'$[2].description', 'assign (.*?) as the members', 1) AS userObjectId,
            JobId FROM {p} WHERE TimeGenerated >= {ts} - INTERVAL 10 DAY
            AND JobId = '{values.cross_tenant_job_id}' AND SourceIdentity->>'$.identityType' = 'Group'
            AND regexp_matches(ProvisioningSteps, 'UnableToResolveReferenceAttributeValue') LIMIT 100""",
        "actions_by_app": f"""SELECT ProvisioningSteps->>'$[#-1].name' AS eventName, JobId, count(*) FROM {p}
            WHERE TimeGenerated > {ts} - INTERVAL 30 DAY AND JobId = '{values.cross_tenant_job_id}'
            GROUP BY 1, 2 ORDER BY JobId LIMIT 5""",
        "operation_spikes": f"""SELECT ProvisioningSteps->>'$[#-1].name' AS eventName,
            time_bucket(INTERVAL 1 DAY, TimeGenerated) AS day, count(*) FROM {p}
            WHERE TimeGenerated > {ts} - INTERVAL 30 DAY AND JobId = '{values.scim_job_id}' GROUP BY 1, 2""",
        "failure_spike_alert": f"SELECT * FROM {p} WHERE JobId = '{values.failure_job_id}' AND ResultType = 'Failure'",
        "no_events_alert": f"SELECT * FROM {p} LIMIT 1",
        "disables_deletes_alert": f"SELECT * FROM {p} WHERE Action IN ('Disable', 'Delete')",
    }


def median_pair_ms(
    first: Callable[[], object], second: Callable[[], object], repeat: int
) -> tuple[float, float]:
    """Median latencies of two runs, alternated so that both see the same load."""
    first(), second()  # warm-up: first-run costs (plans, caches) are not what a schedule pays
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for run, into in ((first, samples[0]), (second, samples[1])):
            started = time.perf_counter()
            run()
            into.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples[0]), statistics.median(samples[1])


def load_average() -> str:
    with open("/proc/loadavg", encoding="ascii") as averages:
        return " ".join(averages.read().split()[:3])


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(
    spec: DemoSpec, directory: Path, *, in_memory: bool
) -> tuple[duckdb.DuckDBPyConnection, DemoManifest]:
    if in_memory:
        con = duckdb_kql.connect()
        return con, load_demo(con, spec)
    file = directory / "demo.duckdb"
    manifest = write_demo(spec, file)
    return attach_demo(file), manifest


def bench_size(size: str, days: int, repeat: int, *, in_memory: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="seed-queries-") as name:
        started = time.perf_counter()
        spec = DemoSpec(now=NOW, size=size, days=days)  # type: ignore[arg-type]
        con, manifest = load(spec, Path(name), in_memory=in_memory)
        load_s = time.perf_counter() - started
        loaded_mib = peak_mib()
        bench_queries(
            con,
            manifest,
            repeat,
            f"size={size}, {days} days, loaded in {load_s:.1f} s, peak RSS {loaded_mib:,.0f} MiB",
        )
        con.close()
    print(f"\npeak RSS after the queries: {peak_mib():,.0f} MiB")


def bench_queries(
    con: duckdb.DuckDBPyConnection, manifest: DemoManifest, repeat: int, title: str
) -> None:
    counts = manifest.row_counts
    print(
        f"\n## {title}: AuditLogs {counts['AuditLogs']:,} rows, "
        f"AADProvisioningLogs {counts['AADProvisioningLogs']:,} rows\n"
    )
    values = placeholders(manifest)
    sql = hand_written_sql(values, NOW)
    workspace = LocalWorkspace(con, clock=lambda: NOW)
    print(f"load average before: {load_average()}\n")
    print(f"| {'query':28} | {'rows':>7} | {'KQL ms':>8} | {'SQL ms':>8} | {'ratio':>6} |")
    print(f"|{'-' * 30}|{'-' * 9}|{'-' * 10}|{'-' * 10}|{'-' * 8}|")
    ratios = []
    for query in SEED_QUERIES:
        kql = fill(query, values)
        statement = sql[query.key]
        rows = len(workspace.run_sync(kql, timespan=None).rows)
        same = "" if rows == len(con.execute(statement).fetchall()) else " (SQL rows differ)"
        kql_ms, sql_ms = median_pair_ms(
            lambda kql=kql: workspace.run_sync(kql, timespan=None),
            lambda s=statement: con.execute(s).fetchall(),
            repeat,
        )
        ratios.append(kql_ms / sql_ms)
        print(
            f"| {query.key:28} | {rows:>7,} | {kql_ms:>8.1f} | {sql_ms:>8.1f} | {kql_ms / sql_ms:>6.2f} |{same}"
        )
    print(f"\nmedian ratio KQL/SQL: {statistics.median(ratios):.2f}x")
    print(f"load average after: {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--runs", default="medium:12,large:30", help="SIZE:DAYS,...")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--in-memory", action="store_true", help="load into in-memory tables, not a file"
    )
    args = parser.parse_args()
    for run in args.runs.split(","):
        size, _, days = run.strip().partition(":")
        bench_size(size, int(days or 30), args.repeat, in_memory=args.in_memory)


if __name__ == "__main__":
    main()
