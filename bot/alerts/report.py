"""Text and JSON for the `rules validate`, `rules list` and `evaluate` commands. Pure."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from bot.alerts.evaluate import Measurement
from bot.alerts.rule_model import Rule, format_duration
from bot.alerts.rules import CheckReport, LoadedRule
from bot.alerts.runner import CycleResult, RuleEvaluation
from bot.alerts.state import QueryFailure
from bot.models import fingerprint
from bot.output import json_value

ReportFormat = Literal["table", "json"]
_BREACHING = "breaching"


def render_check(report: CheckReport) -> str:
    """One line per problem, then a summary."""
    lines = [str(diagnostic) for diagnostic in report.diagnostics]
    errors, warnings = len(report.errors), len(report.warnings)
    lines.append(
        f"{_plural(len(report.rules), 'valid rule')} in {_plural(len(report.files), 'file')}: "
        f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
    )
    return "\n".join(lines)


def render_rule_list(rules: Sequence[LoadedRule]) -> str:
    header = ["ID", "CATEGORY", "SEV", "EVERY/WINDOW", "TITLE"]
    rows = [
        [
            item.rule.id + ("" if item.rule.enabled else " (disabled)"),
            item.rule.category,
            str(item.rule.severity),
            f"{format_duration(item.rule.frequency)}/{format_duration(item.rule.window)}",
            item.rule.title,
        ]
        for item in sorted(rules, key=lambda loaded: (loaded.rule.category, loaded.rule.id))
    ]
    return _table(header, rows)


def evaluation_document(cycle: CycleResult) -> dict[str, Any]:
    rules = [_rule_document(evaluation, cycle) for evaluation in cycle.evaluations]
    states = [rule["state"] for rule in rules]
    return {
        "at": json_value(cycle.at),
        "rules": rules,
        "summary": {state: states.count(state) for state in ("firing", "breaching", "ok", "error")},
    }


def render_evaluation(cycle: CycleResult, output_format: ReportFormat) -> str:
    document = evaluation_document(cycle)
    if output_format == "json":
        return json.dumps(document, ensure_ascii=False, indent=2)
    header = ["RULE", "STATE", "DIMENSIONS", "VALUE", "CONDITION", "ERROR"]
    rows = [row for rule in document["rules"] for row in _rule_rows(rule)]
    summary = document["summary"]
    rules = _plural(len(document["rules"]), "rule")
    footer = (
        f"{rules} at {document['at']}: {summary['firing']} firing, "
        f"{summary['breaching']} breaching, {summary['ok']} ok, {summary['error']} error"
    )
    return f"{_table(header, rows)}\n{footer}"


def _rule_document(evaluation: RuleEvaluation, cycle: CycleResult) -> dict[str, Any]:
    rule = evaluation.rule
    error = evaluation_error(evaluation)
    results = [] if error else [_result(rule, m, cycle) for m in evaluation.result.measurements]
    firing = any(result["alert_id"] is not None for result in results)
    breaching = any(result["state"].startswith(_BREACHING) for result in results)
    return {
        "rule": rule.id,
        "title": rule.title,
        "category": rule.category,
        "severity": rule.severity,
        "frequency": format_duration(rule.frequency),
        "window": format_duration(rule.window),
        "measure": rule.measure.describe(),
        "operator": rule.operator,
        "threshold": rule.threshold,
        "state": "error" if error else "firing" if firing else "breaching" if breaching else "ok",
        "error": error,
        "results": results,
    }


def evaluation_error(evaluation: RuleEvaluation) -> str | None:
    """Why the rule could not be evaluated (query failed, or its result could not be measured)."""
    if isinstance(evaluation.outcome, QueryFailure):
        return evaluation.outcome.message
    health = evaluation.result.state.health.get(evaluation.rule.id)
    return health.last_error if health and health.consecutive_errors else None


def _result(rule: Rule, measurement: Measurement, cycle: CycleResult) -> dict[str, Any]:
    key = fingerprint(rule.id, dict(measurement.dimensions))
    alert = cycle.state.alerts.get(key)
    state = "ok" if alert is None else alert.status.value
    if alert is None and measurement.breached:
        # Breaching now, but fewer than min_failing of the last evaluations did (N of M).
        remembered = cycle.state.dimensions.get(key)
        breached = sum(o.breached for o in remembered.recent) if remembered else 1
        state = f"{_BREACHING}, {breached} of {rule.failing_periods.min_failing} periods"
    return {
        "dimensions": dict(measurement.dimensions),
        "value": measurement.value,
        "breached": measurement.breached,
        "state": state,
        "alert_id": None if alert is None else alert.id,
    }


def _rule_rows(rule: dict[str, Any]) -> list[list[str]]:
    condition = f"{rule['measure']} {rule['operator']} {rule['threshold']:g}"
    if rule["error"] or not rule["results"]:
        return [[rule["rule"], rule["state"], "-", "-", condition, rule["error"] or ""]]
    return [
        [
            rule["rule"],
            result["state"],
            ", ".join(f"{k}={v}" for k, v in result["dimensions"].items()) or "-",
            "no data" if result["value"] is None else f"{result['value']:g}",
            condition,
            "",
        ]
        for result in rule["results"]
    ]


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(header)]
    lines = [header, ["-" * width for width in widths], *rows]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")
