"""Getting generated rows into DuckDB fast: the tables' DDL, bulk loading, and SQL cloning of a job.

Rows go through one delimited text file per table and a single COPY (no quoting:
fields never contain the unit separator or a newline, which is checked by count).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final, TextIO

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
_CHUNK: Final = 20_000


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
) -> int:
    """Append `rows` (text fields in column order) to the table; returns how many."""
    path = directory / f"{table}.txt"
    written = _write(path, rows, len(TABLES[table]))
    before = _count(con, schema, table)
    literal = str(path).replace("'", "''")
    con.execute(f"COPY {_table(schema, table)} FROM '{literal}' ({_COPY_OPTIONS})")
    loaded = _count(con, schema, table) - before
    if loaded != written:
        raise RuntimeError(f"{table}: wrote {written} rows but DuckDB read {loaded}")
    path.unlink()
    return written


def _write(path: Path, rows: Iterable[Sequence[str]], width: int) -> int:
    count, chunk = 0, []
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for row in rows:
            if len(row) != width:
                raise ValueError(f"row has {len(row)} fields, expected {width}: {row[:3]}")
            chunk.append(_SEP.join(row))
            if len(chunk) == _CHUNK:
                count += _flush(out, chunk)
        count += _flush(out, chunk)
    return count


def _flush(out: TextIO, chunk: list[str]) -> int:
    if not chunk:
        return 0
    out.write("\n".join(chunk) + "\n")
    written = len(chunk)
    chunk.clear()
    return written


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
    Returns rows added."""
    if not clones:
        return 0
    table = _table(schema, "AADProvisioningLogs")
    values = ", ".join(
        f"({c.index}, '{c.job_id}', '{c.sp_id}', '{c.target_id}', '{_sql_text(c.app_name)}', "
        f"{c.shift_minutes})"
        for c in clones
    )
    before = _count(con, schema, "AADProvisioningLogs")
    con.execute(
        _CLONE_SQL.format(table=table, values=values, src_name=_sql_text(source_name)),
        [source_sp_id, source_target_id, source_job_id, history_start],
    )
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
FROM {{table}} AS s,
     (SELECT k, job_id, sp, target, name, to_minutes(shift) AS shift
      FROM (VALUES {{values}}) AS v(k, job_id, sp, target, name, shift)) AS c
WHERE s.JobId = $3
  AND s.Action NOT IN ('Disable', 'Delete')
  AND s.TimeGenerated - c.shift >= $4
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
