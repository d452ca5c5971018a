"""Terminal output of query results."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.output import kusto_timespan, render
from bot.workspace.base import Column, QueryResult

RESULT = QueryResult(
    columns=[Column("When", "datetime"), Column("Who", "dynamic"), Column("N", "long")],
    rows=[
        [datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), {"user": {"upn": "a@b.c"}}, 3],
        [None, ["x", "y,z"], 10],
    ],
    elapsed_ms=12.3456,
)


def test_json_has_the_documented_shape() -> None:
    document = json.loads(render(RESULT, "json"))
    assert document == {
        "columns": [
            {"name": "When", "type": "datetime"},
            {"name": "Who", "type": "dynamic"},
            {"name": "N", "type": "long"},
        ],
        "rows": [["2026-01-02T03:04:05Z", {"user": {"upn": "a@b.c"}}, 3], [None, ["x", "y,z"], 10]],
        "elapsed_ms": 12.346,
    }


def test_csv_round_trips_through_a_csv_reader() -> None:
    assert list(csv.reader(io.StringIO(render(RESULT, "csv")))) == [
        ["When", "Who", "N"],
        ["2026-01-02T03:04:05Z", '{"user":{"upn":"a@b.c"}}', "3"],
        ["", '["x","y,z"]', "10"],
    ]


def test_table_aligns_and_counts() -> None:
    lines = render(RESULT, "table").splitlines()
    assert lines[0].split() == ["When", "Who", "N"]
    assert lines[-1] == "(2 rows, 12 ms)"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(minutes=5), "00:05:00"),
        (timedelta(days=1, hours=2, minutes=3, seconds=4), "1.02:03:04"),
        (timedelta(seconds=1.5), "00:00:01.5000000"),
        (-timedelta(hours=1), "-01:00:00"),
    ],
)
def test_timespans_in_kusto_form(value: timedelta, text: str) -> None:
    assert kusto_timespan(value) == text
