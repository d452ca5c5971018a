"""Getting generated rows into DuckDB fast: the tables' DDL, bulk loading, and SQL cloning of a job.

Rows are streamed in bounded chunks: each row is written to a delimited text file as it
is made, and every chunk of rows is COPYed (no quoting: fields never contain the unit
separator or a newline, which is checked by count), so Python holds one row at a time
and the disk one chunk, whatever the size of the demo.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Final

import duckdb

from bot.workspace.base import ColumnType
from bot.workspace.schema import TABLES

_DUCKDB_TYPES: Final[dict[ColumnType, str]] = {
    "string": "VARCHAR",
    "long": "BIGINT",
    "datetime": "TIMESTAMP",
    "dynamic": "JSON",
}
_SEP: Final = "\x1f"
_COPY_OPTIONS: Final = (
    "FORMAT csv, DELIMITER '\x1f', QUOTE '', ESCAPE '', HEADER false, "
    "NULLSTR '\x1e', AUTO_DETECT false"
)
#: Rows per COPY: about 50 MB of text on disk (never in memory) for the widest rows.
CHUNK_ROWS: Final = 20_000


def create_tables(con: duckdb.DuckDBPyConnection, schema: str) -> None:
    """(Re)create both tables with the columns and order of bot.workspace.schema."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(schema)}")
    for table, columns in TABLES.items():
        ddl = ", ".join(f"{_ident(name)} {_DUCKDB_TYPES[kind]}" for name, kind in columns.items())
        con.execute(f"CREATE OR REPLACE TABLE {_table(schema, table)} ({ddl})")


def bulk_load(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    rows: Iterable[Sequence[str]],
    directory: Path,
    *,
    chunk_rows: int = CHUNK_ROWS,
) -> int:
    """Append `rows` (text fields in column order) to the table, in order, `chunk_rows`
    at a time through a text file in `directory`; returns how many."""
    path = directory / f"{table}.txt"
    width = len(TABLES[table])
    remaining: Iterator[Sequence[str]] = iter(rows)
    total = 0
    try:
        with _transaction(con):
            while written := _write(path, islice(remaining, chunk_rows), width):
                _copy(con, schema, table, path, written)
                total += written
    finally:
        path.unlink(missing_ok=True)
    return total


