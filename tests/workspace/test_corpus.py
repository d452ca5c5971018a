"""286 real public queries (tests/data/kql-corpus) against the embedded engine.

Every query must either run or fail with a QueryError that says what is wrong,
never crash; and the share that runs must not regress (measured: 176 of the 205
that read only AuditLogs/AADProvisioningLogs and call no undefined functions).
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from pathlib import Path

import duckdb_kql
import pytest
import pytest_asyncio

from bot.errors import QueryError
from bot.workspace.local import LocalWorkspace, create_tables

CORPUS = Path(__file__).parent.parent / "data" / "kql-corpus"
OWN_TABLES = {"AuditLogs", "AADProvisioningLogs"}
MEASURED_RUNNING = 176


def _self_contained() -> set[str]:
    with (CORPUS / "index.tsv").open() as index:
        return {
            row["file"]
            for row in csv.DictReader(index, delimiter="\t")
            if set(row["tables"].split(",")) <= OWN_TABLES
            and row["uses_functions_not_defined_in_query"] == "no"
        }


pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def workspace() -> AsyncIterator[LocalWorkspace]:
    con = duckdb_kql.connect()
    create_tables(con)
    ws = LocalWorkspace(con)
    yield ws
    await ws.close()


async def test_every_query_runs_or_explains_itself(workspace: LocalWorkspace) -> None:
    running: set[str] = set()
    unexplained: list[str] = []
    for path in sorted(CORPUS.glob("*.kql")):
        try:
            await workspace.query(path.read_text(), timespan=None)
        except QueryError as error:
            if not str(error).strip():
                unexplained.append(path.name)
        else:
            running.add(path.name)
    assert unexplained == []
    assert len(running & _self_contained()) >= MEASURED_RUNNING


@pytest.mark.parametrize(("name", "line"), [("025.kql", 27), ("080.kql", None)])
async def test_broken_corpus_queries_are_located(
    workspace: LocalWorkspace, name: str, line: int | None
) -> None:
    with pytest.raises(QueryError) as raised:
        await workspace.query((CORPUS / name).read_text(), timespan=None)
    if line is not None:
        assert raised.value.line == line
