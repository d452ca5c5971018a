"""Sessions kept between queries: a reused cursor must never answer with another query's window."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import duckdb
import duckdb_kql
import pytest

from bot.errors import QueryError, QueryTimeoutError
from bot.workspace.base import TimeSpan
from bot.workspace.local import LocalWorkspace, create_tables
from bot.workspace.sessions import Sessions

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
#: Rows at NOW minus these hours (one each).
HOURS_AGO = (0.5, 1, 2, 3, 24, 48)


def _at(hours_ago: float) -> datetime:
    return NOW - timedelta(hours=hours_ago)


def _con() -> duckdb.DuckDBPyConnection:
    con = duckdb_kql.connect()
    create_tables(con)
    for hours in HOURS_AGO:
        con.execute(
            "INSERT INTO raw.AuditLogs (TimeGenerated, Id) VALUES (?, ?)",
            [_at(hours).replace(tzinfo=None), f"h{hours}"],
        )
    return con


@pytest.fixture
async def workspace() -> AsyncIterator[LocalWorkspace]:
    # One worker and one kept session: every query below reuses the same cursor.
    ws = LocalWorkspace(_con(), clock=lambda: NOW, max_concurrency=1, timeout=5)
    yield ws
    await ws.close()


def _expected(timespan: TimeSpan) -> list[str]:
    """The ids in `timespan`, by the definition: [start, end) on TimeGenerated."""
    if timespan is None:
        return sorted(f"h{h}" for h in HOURS_AGO)
    start, end = (NOW - timespan, NOW) if isinstance(timespan, timedelta) else timespan
    start, end = (m if m.tzinfo else m.replace(tzinfo=UTC) for m in (start, end))
    return sorted(f"h{h}" for h in HOURS_AGO if start <= _at(h) < end)


#: Windows in an order that switches path and bounds back and forth, with bounds
#: exactly on a row (start included, end excluded) and in other time zones.
WINDOWS: list[TimeSpan] = [
    (_at(3), _at(1)),
    None,
    (_at(3), _at(1)),
    (_at(3), _at(0.5)),
    timedelta(hours=2),
    (_at(24).astimezone(UTC).replace(tzinfo=None), _at(2).replace(tzinfo=None)),
    None,
    (_at(48), NOW + timedelta(hours=1)),
    (
        _at(2).astimezone(datetime.now().astimezone().tzinfo),
        _at(0.5).astimezone(UTC),
    ),
    (_at(1), _at(1)),
]


async def test_each_query_sees_its_own_window_on_a_reused_session(
    workspace: LocalWorkspace,
) -> None:
    for timespan in WINDOWS + WINDOWS[::-1]:
        result = await workspace.query("AuditLogs | project Id", timespan=timespan)
        assert sorted(row[0] for row in result.rows) == _expected(timespan), timespan


async def test_the_synchronous_path_reuses_sessions_the_same_way(
    workspace: LocalWorkspace,
) -> None:
    for timespan in WINDOWS:
        result = workspace.run_sync("AuditLogs | project Id", timespan=timespan)
        assert sorted(row[0] for row in result.rows) == _expected(timespan), timespan


async def test_a_failed_query_leaves_the_session_usable(workspace: LocalWorkspace) -> None:
    window = (_at(3), _at(1))
    await workspace.query("AuditLogs | count", timespan=window)
    with pytest.raises(QueryError):
        await workspace.query("AuditLogs | where ActivityDisplayName = 'x'", timespan=None)
    result = await workspace.query("AuditLogs | project Id", timespan=window)
    assert sorted(row[0] for row in result.rows) == _expected(window)


async def test_a_stopped_query_leaves_the_session_usable() -> None:
    # Long enough to be stopped in the engine, and for the next query, queued behind
    # the stopped one on the single worker, to finish after it.
    ws = LocalWorkspace(_con(), clock=lambda: NOW, max_concurrency=1, timeout=1.0)
    ws.run_sync("AuditLogs | take 1", timespan=None)  # translated and warm before the clock runs
    try:
        with pytest.raises(QueryTimeoutError):
            await ws.query(
                "range a from 1 to 1000000 step 1 | extend k = 1"
                " | join kind=inner (range b from 1 to 1000000 step 1 | extend k = 1) on k"
                " | count",
                timespan=(_at(48), NOW),
            )
        result = await ws.query("AuditLogs | project Id", timespan=timedelta(hours=2))
        assert sorted(row[0] for row in result.rows) == _expected(timedelta(hours=2))
    finally:
        await ws.close()


def test_the_pool_keeps_at_most_its_limit_and_closes_them() -> None:
    con = _con()
    sessions = Sessions(con, keep=1)
    first, second = sessions.take(), sessions.take()
    sessions.give_back(first)
    sessions.give_back(second)
    with pytest.raises(duckdb.ConnectionException):
        second.cursor.execute("SELECT 1")
    assert sessions.take() is first
    sessions.give_back(first)
    sessions.close()
    with pytest.raises(duckdb.ConnectionException):
        first.cursor.execute("SELECT 1")
    con.close()


async def test_a_cut_result_leaves_the_session_usable() -> None:
    ws = LocalWorkspace(_con(), clock=lambda: NOW, max_concurrency=1, max_rows=2)
    try:
        cut = await ws.query("AuditLogs | sort by TimeGenerated desc | project Id", timespan=None)
        assert [row[0] for row in cut.rows] == ["h0.5", "h1"]
        assert cut.partial_error is not None
        big = await ws.query("range x from 1 to 3000000 step 1 | sort by x desc", timespan=None)
        assert [row[0] for row in big.rows] == [3000000, 2999999]
        window = (_at(2), _at(0.5))  # two rows: within the cap
        after = await ws.query("AuditLogs | project Id", timespan=window)
        assert sorted(row[0] for row in after.rows) == _expected(window)
        assert after.partial_error is None
    finally:
        await ws.close()
