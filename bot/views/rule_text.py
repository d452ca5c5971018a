"""What a rule measures and when it fires, in words: one place for every view and answer. Pure."""

from __future__ import annotations

from bot import messages
from bot.alerts.rule_model import Rule
from bot.views.text import number


def measure_text(rule: Rule) -> str:
    """`Rows`, `Sum of Failures`, `Average DurationMs`."""
    template = messages.AGGREGATION_TEXT[rule.measure.aggregation]
    return template.format(column=rule.measure.column).capitalize()


def operator_text(rule: Rule) -> str:
    """`>`, `≥`, `≠` ..."""
    return messages.OPERATOR_TEXT[rule.operator]


def threshold_text(rule: Rule) -> str:
    """`> 10`, `≥ 0.5`."""
    return f"{operator_text(rule)} {number(rule.threshold)}"


def condition(rule: Rule) -> str:
    """`rows > 10`, `sum of Failures ≥ 5 in 2 of 3 evaluations`."""
    measure = messages.AGGREGATION_TEXT[rule.measure.aggregation].format(column=rule.measure.column)
    text = f"{measure} {operator_text(rule)} {rule.threshold:g}"
    periods = rule.failing_periods
    if periods.evaluations > 1:
        text += f" in {periods.min_failing} of {periods.evaluations} evaluations"
    return text
