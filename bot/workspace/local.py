"""The embedded workspace: KQL over DuckDB tables, with Log Analytics semantics.

Tables live in the DuckDB schema ``raw``. Each query gets its own cursor with
temporary views named like the Log Analytics tables and filtered to the query's
time span on TimeGenerated, which is how Log Analytics applies `timespan`; so the
KQL text runs unchanged and concurrent queries never see each other's windows.

`ago()` and `now()` are evaluated at the end of an explicit [start, end) interval
(or at the clock's now for a duration), so evaluating "as of" a past time over
the demo data behaves as it would have then.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

import duckdb
import duckdb_kql
from duckdb_kql.types import kusto_type

from bot.errors import QueryError, QueryTimeoutError, UnsupportedQueryError
from bot.models import Clock
from bot.workspace import entra_tables, kql_compat
from bot.workspace.base import Column, ColumnType, QueryResult, TimeSpan, resolve_timespan
from bot.workspace.schema import TABLES

RAW_SCHEMA: Final = "raw"
_DUCKDB_TYPES: Final[dict[ColumnType, str]] = {
    "string": "VARCHAR",
    "long": "BIGINT",
    "int": "INTEGER",
    "real": "DOUBLE",
    "bool": "BOOLEAN",
    "datetime": "TIMESTAMP",
    "timespan": "INTERVAL",
    "guid": "UUID",
    "dynamic": "JSON",
    "decimal": "DECIMAL(38, 10)",
}
_MAX_EXPECTED_TOKENS: Final = 6
_TRUNCATED: Final = "E_QUERY_RESULT_SET_TOO_LARGE: the result was cut at {limit} rows"


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the empty Entra tables in the raw schema (what Log Analytics would hold)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    for table, columns in TABLES.items():
        ddl = ", ".join(f'"{name}" {_DUCKDB_TYPES[kind]}' for name, kind in columns.items())
        con.execute(f'CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}."{table}" ({ddl})')


class LocalWorkspace:
    """A Workspace over a DuckDB connection whose `raw` schema holds the tables."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        clock: Clock = lambda: datetime.now(UTC),
        timeout: float = 180.0,
        max_rows: int = 500_000,
        max_concurrency: int = 4,
    ) -> None:
        kql_compat.install_function_overrides()
        entra_tables.create_empty(con, RAW_SCHEMA)
        self._con = con
        self._clock = clock
        self._timeout = timeout
        self._max_rows = max_rows
        self._tables = _raw_tables(con)
        self._column_names = frozenset(
            name for table in self._tables for name in TABLES.get(table, {})
        )
        self._executor = ThreadPoolExecutor(max_concurrency, thread_name_prefix="kql")

    async def query(self, kql: str, *, timespan: TimeSpan) -> QueryResult:
        cursor = self._con.cursor()
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(self._executor, self._run, cursor, kql, timespan, self._clock())
        work.add_done_callback(lambda finished: _release(cursor, finished))
        try:
            return await asyncio.wait_for(asyncio.shield(work), timeout=self._timeout)
        except TimeoutError:
            cursor.interrupt()
            raise QueryTimeoutError(
                f"the query ran longer than {self._timeout:g} s and was stopped"
            ) from None

    async def close(self) -> None:
        """Wait for queries still running (interrupted ones end quickly), then close."""
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)
        self._con.close()

    def run_sync(self, kql: str, *, timespan: TimeSpan) -> QueryResult:
        """The same query, on the calling thread (benchmarks, scripts)."""
        with self._con.cursor() as cursor:
            return self._run(cursor, kql, timespan, self._clock())

    def _run(
        self,
        cursor: duckdb.DuckDBPyConnection,
        kql: str,
        timespan: TimeSpan,
        now: datetime,
    ) -> QueryResult:
        """Run `kql` over `timespan` as of `now` (read once, when the query was asked)."""
        started = time.perf_counter()
        interval = resolve_timespan(timespan, now=now)
        query_now = interval[1] if interval else now
        self._create_window_views(cursor, interval)
        adapted = kql_compat.adapt(kql, columns=self._column_names)
        try:
            described, raw_rows = _execute(cursor, adapted, query_now, limit=self._max_rows + 1)
        except duckdb_kql.KqlSyntaxError as error:
            # Parsing is the slow part, so the original text is checked only now, to
            # report positions in what the caller wrote rather than in the adaptation.
            _check_syntax(kql)
            raise QueryError(_short_syntax_message(str(error))) from error
        columns = [Column(adapted.restore(name), _column_type(kind)) for name, kind in described]
        truncated = len(raw_rows) > self._max_rows
        rows = [_normalise_row(row, columns) for row in raw_rows[: self._max_rows]]
        return QueryResult(
            columns=columns,
            rows=rows,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            partial_error=_TRUNCATED.format(limit=self._max_rows) if truncated else None,
            render=kql_compat.render_of(kql),
        )

    def _create_window_views(
        self, cursor: duckdb.DuckDBPyConnection, interval: tuple[datetime, datetime] | None
    ) -> None:
        for table in self._tables:
            source = f'{RAW_SCHEMA}."{table}"'
            if interval is None:
                cursor.execute(f'CREATE TEMP VIEW "{table}" AS SELECT * FROM {source}')
                continue
            start, end = (_naive_utc(moment) for moment in interval)
            # A view cannot take prepared parameters; the literals are datetimes we
            # formatted ourselves, never caller text.
            cursor.execute(
                f'CREATE TEMP VIEW "{table}" AS SELECT * FROM {source} '
                f"WHERE \"TimeGenerated\" >= TIMESTAMP '{start.isoformat()}' "
                f"AND \"TimeGenerated\" < TIMESTAMP '{end.isoformat()}'"
            )


