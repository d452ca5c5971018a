"""The embedded workspace: time spans, values, errors and limits, on hand-made rows."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import duckdb_kql
import pytest

from bot.errors import QueryError, QueryTimeoutError, UnsupportedQueryError
from bot.workspace.local import LocalWorkspace, create_tables

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _insert_audit(con: object, hours_ago: float, activity: str, **dynamic: object) -> None:
    moment = (NOW - timedelta(hours=hours_ago)).replace(tzinfo=None)
    con.execute(  # type: ignore[attr-defined]
        "INSERT INTO raw.AuditLogs (TimeGenerated, ActivityDisplayName, DurationMs, "
        "InitiatedBy, TargetResources, AdditionalDetails) VALUES (?, ?, ?, ?, ?, ?)",
        [
            moment,
            activity,
            42,
            json.dumps(dynamic.get("initiated_by", {"user": {"displayName": "Alex"}})),
            json.dumps(dynamic.get("targets", [])),
            json.dumps(dynamic.get("details", [])),
        ],
    )


@pytest.fixture
async def workspace() -> AsyncIterator[LocalWorkspace]:
    con = duckdb_kql.connect()
    create_tables(con)
    _insert_audit(con, 1, "Delete access review")
    _insert_audit(con, 30, "Disable PIM alert")
    _insert_audit(
        con,
        2,
        "Create connected organization",
        details=[{"key": "Description", "value": "Contoso\n11111111-2222-3333-4444-555555555555"}],
    )
    _insert_audit(
        con,
        3,
        "Add member to group",
        targets=[{"id": "user-1"}, {"id": "8c7f0b8e-0000-4000-8000-00000000abcd"}],
    )
    ws = LocalWorkspace(con, clock=lambda: NOW, max_rows=3)
    yield ws
    await ws.close()


async def _activities(ws: LocalWorkspace, **kwargs: object) -> list[str]:
    result = await ws.query("AuditLogs | project ActivityDisplayName", **kwargs)  # type: ignore[arg-type]
    return sorted(row[0] for row in result.rows)


async def test_a_duration_ends_at_the_clock(workspace: LocalWorkspace) -> None:
    assert await _activities(workspace, timespan=timedelta(hours=2, minutes=30)) == [
        "Create connected organization",
        "Delete access review",
    ]


async def test_an_interval_is_half_open(workspace: LocalWorkspace) -> None:
    window = (NOW - timedelta(hours=3), NOW - timedelta(hours=1))
    assert await _activities(workspace, timespan=window) == [
        "Add member to group",
        "Create connected organization",
    ]


async def test_no_timespan_means_all_rows(workspace: LocalWorkspace) -> None:
    result = await workspace.query("AuditLogs | count", timespan=None)
    assert result.rows == [[4]]


async def test_ago_is_evaluated_at_the_end_of_the_interval(workspace: LocalWorkspace) -> None:
    then = NOW - timedelta(hours=29)
    result = await workspace.query(
        "AuditLogs | where TimeGenerated > ago(2h) | project ActivityDisplayName",
        timespan=(then - timedelta(days=1), then),
    )
    assert result.rows == [["Disable PIM alert"]]


async def test_values_are_normalised(workspace: LocalWorkspace) -> None:
    result = await workspace.query(
        "AuditLogs | where ActivityDisplayName == 'Delete access review' | project "
        "TimeGenerated, InitiatedBy, DurationMs, Actor = tostring(InitiatedBy.user.displayName)",
        timespan=None,
    )
    assert [(c.name, c.type) for c in result.columns] == [
        ("TimeGenerated", "datetime"),
        ("InitiatedBy", "dynamic"),
        ("DurationMs", "long"),
        ("Actor", "string"),
    ]
    assert result.rows == [
        [NOW - timedelta(hours=1), {"user": {"displayName": "Alex"}}, 42, "Alex"]
    ]
    assert result.rows[0][0].tzinfo is UTC


async def test_seed_shapes_that_needed_the_adapter(workspace: LocalWorkspace) -> None:
    connected = await workspace.query(
        'AuditLogs\n| where ActivityDisplayName == "Create connected organization"\n'
        "| mv-expand AdditionalDetails\n"
        "| extend key = AdditionalDetails.key, value = AdditionalDetails.value\n"
        '| where key == "Description"\n| parse value with * "\\n" TenantID\n| distinct TenantID',
        timespan=None,
    )
    assert connected.columns[0].name == "TenantID"
    assert connected.rows == [["11111111-2222-3333-4444-555555555555"]]
    group_add = await workspace.query(
        "AuditLogs | where parse_json(tostring(TargetResources[1].id)) in "
        '("8c7f0b8e-0000-4000-8000-00000000abcd") | project ActivityDisplayName',
        timespan=None,
    )
    assert group_add.rows == [["Add member to group"]]


async def test_render_is_reported(workspace: LocalWorkspace) -> None:
    result = await workspace.query(
        "AuditLogs | summarize count() by bin(TimeGenerated, 1d) | render timechart",
        timespan=None,
    )
    assert result.render == {"visualization": "timechart"}


async def test_row_cap_gives_a_partial_result(workspace: LocalWorkspace) -> None:
    result = await workspace.query("range x from 1 to 10 step 1", timespan=None)
    assert [row[0] for row in result.rows] == [1, 2, 3]
    assert result.partial_error is not None
    assert "E_QUERY_RESULT_SET_TOO_LARGE" in result.partial_error


@pytest.mark.parametrize(
    ("kql", "error", "message", "position"),
    [
        ("AuditLogs\n| where Result ==", QueryError, "Syntax error", (2, 18)),
        ("AuditLogs | where Nope == 1", QueryError, "named 'Nope'", None),
        ("NoSuchTable | take 1", QueryError, "table expression named 'NoSuchTable'", None),
        (".set-or-replace X <| AuditLogs", UnsupportedQueryError, "writes are disabled", None),
    ],
)
async def test_wrong_queries_say_what_and_where(
    workspace: LocalWorkspace,
    kql: str,
    error: type[QueryError],
    message: str,
    position: tuple[int, int] | None,
) -> None:
    with pytest.raises(error, match=message) as raised:
        await workspace.query(kql, timespan=None)
    if position is not None:
        assert (raised.value.line, raised.value.column) == position


async def test_concurrent_queries_keep_their_own_windows(workspace: LocalWorkspace) -> None:
    recent = workspace.query("AuditLogs | count", timespan=timedelta(hours=1, minutes=30))
    everything = workspace.query("AuditLogs | count", timespan=None)
    results = await asyncio.gather(*([recent, everything] * 5))
    assert [r.rows[0][0] for r in results] == [1, 4] * 5


async def test_a_slow_query_is_stopped() -> None:
    con = duckdb_kql.connect()
    create_tables(con)
    ws = LocalWorkspace(con, timeout=0.05)
    try:
        with pytest.raises(QueryTimeoutError):
            await ws.query(
                "range a from 1 to 100000 step 1 | extend k = 1"
                " | join kind=inner (range b from 1 to 100000 step 1 | extend k = 1) on k"
                " | count",
                timespan=None,
            )
    finally:
        await ws.close()


async def test_errors_that_surface_while_fetching_are_query_errors(
    workspace: LocalWorkspace,
) -> None:
    with pytest.raises(QueryError, match="Could not convert"):
        await workspace.query("AuditLogs | where ActivityDisplayName = 'x'", timespan=None)
