"""The workspace's fast path answers exactly as the plain, unoptimised path does.

The reference below is the straightforward way to run KQL here: a fresh translation
at the query's own "now" (no cache, no bound clock) with duckdb-kql's own rendering
(without the shortcuts of kql_filters, kql_json_paths and kql_bins), views with the window written
as literals (no session variables, no reused cursor), DuckDB's relation API, and
`json.loads` for dynamic values. Every seed query, over windows that start or end
exactly on a row, must give the same columns, types and rows through both.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import duckdb_kql
import pytest
import pytest_asyncio
from duckdb_kql import translate as kql_translate

from benchmarks.kql_corpus import CORPUS
from benchmarks.seed_corpus import SEED_QUERIES, SeedQuery, fill, placeholders
from bot.workspace import kql_compat
from bot.workspace.base import Column, QueryResult, TimeSpan, resolve_timespan
from bot.workspace.demo import DemoManifest, DemoSpec, load_demo
from bot.workspace.local import LocalWorkspace, _column_type
from bot.workspace.schema import KNOWN_TABLES, TABLES

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.asyncio(loop_scope="module")
_SCHEMAS = itertools.count()

Demo = tuple[LocalWorkspace, DemoManifest, duckdb.DuckDBPyConnection]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo() -> AsyncIterator[Demo]:
    con = duckdb_kql.connect()
    # One thread: rows tied under `top`/`take` then come in the same order on both paths
    # every run (with more, which tied rows a query keeps can change from run to run).
    con.execute("SET threads = 1")
    manifest = load_demo(con, DemoSpec(now=NOW))
    workspace = LocalWorkspace(con, clock=lambda: NOW, max_concurrency=1)
    yield workspace, manifest, con
    await workspace.close()


def _windows(con: duckdb.DuckDBPyConnection, manifest: DemoManifest) -> list[TimeSpan]:
    """No window, durations, the demo's recent window, and bounds exactly on a row."""
    (on_a_row,) = con.execute(
        'SELECT TimeGenerated FROM raw."AADProvisioningLogs" '
        "ORDER BY TimeGenerated DESC LIMIT 1 OFFSET 500"
    ).fetchone() or (None,)
    assert isinstance(on_a_row, datetime)
    row_time = on_a_row.replace(tzinfo=UTC)
    return [
        None,
        timedelta(days=2),
        manifest.recent_window,
        (row_time, NOW),
        (NOW - timedelta(days=3), row_time),
        None,
    ]


def _reference(con: duckdb.DuckDBPyConnection, kql: str, timespan: TimeSpan) -> QueryResult:
    interval = resolve_timespan(timespan, now=NOW)
    adapted = kql_compat.adapt(kql, columns={c for t in TABLES.values() for c in t})
    with _as_duckdb_kql_renders():
        sql = duckdb_kql.to_sql(
            adapted.kql,
            schema={t: list(c) for t, c in KNOWN_TABLES.items()},
            allow_write=False,
            query_now=interval[1] if interval else NOW,
        )
    with con.cursor() as cursor:
        cursor.execute(f"SET TimeZone = 'UTC'; SET search_path = '{_views(cursor, interval)}'")
        relation = cursor.sql(str(sql), params=dict(sql.parameters) or None)
        described, rows = adapted.finish(
            list(zip(relation.columns, relation.types, strict=True)), relation.fetchall()
        )
    types = [_column_type(kind) for _, kind in described]
    return QueryResult(
        columns=[
            Column(adapted.restore(name), kind)
            for (name, _), kind in zip(described, types, strict=True)
        ],
        rows=[[_plain(v, t) for v, t in zip(row, types, strict=True)] for row in rows],
        elapsed_ms=0,
    )


