"""Small builders for alert tests: rules, query results, and a clock of evaluation times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.alerts.rule_model import Rule
from bot.workspace.base import Column, ColumnType, QueryResult

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def make_rule(**overrides: Any) -> Rule:
    """A valid count rule (every 5 minutes over 5 minutes, `> 0`), with overrides."""
    fields: dict[str, Any] = {
        "id": "test-rule",
        "title": "Test rule",
        "description": "A rule for tests.",
        "category": "Provisioning",
        "severity": 2,
        "query": "AADProvisioningLogs",
        "frequency": "5m",
        "window": "5m",
        "measure": "count",
        "operator": ">",
        "threshold": 0,
        "remediation": {"text": "Fix it."},
    }
    fields.update(overrides)
    return Rule.model_validate(fields)


def table(columns: dict[str, ColumnType], rows: Sequence[Sequence[Any]]) -> QueryResult:
    return QueryResult(
        columns=[Column(name, kind) for name, kind in columns.items()],
        rows=[list(row) for row in rows],
        elapsed_ms=1.0,
    )


def job_rows(counts: dict[str, int]) -> QueryResult:
    """`count` rows per JobId, as a query with a JobId dimension would return them."""
    rows = [[job, "Failure"] for job, count in counts.items() for _ in range(count)]
    return table({"JobId": "string", "ResultType": "string"}, rows)


def rows(count: int) -> QueryResult:
    return table({"Id": "string"}, [[f"row-{n}"] for n in range(count)])


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)
