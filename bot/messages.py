"""User-facing text that is not in a card template: short answers and labels built in code.

Card wording lives in the card templates (bot/channels/teams/cards/templates/); what is
composed in Python (a refusal, a count, a severity name) is here, so all of it can be
read, reviewed and changed in one place.
Imports nothing else of ours.
"""

from __future__ import annotations

from datetime import timedelta
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


def unknown_command(text: str, suggestion: str | None = None) -> str:
    maybe = did_you_mean([suggestion]) if suggestion else ""
    return f"I didn't understand `{text}`.{maybe} Here is what I can do:"


def internal_error() -> str:
    return "Something went wrong on my side and nothing was changed. Please try again in a minute."


def maybe_repeated() -> str:
    """Above a card posted again after the answer to an earlier post of it was lost."""
    return (
        "This may repeat a card posted just before: Teams did not confirm that post, "
        "so it is sent again."
    )


def workspace_unavailable() -> str:
    return "Log Analytics did not answer in time. Please try again in a few minutes."


# --- Chat commands (bot.commands) ------------------------------------------------------


def did_you_mean(names: list[str]) -> str:
    """Appended to a problem: ` Did you mean `snooze`?`, or nothing."""
    if not names:
        return ""
    return " Did you mean " + " or ".join(f"`{name}`" for name in names) + "?"


def bad_arguments(problem: str, usage: str) -> str:
    return f"{problem} Usage: `{usage}`"


def missing_argument(label: str) -> str:
    return f"Something is missing: the {label}."


def extra_words(text: str) -> str:
    return f"I did not expect `{text}` there."


def not_an_alert_id(text: str) -> str:
    return f"`{text}` is not an alert number (like 42 or #42)."


def duration_out_of_range(text: str, minimum: timedelta, maximum: timedelta) -> str:
    return f"`{text}` is out of range: from {_span(minimum)} to {_span(maximum)}."


def bad_severity(text: str) -> str:
    return f"`{text}` is not a severity. Use 0 (critical) to 4 (verbose), or Sev0 to Sev4."


def bad_choice(text: str, choices: list[str]) -> str:
    return f"`{text}` is not one of: {', '.join(choices)}."


def ambiguous(text: str, names: list[str]) -> str:
    shown = ", ".join(f"`{name}`" for name in names[:5]) + (", …" if len(names) > 5 else "")
    return f"`{text}` could mean {shown}. Type more of it."


def unknown_target(text: str) -> str:
    return f"`{text}` is not a category or a rule id. Type `rules` to see both."


def conversation_unknown() -> str:
    return "I can't post here yet. Remove and add me to this conversation again, then retry."


def subscribed(target: str, floor: int) -> str:
    return f"This conversation now hears about {target}: {severity_floor(floor)}."


def unsubscribed(target: str) -> str:
    return f"This conversation no longer hears about {target}."


def not_subscribed(target: str) -> str:
    return f"This conversation is not subscribed to {target}. Nothing was changed."


def not_snoozed(alert_id: int) -> str:
    return f"Alert {alert_id} is not snoozed. Nothing was changed."


def action_not_applied(alert_id: int) -> str:
    return f"Alert {alert_id} changed just now and nothing was done; here is its current state."


_DONE: Final = {
    "ack": "acknowledged",
    "snooze": "snoozed",
    "unsnooze": "no longer snoozed",
    "resolve": "resolved",
}


def alert_action_done(verb: str, alert_id: int) -> str:
    return f"Alert {alert_id} {_DONE.get(verb, 'updated')}."


def bad_button() -> str:
    return "That button sent something I can't read. Nothing was changed."


def unknown_button() -> str:
    return "That button no longer does anything. Type `alerts` for the current alerts."


def open_alert_ids(alert_ids: list[int]) -> str:
    numbers = ", ".join(str(alert_id) for alert_id in alert_ids)
    return f"Open alert{'' if len(alert_ids) == 1 else 's'}: {numbers}."


def rule_disabled(rule_id: str) -> str:
    return f"Rule `{rule_id}` is disabled. Enable it in its rule file to run it."


def run_failed(rule_id: str, error: str) -> str:
    return f"Rule `{rule_id}` could not be evaluated: {error}"


