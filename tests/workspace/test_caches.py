"""What is kept between runs: the demo workspace on disk, and KQL translations.

Both must give exactly what generating or translating again gives, and must be
rebuilt, never reused, when what they depend on changes.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import duckdb_kql
import pytest

from bot.errors import QueryTimeoutError
from bot.workspace.demo import DemoSpec, load_demo
from bot.workspace.demo import cache as demo_cache
from bot.workspace.local import LocalWorkspace, create_tables
from bot.workspace.translations import Translator

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
TABLES = ("AuditLogs", "AADProvisioningLogs")


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[object, ...]]:
    return con.execute(f'SELECT * FROM raw."{table}" ORDER BY ALL').fetchall()


@pytest.fixture(scope="module")
def cached(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoSpec]:
    directory = tmp_path_factory.mktemp("cache")
    spec = DemoSpec(now=NOW, days=3)
    demo_cache.build(spec, directory)
    return directory, spec


def test_the_cached_demo_holds_exactly_the_generated_rows(cached: tuple[Path, DemoSpec]) -> None:
    directory, spec = cached
    fresh = duckdb_kql.connect()
    load_demo(fresh, spec)
    from_cache = demo_cache.open_demo(spec, directory)
    for table in TABLES:
        assert _rows(from_cache, table) == _rows(fresh, table)


def _digest(con: duckdb.DuckDBPyConnection, table: str) -> tuple[object, ...]:
    """Row count and a digest of every row in storage order: equal only for the same rows
    in the same order (what a query without an order sees)."""
    row = con.execute(
        "SELECT count(*), md5(string_agg(md5(CAST(t AS VARCHAR)), '' ORDER BY rowid)) "
        f'FROM raw."{table}" AS t'
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_a_demo_built_with_little_memory_is_the_one_generated_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a memory cap far below its size (so DuckDB writes out and spills as it
    goes), on one thread, the demo keeps every row, value and position; medium, for the
    SQL-cloned jobs."""
    spec = DemoSpec(now=NOW, days=4, size="medium")
    fresh = duckdb_kql.connect()
    manifest = load_demo(fresh, spec)
    capped = {**demo_cache.BUILD_CONFIG, "memory_limit": "64MB", "threads": 1}
    monkeypatch.setattr(demo_cache, "BUILD_CONFIG", capped)
    file = tmp_path / "demo.duckdb"
    assert demo_cache.write_demo(spec, file) == manifest
    built = duckdb.connect(str(file), read_only=True)
    for table in TABLES:
        assert _digest(built, table) == _digest(fresh, table)


@pytest.mark.slow
def test_a_month_of_medium_demo_has_one_order_whatever_the_threads(tmp_path: Path) -> None:
    """Where the cloned jobs' order once depended on DuckDB's threads (30 days of the
    medium demo: two row groups to clone from): one thread in memory, as many as there
    are cores under the build's memory cap, the same rows in the same order."""
    spec = DemoSpec(now=NOW, days=30, size="medium")
    fresh = duckdb_kql.connect(config={"threads": 1})
    load_demo(fresh, spec)
    file = tmp_path / "demo.duckdb"
    demo_cache.write_demo(spec, file)
    built = duckdb.connect(str(file), read_only=True)
    for table in TABLES:
        assert _digest(built, table) == _digest(fresh, table)


def test_a_small_demo_is_built_here_and_read_from_its_file(tmp_path: Path) -> None:
    spec = DemoSpec(now=NOW, days=2)
    generated = demo_cache.open_demo(spec, tmp_path)
    assert demo_cache.demo_path(spec, tmp_path).exists()
    assert generated.execute(
        "SELECT count(*) FROM duckdb_databases() WHERE NOT internal"
    ).fetchone() == (2,)
    fresh = duckdb_kql.connect()
    load_demo(fresh, spec)
    for table in TABLES:
        assert _rows(generated, table) == _rows(fresh, table)


