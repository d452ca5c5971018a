"""Datetime bins with `time_bucket` from the epoch: rewritten only where exact, same buckets."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import duckdb
import duckdb_kql
import pytest

from bot.workspace.kql_bins import bucketed

KQL_FORM = "to_timestamp(floor(epoch({v}) / epoch({w})) * epoch({w})) AT TIME ZONE 'UTC'"


@pytest.mark.parametrize(
    ("value", "width"),
    [('"TimeGenerated"', "INTERVAL '1d'"), ("max(\"T\") + INTERVAL '1h'", "INTERVAL '15m'")],
)
def test_a_whole_unit_width_is_bucketed(value: str, width: str) -> None:
    assert bucketed(KQL_FORM.format(v=value, w=width)) == (
        f"time_bucket({width}, CAST({value} AS TIMESTAMP), TIMESTAMP '1970-01-01')"
    )


@pytest.mark.parametrize(
    "rendered",
    [
        KQL_FORM.format(v='"T"', w="INTERVAL '1ms'"),
        KQL_FORM.format(v='"T"', w="INTERVAL '1.5h'"),
        KQL_FORM.format(v='"T"', w="INTERVAL '0d'"),
        KQL_FORM.format(v='"T"', w='"W"'),
        KQL_FORM.format(v='"T"', w="INTERVAL '1d'").replace(
            "* epoch(INTERVAL '1d')", "* epoch(INTERVAL '2d')"
        ),
        KQL_FORM.format(v='"T")) || (("U"', w="INTERVAL '1d'"),
        "to_seconds(CAST(floor(epoch(\"S\") / epoch(INTERVAL '1d'))"
        " * epoch(INTERVAL '1d') AS BIGINT))",
        'floor("N" / 5) * 5',
    ],
)
def test_anything_else_is_left_alone(rendered: str) -> None:
    assert bucketed(rendered) is None


WIDTHS = ["1s", "7s", "1m", "15m", "1h", "5h", "1d", "7d", "30d"]
BASE = datetime(2026, 3, 29, 0, 0)  # a DST change in Europe: nothing moves in UTC
MOMENTS = [
    BASE + timedelta(microseconds=offset)
    for offset in (0, 1, -1, 999_999, 86_400_000_000 - 1, 3_600_000_000 * 7 + 13)
] + [datetime(1969, 12, 31, 23, 59, 59, 999_999), datetime(1950, 6, 1, 12), datetime(1970, 1, 1)]


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb_kql.connect()


@pytest.mark.parametrize(("width", "kind"), itertools.product(WIDTHS, ["TIMESTAMP", "TIMESTAMPTZ"]))
def test_buckets_are_those_of_the_epoch_arithmetic(
    con: duckdb.DuckDBPyConnection, width: str, kind: str
) -> None:
    value = f"CAST(t AS {kind})"
    original = KQL_FORM.format(v=value, w=f"INTERVAL '{width}'")
    rewritten = bucketed(original)
    assert rewritten is not None
    rows = con.execute(
        f"SELECT {original}, {rewritten}, typeof({original}) = typeof({rewritten}) "
        "FROM unnest(?) AS m(t)",
        [[*MOMENTS, None]],
    ).fetchall()
    assert [(a, True) for a, _, _ in rows] == [(b, same) for _, b, same in rows]
