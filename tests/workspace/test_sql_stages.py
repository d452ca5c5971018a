"""Folding duckdb-kql's first and last pipeline layers: exact layouts only."""

from __future__ import annotations

import duckdb_kql
import pytest

from bot.workspace.sql_stages import flattened

S = ",\n     "


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ('WITH _s0 AS (SELECT * FROM "T")\nSELECT * FROM _s0', 'SELECT * FROM "T"'),
        (
            f'WITH _s0 AS (SELECT * FROM "T"){S}_s1 AS (SELECT * FROM _s0 WHERE ("a" = \'_s0)\'))'
            "\nSELECT * FROM _s1",
            # the name in a literal counts as a use: stage 0 stays (conservative)
            'WITH _s0 AS (SELECT * FROM "T")\nSELECT * FROM _s0 WHERE ("a" = \'_s0)\')',
        ),
        (
            f'WITH _s0 AS (SELECT * FROM "T"){S}_s1 AS (SELECT "a" FROM _s0){S}'
            "_s2 AS (SELECT * FROM _s1 LIMIT 3)\nSELECT * FROM _s2",
            'WITH _s1 AS (SELECT "a" FROM "T" AS _s0)\nSELECT * FROM _s1 LIMIT 3',
        ),
        (
            f'WITH _s0 AS (SELECT * FROM "T" WHERE x){S}_s1 AS (SELECT * FROM _s0)'
            "\nSELECT * FROM _s1",
            'WITH _s0 AS (SELECT * FROM "T" WHERE x)\nSELECT * FROM _s0',
        ),
    ],
)
def test_the_first_and_last_layers_fold(sql: str, expected: str) -> None:
    assert flattened(sql) == expected


@pytest.mark.parametrize(
    "sql",
    [
        'SELECT CAST(1 AS BIGINT) AS "print_0"',
        'WITH _l0_T AS (SELECT 1),\n     _s0 AS (SELECT * FROM "_l0_T")\nSELECT * FROM _s0',
        'WITH _s0 AS (SELECT * FROM "T")\nSELECT * FROM _s0 LIMIT 1',
        'WITH _s1 AS (SELECT * FROM "T")\nSELECT * FROM _s1',
        'WITH _s0 AS (SELECT * FROM "T"\nSELECT * FROM _s0',
        "WITH _s0 AS (SELECT ')' FROM \"T\")\nSELECT * FROM _s0 x",
    ],
)
def test_other_text_is_returned_as_it_was(sql: str) -> None:
    assert flattened(sql) == sql


def test_stage_zero_read_twice_stays_a_stage() -> None:
    sql = (
        f'WITH _s0 AS (SELECT * FROM "T"){S}'
        "_s1 AS (SELECT * FROM _s0 UNION ALL SELECT * FROM _s0)\nSELECT * FROM _s1"
    )
    assert flattened(sql) == (
        'WITH _s0 AS (SELECT * FROM "T")\nSELECT * FROM _s0 UNION ALL SELECT * FROM _s0'
    )


@pytest.mark.parametrize(
    "kql",
    [
        "T | where a == 'x' | take 2",
        "T | union (T | where a == 'y') | count",
        "T | join kind=inner (T | project a, c = 1) on a | project a, c",
        "let U = T | where a == 'x'; U | extend b = 1",
        "T | summarize n = count() by a | order by a asc",
        "T | where a startswith '(' | project a",
    ],
)
def test_flattened_sql_answers_the_same(kql: str) -> None:
    con = duckdb_kql.connect()
    con.execute("CREATE TABLE T AS SELECT * FROM (VALUES ('x'), ('y'), ('('), (NULL)) v(a)")
    sql = str(duckdb_kql.to_sql(kql, schema={"T": ["a"]}))
    assert sorted(map(repr, con.execute(flattened(sql)).fetchall())) == sorted(
        map(repr, con.execute(sql).fetchall())
    )
