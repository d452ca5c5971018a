"""Measuring a result: operators, thresholds, dimensions, aggregations, N of M."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.alerts.evaluate import MeasureError, aggregate, compare, is_failing, measure
from bot.alerts.rule_model import FailingPeriods
from bot.models import PeriodOutcome
from tests.alerts.builders import T0, job_rows, make_rule, rows, table


@pytest.mark.parametrize(
    ("value", "operator", "threshold", "breached"),
    [
        (11, ">", 10, True),
        (10, ">", 10, False),
        (10, ">=", 10, True),
        (9, ">=", 10, False),
        (0, "<", 1, True),
        (1, "<", 1, False),
        (1, "<=", 1, True),
        (2, "<=", 1, False),
        (0, "==", 0, True),
        (1, "==", 0, False),
        (1, "!=", 0, True),
        (0, "!=", 0, False),
        (0.5, ">", 0.25, True),
        (None, ">", 0, False),
        (None, "<", 1, False),
        (None, "!=", 0, False),
    ],
)
def test_compare(value: float | None, operator: str, threshold: float, breached: bool) -> None:
    assert compare(value, operator, threshold) is breached  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("aggregation", "values", "expected"),
    [
        ("count", [5.0, 1.0], 2.0),
        ("count", [], 0.0),
        ("sum", [1.0, 2.5, 3.0], 6.5),
        ("avg", [1.0, 2.0, 6.0], 3.0),
        ("min", [4.0, -1.0, 3.0], -1.0),
        ("max", [4.0, -1.0, 3.0], 4.0),
        ("sum", [], None),
        ("avg", [], None),
        ("max", [], None),
    ],
)
def test_aggregate(aggregation: str, values: list[float], expected: float | None) -> None:
    assert aggregate(aggregation, values) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("count", "threshold", "breached"),
    [(0, 0, False), (1, 0, True), (10, 10, False), (11, 10, True)],
)
def test_count_without_dimensions_is_one_measurement(
    count: int, threshold: int, breached: bool
) -> None:
    (only,) = measure(make_rule(threshold=threshold), rows(count))
    assert (only.dimensions, only.value, only.breached) == ({}, count, breached)


def test_dimensions_split_rows_one_measurement_per_combination() -> None:
    rule = make_rule(dimensions=["JobId"], threshold=2)
    found = measure(rule, job_rows({"b": 3, "a": 1, "c": 2}))
    assert [(dict(m.dimensions), m.value, m.breached) for m in found] == [
        ({"JobId": "a"}, 1, False),
        ({"JobId": "b"}, 3, True),
        ({"JobId": "c"}, 2, False),
    ]


def test_several_dimensions_and_odd_values_become_text() -> None:
    rule = make_rule(dimensions=["Job", "Detail"])
    result = table(
        {"Job": "string", "Detail": "dynamic"},
        [["a", None], ["a", None], ["a", {"k": [1, 2]}], [None, 5]],
    )
    found = {tuple(m.dimensions.values()): m.value for m in measure(rule, result)}
    assert found == {("a", ""): 2, ("a", '{"k":[1,2]}'): 1, ("", "5"): 1}


def test_a_known_combination_without_rows_counts_zero_rows() -> None:
    rule = make_rule(dimensions=["JobId"], operator="<", threshold=1)
    found = measure(rule, job_rows({"a": 2}), known=[{"JobId": "gone"}])
    assert [(m.dimensions["JobId"], m.value, m.breached) for m in found] == [
        ("a", 2, False),
        ("gone", 0, True),
    ]


def test_a_known_combination_without_rows_has_no_data_for_an_aggregate() -> None:
    rule = make_rule(dimensions=["JobId"], measure={"aggregation": "max", "column": "Hours"})
    result = table({"JobId": "string", "Hours": "real"}, [["a", 5.0]])
    found = measure(rule, result, known=[{"JobId": "gone"}])
    assert [(m.dimensions["JobId"], m.value, m.breached) for m in found] == [
        ("a", 5.0, True),
        ("gone", None, False),
    ]


@pytest.mark.parametrize(
    ("aggregation", "expected"), [("sum", 9.0), ("avg", 3.0), ("min", 1.0), ("max", 5.0)]
)
def test_aggregations_over_a_column_per_dimension(aggregation: str, expected: float) -> None:
    rule = make_rule(
        dimensions=["JobId"],
        measure={"aggregation": aggregation, "column": "Failures"},
        threshold=2,
    )
    result = table(
        {"JobId": "string", "Failures": "long"}, [["a", 1], ["a", 5], ["a", 3], ["a", None]]
    )
    (only,) = measure(rule, result)
    assert only.value == expected
    assert only.breached is (expected > 2)


def test_evidence_keeps_the_first_rows_as_json_values() -> None:
    result = table({"At": "datetime", "Id": "string"}, [[T0, f"r{n}"] for n in range(8)])
    (only,) = measure(make_rule(), result)
    assert len(only.evidence) == 5
    assert only.evidence[0] == {"At": "2026-03-02T12:00:00Z", "Id": "r0"}


@pytest.mark.parametrize(
    ("rule_fields", "result", "message"),
    [
        ({"dimensions": ["Missing"]}, rows(1), "no column 'Missing'"),
        ({"measure": {"aggregation": "max", "column": "Hours"}}, rows(1), "no column 'Hours'"),
        (
            {"measure": {"aggregation": "max", "column": "Id"}},
            rows(1),
            "holds str values, not numbers",
        ),
        (
            {"measure": {"aggregation": "max", "column": "Silence"}},
            table({"Silence": "timespan"}, [[timedelta(hours=2)]]),
            r"divide it by a unit",
        ),
    ],
)
def test_a_result_that_cannot_be_measured_says_why(
    rule_fields: dict[str, object], result: object, message: str
) -> None:
    with pytest.raises(MeasureError, match=message):
        measure(make_rule(**rule_fields), result)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("outcomes", "min_failing", "evaluations", "failing"),
    [
        ([True], 1, 1, True),
        ([False], 1, 1, False),
        ([True, False], 1, 1, False),
        ([True, True, False], 2, 3, True),
        ([True, False, False], 2, 3, False),
        ([False, True, True], 2, 3, True),
        ([True, True, False, False], 2, 3, False),
        ([True, True], 3, 3, False),
        ([True, True, True], 3, 3, True),
    ],
)
def test_n_of_m(outcomes: list[bool], min_failing: int, evaluations: int, failing: bool) -> None:
    recent = [
        PeriodOutcome(at=T0 + timedelta(minutes=5 * n), breached=b) for n, b in enumerate(outcomes)
    ]
    periods = FailingPeriods(min_failing=min_failing, evaluations=evaluations)
    assert is_failing(recent, periods) is failing
