"""The demo workspace kept on disk, so a CLI call or a restart does not generate it again.

A generated demo is a DuckDB file under the cache directory, named by what decides
its rows: the generator's version (a hash of this package's and the table schema's
source, so any change to the generator invalidates it), the seed, size, days and
anchor ("now", the start of an hour unless configured). The rows are generated
straight into that file, with DuckDB's memory capped (BUILD_CONFIG: what does not fit
is written out or spilled to disk), so building a demo needs memory for the generator's
Python state and a chunk of rows, not for the rows. Medium and large demos are built
in a child process (so the generator's working memory never stays with the bot); a
small one is built here (cheaper than starting an interpreter). Files are written to a
temporary name and renamed into place, so a reader sees the whole file or none; two
processes building the same file at once both produce the same rows. Writing one
deletes the demos left from earlier hours (older than six hours).

`open_demo` attaches that file read-only to a fresh in-memory connection and exposes
its tables as views in schema `raw`, as LocalWorkspace expects; DuckDB reads pages
from the file as queries need them, so memory follows what is queried, not the size,
and the rows are never materialised again in memory.

    python -m bot.workspace.demo.cache DIRECTORY NOW SEED DAYS SIZE   (what the child runs)
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Final

import duckdb
import duckdb_kql

from bot.workspace.demo.spec import DemoManifest, DemoSpec
from bot.workspace.schema import TABLES

_ATTACHED: Final = "demo_data"
_RAW: Final = "raw"
#: Sizes small enough to generate in this process: a child costs an interpreter start,
#: worth it only for sizes whose generator needs hundreds of MB or more.
_BUILT_HERE: Final = frozenset({"small"})
#: Demos older than this (by file time) are deleted when a new one is built.
_KEEP_SECONDS: Final = 6 * 3600
#: DuckDB's settings while generating: a memory cap (loaded rows are written to the file,
#: a larger working set spills next to it, as `<file>.tmp`), at a cost in build time of
#: a few percent. Insertion order is preserved (the default): queries without an order
#: see the rows as generated.
BUILD_CONFIG: Final = MappingProxyType({"memory_limit": "128MB", "preserve_insertion_order": True})


def open_demo(spec: DemoSpec, directory: Path) -> duckdb.DuckDBPyConnection:
    """A connection whose schema `raw` holds the demo's tables, from the cache if there.

    Absent, the demo is built first: a small one here (in memory if the cache cannot be
    written: that only costs time), a larger one in a child process. Raises RuntimeError
    with the child's last line if that fails."""
    path = demo_path(spec, directory)
    if not path.exists() and spec.size in _BUILT_HERE:
        try:
            build(spec, directory)
        except (OSError, duckdb.Error):
            return _in_memory(spec)
    elif not path.exists():
        _build_in_child(spec, directory)
    return attach_demo(path)


def _in_memory(spec: DemoSpec) -> duckdb.DuckDBPyConnection:
    from bot.workspace.demo.generator import load_demo

    con = duckdb_kql.connect()
    load_demo(con, spec, schema=_RAW)
    return con


def attach_demo(path: Path) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory connection with the demo file at `path` attached read-only and
    its tables as views in schema `raw`."""
    con = duckdb_kql.connect()
    literal = str(path).replace("'", "''")
    con.execute(f"ATTACH '{literal}' AS {_ATTACHED} (READ_ONLY)")
    con.execute(f"CREATE SCHEMA {_RAW}")
    for table in TABLES:
        con.execute(f'CREATE VIEW {_RAW}."{table}" AS SELECT * FROM {_ATTACHED}.{_RAW}."{table}"')
    return con


def demo_path(spec: DemoSpec, directory: Path) -> Path:
    """Where the demo for `spec` is (or will be) cached."""
    key = f"{generator_version()}|{spec.seed}|{spec.size}|{spec.days}|{spec.now.isoformat()}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return directory / f"demo-{spec.size}-{digest}.duckdb"


def build(spec: DemoSpec, directory: Path) -> Path:
    """Generate the demo for `spec` into the cache (in this process); returns its path."""
    path = demo_path(spec, directory)
    _write_file(path, lambda file: write_demo(spec, file))
    return path


def write_demo(spec: DemoSpec, file: Path) -> DemoManifest:
    """Generate the demo for `spec` straight into a new DuckDB file (see BUILD_CONFIG)."""
    from bot.workspace.demo.generator import load_demo

    con = duckdb_kql.connect(str(file), config=dict(BUILD_CONFIG))
    try:
        manifest = load_demo(con, spec, schema=_RAW)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return manifest


def _write_file(path: Path, write: Callable[[Path], object]) -> None:
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
        shutil.rmtree(f"{temporary}.tmp", ignore_errors=True)  # DuckDB's spill directory


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
