"""User-facing text that is not in a card template: short answers and labels built in code.

Card wording lives in cards/*.json; what is composed in Python (a refusal, a count,
a severity name) is here, so all of it can be read, reviewed and changed in one place.
Imports nothing else of ours.
"""

from __future__ import annotations

from typing import Final

#: Azure Monitor's severity names, 0 (most severe) to 4.
SEVERITY_LABELS: Final = ("Critical", "Error", "Warning", "Informational", "Verbose")

#: How a rule's comparison reads on a card: "alerts when > 5".
OPERATOR_TEXT: Final = {">": ">", ">=": "≥", "<": "<", "<=": "≤", "==": "=", "!=": "≠"}

AGGREGATION_TEXT: Final = {
    "count": "rows",
    "sum": "sum of {column}",
    "avg": "average {column}",
    "min": "minimum {column}",
    "max": "maximum {column}",
}

#: Verbs of the actions an admin may be refused, as they read in a sentence.
ACTION_TEXT: Final = {
    "ack": "acknowledge alerts",
    "snooze": "snooze alerts",
    "unsnooze": "end snoozes",
    "resolve": "resolve alerts",
    "subscribe": "change subscriptions",
    "unsubscribe": "change subscriptions",
    "run": "run rules",
}


def refused(action: str) -> str:
    """A non-admin pressed a button or typed a command that changes something."""
    what = ACTION_TEXT.get(action, "do that")
    return f"Only alert admins can {what}. Nothing was changed."


def other_tenant() -> str:
    return "This bot only answers people from its own organization."


def alert_not_found(alert_id: int) -> str:
    return f"There is no alert {alert_id}. Type `alerts all` to see the alert numbers."


def alert_not_open(alert_id: int) -> str:
    return f"Alert {alert_id} is already resolved. Nothing was changed."


def rule_not_found(rule_id: str) -> str:
    return f"There is no rule `{rule_id}`. Type `rules` to see the rule ids."


def already_acknowledged(alert_id: int, by: str) -> str:
    return f"Alert {alert_id} was already acknowledged by {by}."


def stale_card(alert_id: int) -> str:
    return f"Alert {alert_id} changed since this card was shown; here is its current state."


def bad_duration(text: str) -> str:
    return f"`{text}` is not a duration. Try 1h, 4h, 24h or 7d."


def unknown_command(text: str) -> str:
    return f"I don't know `{text}`. Here is what I can do:"


def internal_error() -> str:
    return "Something went wrong on my side and nothing was changed. Please try again in a minute."


def workspace_unavailable() -> str:
    return "Log Analytics did not answer in time. Please try again in a few minutes."


def counted(count: int, noun: str) -> str:
    """`1 open alert`, `3 open alerts`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def failures_in_a_row(count: int) -> str:
    return "Failed once." if count == 1 else f"Failed {count} times in a row."


def more_rows(count: int) -> str:
    return f"…and {count} more row{'' if count == 1 else 's'}"


def more_items(count: int, noun: str) -> str:
    return f"…and {count} more {noun}{'' if count == 1 else 's'}"


def hidden_columns(names: list[str]) -> str:
    shown = ", ".join(names[:8]) + (", …" if len(names) > 8 else "")
    return f"Not shown: {shown}"


def severity_code(level: int) -> str:
    return f"Sev{level}"


def severity_floor(level: int) -> str:
    """A subscription's minimum severity, as people read it."""
    if level >= 4:
        return "all severities"
    return f"Sev{level} ({SEVERITY_LABELS[level]}) and more severe"
