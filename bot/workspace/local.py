"""The embedded workspace: KQL over DuckDB tables, with Log Analytics semantics.

Tables live in the DuckDB schema ``raw``. Schema ``kql_window`` holds one view per
table, filtered on TimeGenerated to the bounds in the session variables
``kql_window_start`` / ``kql_window_end`` (which DuckDB folds to constants, so the
filter is pushed into the scan), which is how Log Analytics applies `timespan`. Each
query runs on a session (bot.workspace.sessions) of its own while it runs, whose
variables and search path (``kql_window``, or ``raw`` when there is no time span)
are its own; so the KQL text runs unchanged and concurrent queries never see each
other's windows.

`ago()` and `now()` are evaluated at the end of an explicit [start, end) interval
(or at the clock's now for a duration), so evaluating "as of" a past time over
the demo data behaves as it would have then. Translations are made once per text
(bot.workspace.translations) with "now" as a bound parameter.

The translated SQL runs as one statement with the row cap as its LIMIT, and its
rows are fetched as tuples: no relation objects, whose every step asks DuckDB to
bind the statement again.
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import duckdb
import duckdb_kql
from duckdb_kql.types import kusto_type

from bot.errors import QueryError, QueryTimeoutError, UnsupportedQueryError
from bot.models import Clock
from bot.workspace import entra_tables, kql_bins, kql_compat, kql_filters, kql_json_paths
from bot.workspace.base import Column, ColumnType, QueryResult, TimeSpan, resolve_timespan
from bot.workspace.schema import TABLES
from bot.workspace.sessions import RAW_SCHEMA, WINDOW_SCHEMA, Session, Sessions
from bot.workspace.stopping import Stopper
from bot.workspace.translations import Translation, Translator, share_parses
from bot.workspace.values import Converter, converters

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
_REINTERRUPT_SECONDS: Final = 0.05


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the empty Entra tables in the raw schema (what Log Analytics would hold)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    for table, columns in TABLES.items():
        ddl = ", ".join(f'"{name}" {_DUCKDB_TYPES[kind]}' for name, kind in columns.items())
        con.execute(f'CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}."{table}" ({ddl})')


class LocalWorkspace:
    """A Workspace over a DuckDB connection whose `raw` schema holds the tables.

    `translations` is a directory for translations that outlive the process (None:
    in memory only).
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        clock: Clock = lambda: datetime.now(UTC),
        timeout: float = 180.0,
        max_rows: int = 500_000,
        max_concurrency: int = 4,
        translations: Path | None = None,
    ) -> None:
        kql_compat.install_function_overrides()
        kql_filters.install()
        kql_json_paths.install()
        kql_bins.install()
        entra_tables.create_empty(con, RAW_SCHEMA)
        share_parses()
        self._con = con
        self._clock = clock
        self._timeout = timeout
        self._max_rows = max_rows
        schema = _raw_schema(con)
        _create_window_views(con, list(schema))
        self._column_names = frozenset(name for table in schema for name in TABLES.get(table, {}))
        self._translator = Translator(schema, directory=translations)
        self._executor = ThreadPoolExecutor(max_concurrency, thread_name_prefix="kql")
        self._sessions = Sessions(con, keep=max_concurrency + 1)

    async def query(self, kql: str, *, timespan: TimeSpan) -> QueryResult:
        session = self._sessions.take()
        message = f"the query ran longer than {self._timeout:g} s and was stopped"
        stopper = Stopper(session.cursor, message)
        now = self._clock()
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(
            self._executor, stopper.run, lambda s: self._run(session, kql, timespan, now, s)
        )
        work.add_done_callback(lambda finished: self._release(session, finished))
        try:
            return await asyncio.wait_for(asyncio.shield(work), timeout=self._timeout)
        except TimeoutError:
            stopper.stop()
            _keep_interrupting(stopper, work)
            raise QueryTimeoutError(message) from None

    async def close(self) -> None:
        """Wait for queries still running (stopped ones end quickly), then close."""
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)
        self._sessions.close()
        self._con.close()

    def run_sync(self, kql: str, *, timespan: TimeSpan) -> QueryResult:
        """The same query, on the calling thread (benchmarks, scripts)."""
        session = self._sessions.take()
        try:
            return self._run(session, kql, timespan, self._clock(), None)
        finally:
            self._sessions.give_back(session)

    def _release(self, session: Session, finished: asyncio.Future[QueryResult]) -> None:
        """Give a query's session back; an abandoned (timed-out) query's error is expected."""
        if not finished.cancelled():
            finished.exception()
        self._sessions.give_back(session)

    def _run(
        self,
        session: Session,
        kql: str,
        timespan: TimeSpan,
        now: datetime,
        stopper: Stopper | None,
    ) -> QueryResult:
        """Run `kql` over `timespan` as of `now` (read once, when the query was asked)."""
        started = time.perf_counter()
        interval = resolve_timespan(timespan, now=now)
        adapted, render = _prepared(kql, self._column_names)
        try:
            translation = _translate(self._translator, adapted)
        except duckdb_kql.KqlSyntaxError as error:
            # The original text is checked only now, to report positions in what the
            # caller wrote rather than in the adaptation.
            _check_syntax(kql)
            raise QueryError(_short_syntax_message(str(error))) from error
        if stopper is not None:
            stopper.enter("engine")
        session.open(interval)
        query_now = interval[1] if interval else now
        described, raw_rows = _execute(
            session.cursor, translation, adapted, query_now, limit=self._max_rows + 1
        )
        if stopper is not None:
            stopper.enter("python")
        columns, convert = _shape(tuple(described), tuple(adapted.aliases.items()))
        truncated = len(raw_rows) > self._max_rows
        return QueryResult(
            columns=list(columns),
            rows=_normalised(raw_rows[: self._max_rows], convert),
            elapsed_ms=(time.perf_counter() - started) * 1000,
            partial_error=_TRUNCATED.format(limit=self._max_rows) if truncated else None,
            render=dict(render) if render else None,
        )


