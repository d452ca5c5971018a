"""The demo workspace kept on disk, so a CLI call or a restart does not generate it again.

A generated demo is a DuckDB file under the cache directory, named by what decides
its rows: the generator's version (a hash of this package's and the table schema's
source, so any change to the generator invalidates it), the seed, size, days and
anchor ("now", the start of an hour unless configured). Medium and large demos are
built in a child process (so the generator's gigabyte of working memory never stays
with the bot); a small one is generated in place, in memory, and copied to the
file (cheaper than starting an interpreter). Files are written to a temporary
name and renamed into place, so a reader sees the whole file or none; two
processes building the same file at once both produce the same rows. Writing one
deletes the demos left from earlier hours (older than six hours).

`open_demo` attaches that file read-only to a fresh in-memory connection and exposes
its tables as views in schema `raw`, as LocalWorkspace expects; DuckDB reads pages
from the file as queries need them, so memory follows what is queried, not the size.

    python -m bot.workspace.demo.cache DIRECTORY NOW SEED DAYS SIZE   (what the child runs)
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Final

import duckdb
import duckdb_kql

from bot.workspace.demo.spec import DemoSpec
from bot.workspace.schema import TABLES

_ATTACHED: Final = "demo_data"
_RAW: Final = "raw"
#: Sizes small enough to generate in this process: a child costs an interpreter start,
#: worth it only for sizes whose generator needs hundreds of MB or more.
_BUILT_HERE: Final = frozenset({"small"})
#: Demos older than this (by file time) are deleted when a new one is built.
_KEEP_SECONDS: Final = 6 * 3600


def open_demo(spec: DemoSpec, directory: Path) -> duckdb.DuckDBPyConnection:
    """A connection whose schema `raw` holds the demo's tables, from the cache if there.

    Absent, a small demo is generated here, in memory, and copied to the cache; a
    larger one is built in a child process first. Raises RuntimeError with the
    child's last line if that fails."""
    path = demo_path(spec, directory)
    if not path.exists() and spec.size in _BUILT_HERE:
        from bot.workspace.demo.generator import load_demo

        con = duckdb_kql.connect()
        load_demo(con, spec, schema=_RAW)
        _save(con, path)
        return con
    if not path.exists():
        _build_in_child(spec, directory)
    con = duckdb_kql.connect()
    literal = str(path).replace("'", "''")
    con.execute(f"ATTACH '{literal}' AS {_ATTACHED} (READ_ONLY)")
    con.execute(f"CREATE SCHEMA {_RAW}")
    for table in TABLES:
        con.execute(f'CREATE VIEW {_RAW}."{table}" AS SELECT * FROM {_ATTACHED}.{_RAW}."{table}"')
    return con


def _save(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Copy the in-memory demo of `con` into the cache file (best effort: a cache that
    cannot be written only costs time)."""
    with contextlib.suppress(OSError, duckdb.Error):
        _write_file(path, lambda out: _copy_tables(con, out))


def _copy_tables(cursor: duckdb.DuckDBPyConnection, file: Path) -> None:
    literal = str(file).replace("'", "''")
    cursor.execute(f"ATTACH '{literal}' AS demo_out")
    try:
        cursor.execute(f"CREATE SCHEMA demo_out.{_RAW}")
        for table in TABLES:
            cursor.execute(
                f'CREATE TABLE demo_out.{_RAW}."{table}" AS SELECT * FROM memory.{_RAW}."{table}"'
            )
    finally:
        cursor.execute("DETACH demo_out")


def demo_path(spec: DemoSpec, directory: Path) -> Path:
    """Where the demo for `spec` is (or will be) cached."""
    key = f"{generator_version()}|{spec.seed}|{spec.size}|{spec.days}|{spec.now.isoformat()}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return directory / f"demo-{spec.size}-{digest}.duckdb"


def build(spec: DemoSpec, directory: Path) -> Path:
    """Generate the demo for `spec` into the cache (in this process); returns its path."""
    from bot.workspace.demo.generator import load_demo

    def generate(file: Path) -> None:
        con = duckdb_kql.connect(str(file))
        try:
            load_demo(con, spec, schema=_RAW)
            con.execute("CHECKPOINT")
        finally:
            con.close()

    path = demo_path(spec, directory)
    _write_file(path, generate)
    return path


def _write_file(path: Path, write: Callable[[Path], None]) -> None:
    """`write` a DuckDB file under a temporary name, then rename it to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    os.close(handle)
    temporary = Path(name)
    temporary.unlink()  # DuckDB creates the file itself
    try:
        write(temporary)
        os.replace(temporary, path)
        _prune(path.parent, keep=path)
    finally:
        temporary.unlink(missing_ok=True)
        Path(f"{temporary}.wal").unlink(missing_ok=True)


def _prune(directory: Path, *, keep: Path) -> None:
    """Delete demos of earlier hours or generator versions, once nothing new uses them
    (a process that still has one open keeps reading it: the file lives until closed)."""
    cutoff = time.time() - _KEEP_SECONDS
    for old in directory.glob("demo-*.duckdb"):
        with contextlib.suppress(OSError):
            if old != keep and old.stat().st_mtime < cutoff:
                old.unlink()


@functools.cache
def generator_version() -> str:
    """A hash of the generator's source and the tables' schema: rows change only with it."""
    digest = hashlib.sha256()
    package = resources.files("bot.workspace.demo")
    for name in sorted(entry.name for entry in package.iterdir() if entry.name.endswith(".py")):
        digest.update(name.encode() + b"\0" + package.joinpath(name).read_bytes())
    digest.update(resources.files("bot.workspace").joinpath("schema.py").read_bytes())
    return digest.hexdigest()[:16]


def _build_in_child(spec: DemoSpec, directory: Path) -> None:
    arguments = [str(directory), spec.now.isoformat(), str(spec.seed), str(spec.days), spec.size]
    finished = subprocess.run(
        [sys.executable, "-m", __name__, *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode != 0:
        lines = (finished.stderr or finished.stdout).strip().splitlines()
        raise RuntimeError(
            f"generating the demo workspace failed: {lines[-1] if lines else finished.returncode}"
        )


def main(arguments: list[str]) -> None:
    directory, now, seed, days, size = arguments
    spec = DemoSpec(
        now=datetime.fromisoformat(now),
        seed=int(seed),
        days=int(days),
        size=size,  # type: ignore[arg-type]  # DemoSpec checks it
    )
    build(spec, Path(directory))


if __name__ == "__main__":
    main(sys.argv[1:])
