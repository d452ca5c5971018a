"""Measure a query result per dimension and compare it with the rule's threshold. Pure.

Azure Monitor semantics: rows are split by the dimension columns (one alert per
combination); each combination's measure is its number of rows, or an
aggregation (sum, avg, min, max) of the measure column over its rows. A
combination the engine already knows but that has no rows now measures 0 rows
(count), or has no data (aggregations), which never breaches.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, Final

from bot.alerts.rule_model import Aggregation, FailingPeriods, Operator, Rule
from bot.models import PeriodOutcome
from bot.output import json_value
from bot.workspace.base import QueryResult

EVIDENCE_ROWS: Final = 5
DimensionKey = tuple[str, ...]


class MeasureError(ValueError):
    """The result cannot be measured as the rule says (missing or non-numeric column)."""


@dataclass(frozen=True, slots=True)
class Measurement:
    """One dimension combination's measured value and whether it breached."""

    dimensions: Mapping[str, str]
    #: None when there is no data to aggregate.
    value: float | None
    breached: bool
    evidence: tuple[dict[str, Any], ...] = field(default=())


def measure(
    rule: Rule, result: QueryResult, *, known: Iterable[Mapping[str, str]] = ()
) -> list[Measurement]:
    """One measurement per dimension combination in `result` or in `known`, sorted."""
    groups = group_rows(result, rule.dimensions)
    for dimensions in known:
        groups.setdefault(tuple(dimensions.get(name, "") for name in rule.dimensions), [])
    if not rule.dimensions:
        groups.setdefault((), [])
    values = _measure_column(result, rule)
    return [_measurement(rule, key, rows, result, values) for key, rows in sorted(groups.items())]


def group_rows(
    result: QueryResult, dimensions: Sequence[str]
) -> dict[DimensionKey, list[Sequence[Any]]]:
    """Rows by their dimension values (as text)."""
    indexes = [_column(result, name) for name in dimensions]
    groups: dict[DimensionKey, list[Sequence[Any]]] = {}
    for row in result.rows:
        key = tuple(dimension_text(row[index]) for index in indexes)
        groups.setdefault(key, []).append(row)
    return groups


def dimension_text(value: Any) -> str:
    """A dimension value as text: empty for null, compact JSON for dynamic values."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(json_value(value), separators=(",", ":"), sort_keys=True)
    return str(json_value(value))


def aggregate(aggregation: Aggregation, values: Sequence[float]) -> float | None:
    """Azure's timeAggregation over the values; None when there are none (no data)."""
    if aggregation == "count":
        return float(len(values))
    if not values:
        return None
    if aggregation == "sum":
        return math.fsum(values)
    if aggregation == "avg":
        return math.fsum(values) / len(values)
    return min(values) if aggregation == "min" else max(values)


def compare(value: float | None, operator: Operator, threshold: float) -> bool:
    """Whether `value` breaches: `value <operator> threshold`. No data never breaches."""
    if value is None:
        return False
    return {
        ">": value > threshold,
        ">=": value >= threshold,
        "<": value < threshold,
        "<=": value <= threshold,
        "==": value == threshold,
        "!=": value != threshold,
    }[operator]


def is_failing(recent: Sequence[PeriodOutcome], periods: FailingPeriods) -> bool:
    """N of M: at least `min_failing` breaches among the last `evaluations` outcomes."""
    window = recent[-periods.evaluations :]
    return sum(outcome.breached for outcome in window) >= periods.min_failing


def _measurement(
    rule: Rule,
    key: DimensionKey,
    rows: list[Sequence[Any]],
    result: QueryResult,
    values: int | None,
) -> Measurement:
    numbers = (
        [0.0] * len(rows)
        if values is None
        else [n for n in (_number(row[values], rule) for row in rows) if n is not None]
    )
    value = aggregate(rule.measure.aggregation, numbers)
    names = [column.name for column in result.columns]
    evidence = tuple(
        {name: json_value(cell) for name, cell in zip(names, row, strict=True)}
        for row in rows[:EVIDENCE_ROWS]
    )
    return Measurement(
        dimensions=dict(zip(rule.dimensions, key, strict=True)),
        value=value,
        breached=compare(value, rule.operator, rule.threshold),
        evidence=evidence,
    )


def _measure_column(result: QueryResult, rule: Rule) -> int | None:
    column = rule.measure.column
    return None if column is None else _column(result, column)


def _column(result: QueryResult, name: str) -> int:
    try:
        return result.column_index(name)
    except KeyError:
        names = ", ".join(column.name for column in result.columns)
        raise MeasureError(
            f"the query returned no column {name!r} (its columns: {names})"
        ) from None


def _number(value: Any, rule: Rule) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool | int | float | Decimal):
        return float(value)
    hint = " (divide it by a unit, e.g. / 1h)" if isinstance(value, timedelta) else ""
    raise MeasureError(
        f"column {rule.measure.column!r} holds {type(value).__name__} values, not numbers{hint}"
    )