def _release(cursor: duckdb.DuckDBPyConnection, finished: asyncio.Future[QueryResult]) -> None:
    """Close a query's cursor; an abandoned (timed-out) query's error is expected."""
    if not finished.cancelled():
        finished.exception()
    cursor.close()


def _raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
        "ORDER BY table_name",
        [RAW_SCHEMA],
    ).fetchall()
    return [str(row[0]) for row in rows]


def _check_syntax(kql: str) -> None:
    diagnostics = duckdb_kql.validate(kql)
    if diagnostics:
        first = diagnostics[0]
        raise QueryError(
            _short_syntax_message(first.message),
            line=first.span.line,
            column=first.span.column + 1,
        )


def _short_syntax_message(message: str) -> str:
    """ANTLR lists every token it would accept; past a handful that is noise."""
    match = re.match(r"(?P<head>.*?) expecting \{(?P<options>.*)\}$", message, re.DOTALL)
    if match is None or match["options"].count(",") < _MAX_EXPECTED_TOKENS:
        return f"Syntax error: {message}"
    return f"Syntax error: {match['head']}"


def _execute(
    cursor: duckdb.DuckDBPyConnection,
    adapted: kql_compat.Adapted,
    query_now: datetime,
    *,
    limit: int,
) -> tuple[list[tuple[str, Any]], list[tuple[Any, ...]]]:
    """Translate, run and fetch; every engine error becomes a QueryError.

    DuckDB relations are lazy, so some errors (a failed cast) only surface on fetch.
    """
    try:
        relation = adapted.finish(
            duckdb_kql.kql(cursor, adapted.kql, allow_write=False, query_now=query_now)
        )
        described = list(zip(relation.columns, relation.types, strict=True))
        return described, relation.limit(limit).fetchall()
    except duckdb_kql.KqlSyntaxError:
        raise
    except duckdb_kql.KqlUnsupportedError as error:
        # Positions refer to the adapted text, which differs from the original only
        # within a line, so the line is exact and the column close.
        span = error.span
        line, column = (span.line, span.column + 1) if span else (None, None)
        raise UnsupportedQueryError(
            kql_compat.unsupported_message(adapted, error, line, column),
            line=line,
            column=column,
        ) from error
    except duckdb_kql.KqlSchemaError as error:
        raise QueryError(adapted.restore(kql_compat.schema_message(error))) from error
    except duckdb_kql.KqlError as error:
        raise QueryError(adapted.restore(str(error))) from error
    except duckdb.Error as error:
        raise QueryError(adapted.restore(_engine_message(error))) from error


def _engine_message(error: duckdb.Error) -> str:
    """DuckDB's first line, with its SQL-side hints dropped: the caller wrote KQL."""
    first_line = str(error).splitlines()[0]
    column = re.search(r'Referenced column "(?P<name>[^"]+)" not found', first_line)
    if column:
        return f"Failed to resolve column or scalar expression named '{column['name']}'"
    table = re.search(r"Table with name (?P<name>\S+) does not exist", first_line)
    if table:
        return f"Failed to resolve table expression named '{table['name'].rstrip('!')}'"
    return first_line


def _column_type(duckdb_type: object) -> ColumnType:
    kind = kusto_type(duckdb_type)
    return kind if kind in _DUCKDB_TYPES else "string"


def _normalise_row(row: tuple[Any, ...], columns: Sequence[Column]) -> list[Any]:
    return [_normalise(value, column.type) for value, column in zip(row, columns, strict=True)]


def _normalise(value: Any, kind: ColumnType) -> Any:
    if value is None:
        return None
    if kind == "datetime" and isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if kind == "dynamic" and isinstance(value, str):
        return json.loads(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal) and kind != "decimal":
        return float(value)
    return value


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
