"""Bulk loading: rows reach DuckDB unchanged and in their order, whatever the chunk size,
and the jobs cloned from them come out as after a single COPY.

The references are the plainest loads there are: one parameterised INSERT per row, and
everything in one COPY (how the demo was loaded before it was streamed in chunks).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from bot.workspace.demo import sink as demo_sink
from bot.workspace.demo.sink import CHUNK_ROWS, Clone, bulk_load, clone_job, create_tables
from bot.workspace.schema import TABLES

TABLE = "AuditLogs"
PROVISIONING = "AADProvisioningLogs"
ROWS = 50
#: One and a half of DuckDB's row groups (122,880 rows).
ROWS_FOR_CLONING = 3 * 122_880 // 2
#: Text the COPY format must not change: quotes, escapes, separators of other formats,
#: the words other formats read as NULL, an empty field, non-ASCII.
AWKWARD = ('say "hi"', "it's", "back\\slash", "a,b;c\td", "NULL", "\\N", "", "Zoë 東京 ✓")


def _value(kind: str, row: int, column: int) -> str:
    if kind == "long":
        return str(row * 1000 + column)
    if kind == "datetime":
        moment = datetime(2026, 6, 15, 9) - timedelta(seconds=row * 37, microseconds=column)
        return moment.isoformat(sep=" ", timespec="microseconds")
    if kind == "dynamic":
        return json.dumps({"row": row, "text": AWKWARD[row % len(AWKWARD)], "list": [1, None]})
    return f"{AWKWARD[(row + column) % len(AWKWARD)]}#{row}"


def _rows() -> list[tuple[str, ...]]:
    kinds = list(TABLES[TABLE].values())
    return [tuple(_value(kind, r, c) for c, kind in enumerate(kinds)) for r in range(ROWS)]


def _table(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute(f'SELECT * FROM raw."{TABLE}" ORDER BY rowid').fetchall()


def _reference(rows: list[tuple[str, ...]]) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    create_tables(con, "raw")
    marks = ", ".join("?" for _ in TABLES[TABLE])
    con.executemany(f'INSERT INTO raw."{TABLE}" VALUES ({marks})', rows)
    return _table(con)


@pytest.mark.parametrize("chunk_rows", [1, 7, 10, ROWS, 10 * ROWS])
def test_chunked_loading_keeps_every_row_and_its_order(tmp_path: Path, chunk_rows: int) -> None:
    rows = _rows()
    con = duckdb.connect()
    create_tables(con, "raw")
    loaded = bulk_load(con, "raw", TABLE, iter(rows), tmp_path, chunk_rows=chunk_rows)
    assert loaded == ROWS
    assert _table(con) == _reference(rows)
    assert list(tmp_path.iterdir()) == []


def test_rows_are_appended_after_those_already_there(tmp_path: Path) -> None:
    rows = _rows()
    con = duckdb.connect()
    create_tables(con, "raw")
    bulk_load(con, "raw", TABLE, rows[:20], tmp_path, chunk_rows=6)
    bulk_load(con, "raw", TABLE, rows[20:], tmp_path, chunk_rows=6)
    assert _table(con) == _reference(rows)


def test_nothing_to_load_loads_nothing(tmp_path: Path) -> None:
    con = duckdb.connect()
    create_tables(con, "raw")
    assert bulk_load(con, "raw", TABLE, [], tmp_path) == 0
    assert _table(con) == []


def test_a_row_of_the_wrong_width_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    rows = _rows()
    con = duckdb.connect()
    create_tables(con, "raw")
    with pytest.raises(ValueError, match="expected 30"):
        bulk_load(con, "raw", TABLE, [*rows[:12], rows[12][:-1]], tmp_path, chunk_rows=5)
    assert list(tmp_path.iterdir()) == []
    assert _table(con) == []  # the chunks already copied are rolled back


def _provisioning_rows(count: int) -> list[tuple[str, ...]]:
    """Narrow rows, enough for more than one row group, one in 16 of the job to clone."""
    columns = list(TABLES[PROVISIONING])
    template = [f"{name[:3]}{n}" for n, name in enumerate(columns)]
    template[columns.index("DurationMs")] = "120"
    varying = [columns.index(name) for name in ("TimeGenerated", "ActivityDateTime")]
    action, result = columns.index("Action"), columns.index("ResultType")
    target, job = columns.index("TargetIdentity"), columns.index("JobId")
    start = datetime(2026, 6, 1)
    rows = []
    for n in range(count):
        row = template.copy()
        time = (start + timedelta(seconds=n)).isoformat(sep=" ", timespec="microseconds")
        for index in varying:
            row[index] = time
        row[action] = ("Update", "Other", "Create")[n % 3]
        row[result] = ("Success", "Skipped", "Failure")[n % 3]
        row[target] = f'{{"Id":"{n:08x}"}}'
        row[job] = "source-job" if n % 16 == 0 else "another-job"
        rows.append(tuple(row))
    return rows


CLONES = [Clone(k, f"job-{k}", f"sp-{k}", f"target-{k}", f"App {k}", 3 + k) for k in range(3)]
SOURCE = {"source_sp_id": "source-sp", "source_target_id": "source-target"}
HISTORY_START = datetime(2026, 5, 1)


def _loaded(
    tmp_path: Path, rows: list[tuple[str, ...]], *, chunk_rows: int, threads: int
) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"threads": threads})
    create_tables(con, "raw")
    bulk_load(con, "raw", PROVISIONING, rows, tmp_path, chunk_rows=chunk_rows)
    return con


def _cloned(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    clone_job(
        con,
        "raw",
        source_job_id="source-job",
        source_name="Source",
        clones=CLONES,
        history_start=HISTORY_START,
        **SOURCE,
    )
    return con


def _digest(con: duckdb.DuckDBPyConnection, order: str) -> tuple[object, ...]:
    row = con.execute(
        f"SELECT count(*), md5(string_agg(md5(CAST(t AS VARCHAR)), '' ORDER BY {order})) "
        f'FROM raw."{PROVISIONING}" AS t'
    ).fetchone()
    assert row is not None
    return tuple(row)


@pytest.fixture(scope="module")
def rows_for_cloning() -> list[tuple[str, ...]]:
    return _provisioning_rows(ROWS_FOR_CLONING)


def test_cloned_jobs_come_in_one_order_whatever_the_chunks_and_threads(
    tmp_path: Path, rows_for_cloning: list[tuple[str, ...]]
) -> None:
    rows = rows_for_cloning
    single_copy = _cloned(_loaded(tmp_path, rows, chunk_rows=len(rows), threads=1))
    chunked = _cloned(_loaded(tmp_path, rows, chunk_rows=CHUNK_ROWS, threads=4))
    assert _digest(chunked, "rowid") == _digest(single_copy, "rowid")
    tables = chunked.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()
    assert tables == [("AADProvisioningLogs",), ("AuditLogs",)]
    assert chunked.execute("SELECT current_setting('threads')").fetchone() == (4,)


def test_cloning_one_job_at_a_time_makes_the_rows_one_statement_made(
    tmp_path: Path, rows_for_cloning: list[tuple[str, ...]]
) -> None:
    """The reference is how all clones were made before: one statement, every clone in
    its VALUES (which appended them interleaved, in an order of DuckDB's choosing)."""
    rows = rows_for_cloning
    con = _loaded(tmp_path, rows, chunk_rows=CHUNK_ROWS, threads=2)
    values = ", ".join(
        f"({c.index}, '{c.job_id}', '{c.sp_id}', '{c.target_id}', '{c.app_name}', "
        f"{c.shift_minutes})"
        for c in CLONES
    )
    staging = f'raw."{demo_sink._STAGING}"'
    con.execute(
        demo_sink._STAGE_SQL.format(staging=staging, table=f'raw."{PROVISIONING}"'),
        ["source-job"],
    )
    con.execute(
        demo_sink._CLONE_SQL.format(
            table=f'raw."{PROVISIONING}"', staging=staging, values=values, src_name="Source"
        ),
        [SOURCE["source_sp_id"], SOURCE["source_target_id"], HISTORY_START],
    )
    con.execute(f"DROP TABLE {staging}")
    one_statement = _digest(con, "md5(CAST(t AS VARCHAR))")
    cloned = _cloned(_loaded(tmp_path, rows, chunk_rows=CHUNK_ROWS, threads=2))
    assert _digest(cloned, "md5(CAST(t AS VARCHAR))") == one_statement
    assert one_statement[0] > ROWS_FOR_CLONING