def run_ok(rule_id: str, measured: str, condition: str, window: str) -> str:
    """`OK: value vs threshold`, for a rule that did not fire."""
    return f"OK: `{rule_id}` measured {measured} in the last {window}; alerts when {condition}."


def resolved_ids(alert_ids: list[int]) -> str:
    """Appended to `run_ok`: the alerts this evaluation resolved, or nothing."""
    if not alert_ids:
        return ""
    numbers = ", ".join(str(alert_id) for alert_id in alert_ids)
    return f" Resolved: alert{'' if len(alert_ids) == 1 else 's'} {numbers}."


def run_firing(rule_id: str, *, open_count: int, new: int) -> str:
    if open_count == 1:
        return f"Rule `{rule_id}` {'fired' if new else 'is still firing'}:"
    return f"Rule `{rule_id}` is firing: {counted(open_count, 'open alert')} ({new} new)."


def _span(duration: timedelta) -> str:
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if duration.total_seconds() % size == 0:
            amount = int(duration.total_seconds() // size)
            return counted(amount, unit)
    return counted(int(duration.total_seconds()), "second")


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


# --- Questions asked in plain language (bot.ask) ------------------------------------


def not_a_time_range(text: str) -> str:
    return f"`{text}` is not a time range I read. Try `last 24h`, `past 7 days` or `since Monday`."


def last_span(amount: float, unit: str) -> str:
    """`in the last hour`, `in the last 24 hours`."""
    if amount == 1:
        return f"in the last {unit}"
    return f"in the last {amount:g} {unit}s"


def since(moment: str) -> str:
    return f"since {moment}"


def on_day(weekday: str) -> str:
    return f"on {weekday.capitalize()}"


def named_day(phrase: str) -> str:
    """`yesterday`, `today`, `this week`: said as typed."""
    return phrase


def window_capped(label: str, days: int) -> str:
    return f"{label} (searches are limited to {days} days)"


def ask_not_understood(text: str, *, close: bool) -> str:
    """Nothing fits; `close` when some questions come near enough to offer."""
    sentence = f"I can't match “{text}” to a question I know how to answer."
    return f"{sentence} These come closest:" if close else sentence


def ask_nothing_close() -> str:
    return "Type `what can you do` to see the questions I answer."


def ask_which_command() -> str:
    return "That could mean more than one thing. Which did you mean?"


def ask_which_value(description: str) -> str:
    return f"Which {description.removeprefix('the ')}?"


def ask_needs_value(description: str, example: str) -> str:
    return f"Tell me {description} too, for example: {example}"


def ask_unknown_name(description: str, name: str) -> str:
    return f"I found no {description.removeprefix('the ')} called “{name}”. Which one?"


def ask_stale_choice() -> str:
    return "That button no longer fits a question I know. Please ask again."


def ask_searched(title: str, window: str, values: str) -> str:
    """What an empty answer searched: `Provisioning failures in the last 24 hours (job: X)`."""
    return f"Searched: {title} {window}" + (f" ({values})" if values else "")


def ask_total(shown: int, total: int) -> str:
    if shown >= total:
        return counted(total, "row")
    return f"first {shown} of {total} rows"


def ask_help_intro() -> str:
    return "Ask me in your own words; here is what I can look up:"


def ask_fact_window() -> str:
    return "Time range"


def ask_fact_name(description: str) -> str:
    """`the provisioning job` -> `Provisioning job`."""
    bare = description.removeprefix("the ")
    return bare[:1].upper() + bare[1:]


def notice_rule_not_run(rule_id: str) -> str:
    return (
        f"Rule `{rule_id}` tells the affected people directly (notices); it runs on its "
        "schedule when notices are on, not on request."
    )


def notice_changed() -> str:
    """ "This was me" pressed on a notice that more events joined after it was shown."""
    return (
        "More changes came in since this was shown; please look again. The message now "
        "shows all of them: answer again when you have checked them."
    )


def digest_no_governance_changes() -> str:
    return (
        "Quiet: no access review deleted, connected organization added, cross-tenant or "
        "PIM setting changed, or workflow run failed."
    )


def digest_no_open_alerts() -> str:
    return "No open alerts."


def digest_more_change_kinds(count: int) -> str:
    return f"…and {count} more kind{'' if count == 1 else 's'} of change"
