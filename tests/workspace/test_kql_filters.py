"""`where` equality without its `coalesce`: rewritten only where exact, same rows either way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import duckdb_kql
import pytest

from bot.workspace.kql_filters import pushable
from bot.workspace.local import LocalWorkspace, create_tables

CASE = (
    "CASE WHEN typeof({c}) = 'JSON' THEN coalesce((coalesce({c} ->> '$', '') = {t}), FALSE) "
    "ELSE coalesce(({c} = {t}), FALSE) END"
)
BARE = "CASE WHEN typeof({c}) = 'JSON' THEN (coalesce({c} ->> '$', '') = {t}) ELSE ({c} = {t}) END"


@pytest.mark.parametrize(
    ("column", "text"),
    [('"Action"', "'Disable'"), ('"we""ird"', "'it''s'"), ('"A"', "''"), ('"A"', "') OR (1=1'")],
)
def test_equality_with_text_loses_its_coalesce(column: str, text: str) -> None:
    stage = f"SELECT * FROM _s0 WHERE {CASE.format(c=column, t=text)}"
    assert pushable(stage, "_s0") == f"SELECT * FROM _s0 WHERE {BARE.format(c=column, t=text)}"
    whole = f"SELECT * FROM _s0 WHERE coalesce(({column} = {text}), FALSE)"
    assert pushable(whole, "_s0") == f"SELECT * FROM _s0 WHERE ({column} = {text})"


@pytest.mark.parametrize(
    "predicate",
    [
        # membership keeps it: DuckDB reads every column before a bare IN (slower)
        "coalesce((\"A\" IN ('x', 'y')), FALSE)",
        # null makes `!=` true in KQL: the TRUE default is the meaning, not a wrapper
        "coalesce((\"A\" <> 'x'), TRUE)",
        "NOT coalesce((\"A\" = 'x'), FALSE)",
        "coalesce((\"A\" = 'x'), FALSE) OR coalesce((\"B\" = 'y'), FALSE)",
        'coalesce(("A" = "B"), FALSE)',
        "coalesce((lower(\"A\") = 'x'), FALSE)",
        # the two branches of the dispatch disagree
        CASE.format(c='"A"', t="'x'").replace('ELSE coalesce(("A"', 'ELSE coalesce(("B"'),
        CASE.format(c='"A"', t="'x'").replace("THEN coalesce((coalesce(", "THEN coalesce((lower("),
    ],
)
def test_other_predicates_are_left_as_rendered(predicate: str) -> None:
    stage = f"SELECT * FROM _s0 WHERE {predicate}"
    assert pushable(stage, "_s0") == stage


def test_a_stage_that_binds_helper_columns_is_left_as_rendered() -> None:
    stage = (
        'SELECT * EXCLUDE ("_b") FROM (SELECT *, 1 AS "_b" FROM _s0) '
        "WHERE coalesce((\"A\" = 'x'), FALSE)"
    )
    assert pushable(stage, "_s0") == stage


@pytest.fixture
async def workspace() -> AsyncIterator[LocalWorkspace]:
    con = duckdb_kql.connect()
    create_tables(con)
    moment = datetime(2026, 3, 10, 11, 0)
    rows = [("Disable", '{"a": "x"}'), (None, None), ("disable", '"x"'), ("x", "[1]")]
    for action, details in rows:
        con.execute(
            "INSERT INTO raw.AADProvisioningLogs (TimeGenerated, Action, ProvisioningSteps) "
            "VALUES (?, ?, ?)",
            [moment, action, details],
        )
    ws = LocalWorkspace(con, clock=lambda: datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    yield ws
    await ws.close()


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ('Action == "Disable"', ["Disable"]),
        ('Action == ""', []),
        ('Action != "Disable"', [None, "disable", "x"]),
        ('not(Action == "Disable")', [None, "disable", "x"]),
        ('Action =~ "disable"', ["Disable", "disable"]),
        ('Action in ("Disable", "x")', ["Disable", "x"]),
        ('Action == "Disable" or Action == "x"', ["Disable", "x"]),
        ('tostring(parse_json(ProvisioningSteps).a) == "x"', ["Disable"]),
        ('parse_json(ProvisioningSteps) == "x"', ["disable"]),
    ],
)
async def test_filters_keep_kqls_null_semantics(
    workspace: LocalWorkspace, where: str, expected: list[str | None]
) -> None:
    result = await workspace.query(
        f"AADProvisioningLogs | where {where} | project Action", timespan=None
    )
    assert sorted((row[0] for row in result.rows), key=str) == sorted(expected, key=str)
