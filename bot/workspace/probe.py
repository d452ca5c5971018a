"""Learn a query's output columns without data: run it on the embedded engine's empty tables.

Rule validation uses it to check measure and dimension columns "when knowable",
whichever workspace the bot queries in production.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb_kql

from bot.workspace.local import LocalWorkspace, create_tables

#: KQL text -> its output (column name, Log Analytics type) pairs.
ColumnsProbe = Callable[[str], Sequence[tuple[str, str]]]


@contextmanager
def empty_tables_probe(*, translations: Path | None = None) -> Iterator[ColumnsProbe]:
    """`translations`: where translations are cached across processes (see LocalWorkspace)."""
    con = duckdb_kql.connect()
    try:
        create_tables(con)
        workspace = LocalWorkspace(con, timeout=30, translations=translations)
        yield lambda kql: [(c.name, c.type) for c in workspace.run_sync(kql, timespan=None).columns]
    finally:
        con.close()