@contextmanager
def _single_thread(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run on one DuckDB thread: appends then come in the order of the rows scanned."""
    row = con.execute("SELECT current_setting('threads')").fetchone()
    threads = int(row[0]) if row else 1
    con.execute("SET threads = 1")
    try:
        yield
    finally:
        con.execute(f"SET threads = {threads}")


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction for many appends: DuckDB then writes whole row groups to the file
    as they fill, where a commit per append would rewrite the last one (much slower
    when memory is capped)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _write(path: Path, rows: Iterable[Sequence[str]], width: int) -> int:
    """Write `rows` to `path`, one line each (no row kept: each is written as it comes)."""
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for row in rows:
            if len(row) != width:
                raise ValueError(f"row has {len(row)} fields, expected {width}: {row[:3]}")
            out.write(_SEP.join(row))
            out.write("\n")
            count += 1
    return count


def _copy(con: duckdb.DuckDBPyConnection, schema: str, table: str, path: Path, rows: int) -> None:
    before = _count(con, schema, table)
    literal = str(path).replace("'", "''")
    con.execute(f"COPY {_table(schema, table)} FROM '{literal}' ({_COPY_OPTIONS})")
    loaded = _count(con, schema, table) - before
    if loaded != rows:
        raise RuntimeError(f"{table}: wrote {rows} rows but DuckDB read {loaded}")


@dataclass(frozen=True)
class Clone:
    """A copy of a source job under another app: new JobId, ids, names, and a time shift."""

    index: int
    job_id: str
    sp_id: str
    target_id: str
    app_name: str
    shift_minutes: int


def clone_job(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    *,
    source_job_id: str,
    source_sp_id: str,
    source_target_id: str,
    source_name: str,
    clones: Sequence[Clone],
    history_start: datetime,
) -> int:
    """Copy the source job's rows once per clone, without Disable/Delete rows (the tenant-wide
    rate of those is what the disable/delete alert measures), each clone keeping about half of
    the failures and 80-100 % of the working-hour skips (busy cycles never empty out).
    Returns rows added.

    The source's rows are copied once to a staging table (scanning the whole table for
    each clone cost more than the cloning), then one statement per clone appends its rows
    in the source's order, all on one thread: so the table's order does not depend on
    DuckDB's threads, memory or row groups (in parallel, or in one statement for all
    clones, DuckDB appended them in an order of its choosing; an ORDER BY would sort
    wide rows, which a capped memory cannot always do)."""
    if not clones:
        return 0
    table, staging = _table(schema, "AADProvisioningLogs"), _table(schema, _STAGING)
    before = _count(con, schema, "AADProvisioningLogs")
    with _single_thread(con), _transaction(con):  # the staging table is never committed
        con.execute(_STAGE_SQL.format(staging=staging, table=table), [source_job_id])
        for c in clones:
            values = (
                f"({c.index}, '{c.job_id}', '{c.sp_id}', '{c.target_id}', "
                f"'{_sql_text(c.app_name)}', {c.shift_minutes})"
            )
            sql = _CLONE_SQL.format(
                table=table, staging=staging, values=values, src_name=_sql_text(source_name)
            )
            con.execute(sql, [source_sp_id, source_target_id, history_start])
        con.execute(f"DROP TABLE {staging}")
    return _count(con, schema, "AADProvisioningLogs") - before


def cut_job(con: duckdb.DuckDBPyConnection, schema: str, job_id: str, at: datetime) -> int:
    """Remove the job's provisioning rows at or after `at` (it stopped then); returns rows
    removed."""
    table = _table(schema, "AADProvisioningLogs")
    before = _count(con, schema, "AADProvisioningLogs")
    con.execute(f"DELETE FROM {table} WHERE JobId = $1 AND TimeGenerated >= $2", [job_id, at])
    return before - _count(con, schema, "AADProvisioningLogs")


def _draw(column: str) -> str:
    """A per-clone pseudo-random hex digit string: clones keep different failures and skips."""
    return f"md5({column} || '#' || c.k)"


def _new_id(column: str) -> str:
    return f"CAST(CAST(md5({column} || '/' || c.k) AS UUID) AS VARCHAR)"


_STAGING: Final = "_CloneSource"
_STAGE_SQL: Final = """
CREATE OR REPLACE TABLE {staging} AS
SELECT * FROM {table} WHERE JobId = $1 AND Action NOT IN ('Disable', 'Delete')
"""

_CLONE_SQL: Final = f"""
INSERT INTO {{table}}
SELECT
  s.TenantId, s.TimeGenerated - c.shift, s.AADTenantId, s.Action,
  s.ActivityDateTime - c.shift, {_new_id("s.ChangeId")}, {_new_id("s.CorrelationId")},
  {_new_id("s.CycleId")}, s.DurationMs, {_new_id("s.Id")}, s.InitiatedBy, c.job_id,
  s.ModifiedProperties, s.OperationName, s.OperationVersion, s.Category, s.ProvisioningAction,
  s.ProvisioningStatusInfo, replace(s.ProvisioningSteps, '{{src_name}}', c.name),
  s.ResultType, s.ResultSignature, replace(s.ResultDescription, '{{src_name}}', c.name),
  replace(replace(s.ServicePrincipal, $1, c.sp), '{{src_name}}', c.name),
  s.SourceIdentity, s.SourceSystem,
  replace(s.TargetIdentity, json_extract_string(s.TargetIdentity, '$.Id'),
          {_new_id("json_extract_string(s.TargetIdentity, '$.Id')")}),
  replace(replace(s.TargetSystem, $2, c.target), '{{src_name}}', c.name),
  s.Type
FROM {{staging}} AS s,
     (SELECT k, job_id, sp, target, name, to_minutes(shift) AS shift
      FROM (VALUES {{values}}) AS v(k, job_id, sp, target, name, shift)) AS c
WHERE s.TimeGenerated - c.shift >= $3
  AND NOT (s.ResultType = 'Failure' AND ascii({_draw("s.Id")}) % 2 = 0)
  AND NOT (s.ResultType = 'Skipped' AND hour(s.TimeGenerated) BETWEEN 8 AND 17
           AND ascii({_draw("s.ChangeId")}) % 10 < c.k % 3)
"""


def _count(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {_table(schema, table)}").fetchone()
    return int(row[0]) if row else 0


def _table(schema: str, table: str) -> str:
    return f"{_ident(schema)}.{_ident(table)}"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_text(text: str) -> str:
    return text.replace("'", "''")