def test_a_small_demo_is_generated_in_memory_when_the_cache_cannot_be_written(
    tmp_path: Path,
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    spec = DemoSpec(now=NOW, days=2)
    generated = demo_cache.open_demo(spec, blocked)
    fresh = duckdb_kql.connect()
    load_demo(fresh, spec)
    for table in TABLES:
        assert _rows(generated, table) == _rows(fresh, table)


def test_a_cached_demo_is_opened_not_rebuilt(cached: tuple[Path, DemoSpec]) -> None:
    directory, spec = cached
    path = demo_cache.demo_path(spec, directory)
    before = path.stat().st_mtime_ns
    demo_cache.open_demo(spec, directory).close()
    assert path.stat().st_mtime_ns == before
    assert [p.name for p in directory.glob("*.tmp")] == []


def test_what_decides_the_rows_decides_the_file(
    cached: tuple[Path, DemoSpec], monkeypatch: pytest.MonkeyPatch
) -> None:
    directory, spec = cached
    path = demo_cache.demo_path(spec, directory)
    others = [
        DemoSpec(now=NOW + timedelta(hours=1), days=3),
        DemoSpec(now=NOW, days=4),
        DemoSpec(now=NOW, days=3, seed=7),
        DemoSpec(now=NOW, days=3, size="medium"),
    ]
    assert len({path, *(demo_cache.demo_path(s, directory) for s in others)}) == 5
    monkeypatch.setattr(demo_cache, "generator_version", lambda: "a changed generator")
    assert demo_cache.demo_path(spec, directory) != path


def test_old_demos_are_pruned_when_a_new_one_is_built(tmp_path: Path) -> None:
    stale = tmp_path / "demo-small-stale.duckdb"
    stale.write_bytes(b"")
    os.utime(stale, (0, 0))
    recent = tmp_path / "demo-small-recent.duckdb"
    recent.write_bytes(b"")
    demo_cache.build(DemoSpec(now=NOW, days=2), tmp_path)
    assert not stale.exists()
    assert recent.exists()


def test_a_failed_build_in_the_child_process_says_why(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    with pytest.raises(RuntimeError, match=r"generating the demo workspace failed: .*Error"):
        demo_cache.open_demo(DemoSpec(now=NOW, days=2, size="medium"), blocked)


def test_a_translation_is_reused_from_disk_with_the_new_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = "print t = now(), d = ago(1h), n = 'x'"
    first = _workspace(tmp_path, lambda: NOW)
    assert first.run_sync(query, timespan=None).rows == [[NOW, NOW - timedelta(hours=1), "x"]]
    [stored] = list(tmp_path.glob("*.json"))
    assert "kqlnow" in json.loads(stored.read_text())["sql"]

    def no_translation(*args: object, **kwargs: object) -> None:
        raise AssertionError("translated again instead of reading the cache")

    monkeypatch.setattr(duckdb_kql, "to_sql", no_translation)
    later = NOW + timedelta(days=3)
    second = _workspace(tmp_path, lambda: later)
    assert second.run_sync(query, timespan=None).rows == [[later, later - timedelta(hours=1), "x"]]


def test_a_clock_set_in_the_query_is_kept(tmp_path: Path) -> None:
    query = "set query_now = datetime(2020-01-02); print t = now()"
    for _ in range(2):
        workspace = _workspace(tmp_path, lambda: NOW)
        assert workspace.run_sync(query, timespan=None).rows == [[datetime(2020, 1, 2, tzinfo=UTC)]]


def test_an_unreadable_cached_translation_is_made_again(tmp_path: Path) -> None:
    translator = Translator({"T": ["a"]}, directory=tmp_path)
    made = translator.translate("print x = 1")
    [stored] = list(tmp_path.glob("*.json"))
    stored.write_text("{not json")
    assert Translator({"T": ["a"]}, directory=tmp_path).translate("print x = 1") == made
    assert json.loads(stored.read_text())["sql"] == made.sql


def test_a_different_schema_is_a_different_translation(tmp_path: Path) -> None:
    Translator({"T": ["a"]}, directory=tmp_path).translate("print x = 1")
    Translator({"T": ["a", "b"]}, directory=tmp_path).translate("print x = 1")
    assert len(list(tmp_path.glob("*.json"))) == 2


async def test_a_timeout_while_translating_stops_the_translation() -> None:
    """ANTLR needs tens of seconds for this query; the timeout must end it, not wait."""
    con = duckdb_kql.connect()
    create_tables(con)
    workspace = LocalWorkspace(con, timeout=0.2)
    query = "AuditLogs" + " | where DurationMs > 1 and DurationMs < 2" * 3000
    with pytest.raises(QueryTimeoutError):
        await workspace.query(query, timespan=None)
    await asyncio.wait_for(workspace.close(), timeout=10)


def _workspace(directory: Path, clock: object) -> LocalWorkspace:
    con = duckdb_kql.connect()
    create_tables(con)
    return LocalWorkspace(con, clock=clock, translations=directory)  # type: ignore[arg-type]
