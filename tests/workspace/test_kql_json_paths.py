"""`tostring` of a static dynamic path in one JSON read: rewritten only where exact."""

from __future__ import annotations

import itertools

import duckdb
import duckdb_kql
import pytest

from bot.workspace.kql_json_paths import one_read


@pytest.mark.parametrize(
    ("rendered", "expected"),
    [
        ("json_extract(\"D\", '$.a')", "coalesce((\"D\") ->> '$.a', '')"),
        ("json_extract(\"D\", '$[0].b[#-1]')", "coalesce((\"D\") ->> '$[0].b[#-1]', '')"),
        (
            "json_extract(coalesce(TRY_CAST(\"s\" AS JSON), to_json('(')), '$.x')",
            "coalesce((coalesce(TRY_CAST(\"s\" AS JSON), to_json('('))) ->> '$.x', '')",
        ),
        ('json_extract("a"")", \'$.x\')', "coalesce((\"a\"\")\") ->> '$.x', '')"),
    ],
)
def test_a_static_path_is_read_once(rendered: str, expected: str) -> None:
    assert one_read(rendered) == expected


@pytest.mark.parametrize(
    "rendered",
    [
        '"D"',
        'json_extract("D", \'$."a b"\')',
        "json_extract(\"D\", '$[' || CASE WHEN i < 0 THEN '#' END || ']')",
        "json_extract(\"D\", '$.a') || json_extract(\"E\", '$.b')",
        "json_extract(\"D\", '$.a')) || (json_extract(\"E\", '$.b')",
        "json_extract(\"D\", '$.a') ->> '$'",
        "json_extract('), '$.a')",
        "json_extract(\"D\", '$.a[*]')",
    ],
)
def test_anything_else_is_left_alone(rendered: str) -> None:
    assert one_read(rendered) is None


DOCUMENTS = [
    '{"a": "x"}',
    '{"a": null}',
    "{}",
    '{"a": 1.0}',
    '{"a": 1e5}',
    '{"a": 12345678901234567890}',
    '{"a": {"b": [1, "two", null]}}',
    '{"a": "\\u00e9\\n\\"q\\""}',
    '{"a": true}',
    '[1, {"a": "y"}]',
    '"str"',
    "null",
    '{"a": [ ]}',
    '{"a": -0.0}',
    None,
]
PATHS = ["$.a", "$[1].a", "$[#-1]", "$.a.b", "$.a.b[1]", "$[0]", "$.a.c"]


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb_kql.connect()


@pytest.mark.parametrize(("path", "kind"), itertools.product(PATHS, ["JSON", "VARCHAR"]))
def test_one_read_gives_the_text_of_extract_then_read(
    con: duckdb.DuckDBPyConnection, path: str, kind: str
) -> None:
    document = f"CAST(d AS {kind})"
    extract = f"json_extract({document}, '{path}')"
    both = one_read(extract)
    assert both is not None
    rows = con.execute(
        f"SELECT coalesce({extract} ->> '$', ''), {both} FROM unnest(?) AS t(d)", [DOCUMENTS]
    ).fetchall()
    assert [twice for twice, _ in rows] == [once for _, once in rows]
