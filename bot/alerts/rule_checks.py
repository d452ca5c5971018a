"""Settings that validate one by one but make no sense together (Azure Monitor's limits).

Pure: a rule in, findings out. The KQL itself is checked in kql_checks.
"""

from __future__ import annotations

import difflib
from datetime import timedelta
from typing import Final

from bot.alerts.diagnostics import Finding, error, warning
from bot.alerts.evaluate import compare
from bot.alerts.rule_model import MAX_DIMENSIONS, Rule, format_duration
from bot.models import STANDARD_CATEGORIES

MIN_FREQUENCY: Final = timedelta(minutes=1)
MAX_FREQUENCY: Final = timedelta(hours=12)


def setting_findings(rule: Rule) -> list[Finding]:
    """Every impossible or suspicious combination of settings in `rule`."""
    return [
        *_frequency(rule),
        *_failing_periods(rule),
        *_dimensions(rule),
        *_renotify(rule),
        *_threshold(rule),
        *_category(rule),
    ]


def _frequency(rule: Rule) -> list[Finding]:
    found: list[Finding] = []
    if not MIN_FREQUENCY <= rule.frequency <= MAX_FREQUENCY:
        found.append(error(("frequency",), "frequency must be between 1m and 12h (as in Azure)"))
    if rule.window < rule.frequency:
        found.append(
            error(
                ("window",),
                f"window {format_duration(rule.window)} is shorter than frequency "
                f"{format_duration(rule.frequency)}: rows between evaluations would never be seen",
            )
        )
    elif not rule.auto_resolve and rule.window > rule.frequency:
        found.append(
            warning(
                ("window",),
                "a fire-every-time rule sees each row in several evaluations and notifies "
                "each time; make window equal to frequency",
            )
        )
    return found


def _failing_periods(rule: Rule) -> list[Finding]:
    periods = rule.failing_periods
    if periods.min_failing > periods.evaluations:
        return [
            error(
                ("failing_periods", "min_failing"),
                f"min_failing {periods.min_failing} is more than evaluations "
                f"{periods.evaluations}: the rule could never fire",
            )
        ]
    return []


def _dimensions(rule: Rule) -> list[Finding]:
    found: list[Finding] = []
    if len(rule.dimensions) > MAX_DIMENSIONS:
        found.append(error(("dimensions",), f"at most {MAX_DIMENSIONS} dimensions (as in Azure)"))
    seen: set[str] = set()
    for index, name in enumerate(rule.dimensions):
        if name in seen:
            found.append(error(("dimensions", index), f"dimension {name!r} is listed twice"))
        if name == rule.measure.column:
            found.append(error(("dimensions", index), f"{name!r} is both measure and dimension"))
        seen.add(name)
    return found


def _renotify(rule: Rule) -> list[Finding]:
    renotify = rule.renotify
    if renotify is None:
        return []
    found: list[Finding] = []
    if renotify.interval < rule.frequency:
        found.append(
            error(
                ("renotify", "interval"),
                "renotify interval is shorter than frequency: reminders can only come "
                "with an evaluation",
            )
        )
    if renotify.max_interval is not None and renotify.max_interval < renotify.interval:
        found.append(error(("renotify", "max_interval"), "max_interval is shorter than interval"))
    if renotify.max_interval is not None and renotify.backoff == 1:
        found.append(
            warning(("renotify", "max_interval"), "max_interval has no effect without backoff")
        )
    return found


def _threshold(rule: Rule) -> list[Finding]:
    """A row count is a whole number from 0: some conditions can never, or always, hold."""
    if rule.measure.aggregation != "count":
        return []
    low, high = _count_condition_at(rule, 0), _count_condition_at(rule, 10**12)
    possible = low or high or _holds_for_some_count(rule)
    if not possible:
        return [error(("threshold",), "a row count can never meet this condition")]
    if low and high and rule.operator not in ("==",) and _holds_for_every_count(rule):
        return [warning(("threshold",), "a row count always meets this condition: it always fires")]
    return []


def _count_condition_at(rule: Rule, count: int) -> bool:
    return compare(float(count), rule.operator, rule.threshold)


def _holds_for_some_count(rule: Rule) -> bool:
    threshold = rule.threshold
    candidates = {max(0, int(threshold) + delta) for delta in (-1, 0, 1)}
    return any(_count_condition_at(rule, count) for count in candidates)


def _holds_for_every_count(rule: Rule) -> bool:
    candidates = {0, 1, *(max(0, int(rule.threshold) + delta) for delta in (-1, 0, 1))}
    return all(_count_condition_at(rule, count) for count in candidates)


def _category(rule: Rule) -> list[Finding]:
    if rule.category in STANDARD_CATEGORIES:
        return []
    near = {c.lower(): c for c in STANDARD_CATEGORIES}.get(rule.category.lower())
    near = near or next(
        iter(difflib.get_close_matches(rule.category, STANDARD_CATEGORIES, 1)), None
    )
    if near is None:
        return []
    return [warning(("category",), f"custom category {rule.category!r}; did you mean {near!r}?")]