@contextlib.contextmanager
def _as_duckdb_kql_renders() -> Iterator[None]:
    """duckdb-kql's renderers without the wrappers the workspace installed."""
    names = ("render_operator", "_unwrap_json_scalar")
    installed = {name: getattr(kql_translate, name) for name in names}
    forms = kql_translate._SPECIAL_FORMS
    bins = {name: forms[name] for name in ("bin", "floor")}
    for name, function in installed.items():
        setattr(kql_translate, name, function.__wrapped__)
    forms.update({name: function.__wrapped__ for name, function in bins.items()})
    try:
        yield
    finally:
        for name, function in installed.items():
            setattr(kql_translate, name, function)
        forms.update(bins)


def _views(cursor: duckdb.DuckDBPyConnection, interval: tuple[datetime, datetime] | None) -> str:
    """A schema of views over the raw tables, the window written in as literals."""
    if interval is None:
        return "raw"
    schema = f"reference_{next(_SCHEMAS)}"
    start, end = (moment.astimezone(UTC).replace(tzinfo=None) for moment in interval)
    cursor.execute(f"CREATE SCHEMA {schema}")
    for table in TABLES:
        cursor.execute(
            f'CREATE VIEW {schema}."{table}" AS SELECT * FROM raw."{table}" '
            f"WHERE TimeGenerated >= TIMESTAMP '{start.isoformat()}' "
            f"AND TimeGenerated < TIMESTAMP '{end.isoformat()}'"
        )
    return schema


def _plain(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "dynamic" and isinstance(value, str):
        return json.loads(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def _sortable(rows: Any) -> list[str]:
    return sorted(json.dumps(row, default=repr, sort_keys=True) for row in rows)


@pytest.mark.parametrize("query", SEED_QUERIES, ids=lambda q: q.key)
async def test_seed_queries_answer_as_the_reference_path_does(demo: Demo, query: SeedQuery) -> None:
    workspace, manifest, con = demo
    kql = fill(query, placeholders(manifest))
    for timespan in _windows(con, manifest):
        fast = await workspace.query(kql, timespan=timespan)
        reference = _reference(con, kql, timespan)
        assert [(c.name, c.type) for c in fast.columns] == [
            (c.name, c.type) for c in reference.columns
        ], timespan
        assert _sortable(fast.rows) == _sortable(reference.rows), timespan
        assert fast.rows or not reference.rows


@pytest.mark.parametrize(
    "kql", [pytest.param(path.read_text(), id=path.stem) for path in sorted(CORPUS.glob("*.kql"))]
)
async def test_corpus_queries_answer_as_the_reference_path_does(demo: Demo, kql: str) -> None:
    """The public corpus: whatever runs on both paths gives the same table."""
    workspace, _, con = demo
    try:
        reference = _reference(con, kql, None)
    except (duckdb_kql.KqlError, duckdb.Error):
        pytest.skip("the reference path cannot run it")
    fast = await workspace.query(kql, timespan=None)
    assert [(c.name, c.type) for c in fast.columns] == [(c.name, c.type) for c in reference.columns]
    assert _sortable(fast.rows) == _sortable(reference.rows)


async def test_the_reference_renders_without_the_shortcuts(demo: Demo) -> None:
    """Else the comparison above would compare the shortcuts with themselves."""
    _, manifest, _ = demo
    for key, plain_text, shortcut_text in [
        ("events_for_source_identity", "json_extract", "->> '$.Id'"),
        ("operation_spikes", "to_timestamp", "time_bucket"),
        ("failure_spike_alert", 'coalesce(("ResultType" = ', 'ELSE ("ResultType" = '),
    ]:
        query = next(q for q in SEED_QUERIES if q.key == key)
        kql = kql_compat.adapt(fill(query, placeholders(manifest))).kql
        with _as_duckdb_kql_renders():
            plain = str(duckdb_kql.to_sql(kql, allow_write=False))
        shortcut = str(duckdb_kql.to_sql(kql, allow_write=False))
        assert plain_text in plain
        assert plain_text not in shortcut
        assert shortcut_text in shortcut