def _keep_interrupting(stopper: Stopper, work: asyncio.Future[QueryResult]) -> None:
    """Re-send the interrupt until the stopped query has ended (see Stopper)."""
    loop = asyncio.get_running_loop()

    def again() -> None:
        if not work.done() and stopper.interrupt_again():
            loop.call_later(_REINTERRUPT_SECONDS, again)

    loop.call_later(_REINTERRUPT_SECONDS, again)


@functools.lru_cache(maxsize=512)
def _prepared(
    kql: str, columns: frozenset[str]
) -> tuple[kql_compat.Adapted, dict[str, Any] | None]:
    """The adapted query and its `render`, lexed once per text."""
    return kql_compat.adapt(kql, columns=columns), kql_compat.render_of(kql)


def _translate(translator: Translator, adapted: kql_compat.Adapted) -> Translation:
    try:
        return translator.translate(adapted.kql)
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


def _create_window_views(con: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {WINDOW_SCHEMA}")
    for table in tables:
        con.execute(
            f'CREATE OR REPLACE VIEW {WINDOW_SCHEMA}."{table}" AS '
            f'SELECT * FROM {RAW_SCHEMA}."{table}" '
            "WHERE \"TimeGenerated\" >= getvariable('kql_window_start') "
            "AND \"TimeGenerated\" < getvariable('kql_window_end')"
        )


def _raw_schema(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Table -> column names of the raw schema, in column order (what `join` needs)."""
    rows = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = ? AND table_catalog = current_database() "
        "ORDER BY table_name, ordinal_position",
        [RAW_SCHEMA],
    ).fetchall()
    schema: dict[str, list[str]] = {}
    for table, column in rows:
        schema.setdefault(str(table), []).append(str(column))
    return schema


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
    translation: Translation,
    adapted: kql_compat.Adapted,
    query_now: datetime,
    *,
    limit: int,
) -> tuple[list[tuple[str, Any]], list[tuple[Any, ...]]]:
    """Run and fetch at most `limit` rows; every engine error becomes a QueryError.

    The result streams, so fetching stops the engine at `limit` rows (the rows of a
    cut result that were not fetched are dropped with a trivial statement, not kept
    by the idle cursor), and some errors (a failed cast) only surface while fetching.
    """
    parameters = translation.parameters_at(query_now)
    try:
        cursor.execute(translation.sql, parameters or None)
        described = [(str(column[0]), column[1]) for column in cursor.description or ()]
        rows = cursor.fetchmany(limit)
        if len(rows) == limit:
            cursor.execute("SELECT NULL")
        return adapted.finish(described, rows)
    except duckdb.InterruptException:
        raise
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


@functools.lru_cache(maxsize=512)
def _shape(
    described: tuple[tuple[str, Any], ...], aliases: tuple[tuple[str, str], ...]
) -> tuple[tuple[Column, ...], tuple[tuple[int, Converter], ...]]:
    """A result's columns and the conversions its values need, worked out once per shape."""
    adapted = kql_compat.Adapted("", dict(aliases))
    columns = tuple(Column(adapted.restore(name), _column_type(kind)) for name, kind in described)
    kinds = [(c.type, str(kind)) for c, (_, kind) in zip(columns, described, strict=True)]
    convert = tuple((i, to) for i, to in enumerate(converters(kinds)) if to is not None)
    return columns, convert


def _normalised(
    rows: list[tuple[Any, ...]], convert: Sequence[tuple[int, Converter]]
) -> list[list[Any]]:
    """Rows as bot.workspace.base documents them, converting only the columns that need it."""
    result = [list(row) for row in rows]
    for index, to in convert:
        for row in result:
            value = row[index]
            if value is not None:
                row[index] = to(value)
    return result
