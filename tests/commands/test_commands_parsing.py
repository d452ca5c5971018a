"""Reading what people type: forgiving about case, spacing, punctuation and spelling. Pure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.commands.handlers import REGISTRY
from bot.commands.parsing import ALL, Target, human_duration
from bot.commands.registry import Empty, Invalid, Invocation, Unknown
from tests.support.chat import parse_context

CONTEXT = parse_context()
PIM = Target("category", "Privileged Identity Management")
PROVISIONING = Target("category", "Provisioning")


def invoked(text: str) -> tuple[str, dict[str, Any]]:
    parsed = REGISTRY.parse(text, CONTEXT)
    assert isinstance(parsed, Invocation), parsed
    return parsed.command.name, parsed.values


def problem(text: str) -> str:
    parsed = REGISTRY.parse(text, CONTEXT)
    assert isinstance(parsed, Invalid), parsed
    return parsed.problem


@pytest.mark.parametrize(
    ("text", "command", "values"),
    [
        # Case, spacing, trailing punctuation, `#` before ids, slash commands.
        ("ack 42", "ack", {"alert_id": 42, "note": None}),
        ("ACK   #42", "ack", {"alert_id": 42, "note": None}),
        ("  Ack 42.  ", "ack", {"alert_id": 42, "note": None}),
        ("/ack 42", "ack", {"alert_id": 42, "note": None}),
        ("ack alert 42", "ack", {"alert_id": 42, "note": None}),
        ("acknowledge #42, on it!", "ack", {"alert_id": 42, "note": "on it!"}),
        ("ack 42 Looking at SCIM", "ack", {"alert_id": 42, "note": "Looking at SCIM"}),
        ("resolve 7 fixed the mapping", "resolve", {"alert_id": 7, "note": "fixed the mapping"}),
        ("Unsnooze #7?", "unsnooze", {"alert_id": 7}),
        # Durations: short, spelled out, ISO 8601, with "for", with a note.
        ("snooze 42 4h", "snooze", {"alert_id": 42, "duration": timedelta(hours=4)}),
        ("snooze 42 4 hours", "snooze", {"alert_id": 42, "duration": timedelta(hours=4)}),
        ("snooze #42 1 week", "snooze", {"alert_id": 42, "duration": timedelta(weeks=1)}),
        ("snooze 42 P1D", "snooze", {"alert_id": 42, "duration": timedelta(days=1)}),
        ("snooze 42 pt30m", "snooze", {"alert_id": 42, "duration": timedelta(minutes=30)}),
        ("snooze 42 for an hour", "snooze", {"alert_id": 42, "duration": timedelta(hours=1)}),
        ("snooze 42 1h30m", "snooze", {"alert_id": 42, "duration": timedelta(minutes=90)}),
        ("mute 42 7d.", "snooze", {"alert_id": 42, "duration": timedelta(days=7)}),
        # Subscription targets: categories by name, common name or prefix; rules; all.
        ("subscribe all", "subscribe", {"target": ALL, "min_severity": None}),
        ("subscribe Everything", "subscribe", {"target": ALL, "min_severity": None}),
        ("subscribe pim", "subscribe", {"target": PIM, "min_severity": None}),
        ("subscribe PIM sev1", "subscribe", {"target": PIM, "min_severity": 1}),
        ("subscribe provisioning 2", "subscribe", {"target": PROVISIONING, "min_severity": 2}),
        ("subscribe Prov Sev2", "subscribe", {"target": PROVISIONING, "min_severity": 2}),
        ("subscribe provisioning sev 0", "subscribe", {"target": PROVISIONING, "min_severity": 0}),
        (
            "subscribe provisioning critical",
            "subscribe",
            {"target": PROVISIONING, "min_severity": 0},
        ),
        (
            "subscribe access reviews 3",
            "subscribe",
            {"target": Target("category", "Access Reviews"), "min_severity": 3},
        ),
        (
            "subscribe Access  Reviews",
            "subscribe",
            {"target": Target("category", "Access Reviews"), "min_severity": None},
        ),
        (
            "subscribe entitlement",
            "subscribe",
            {"target": Target("category", "Entitlement management"), "min_severity": None},
        ),
        (
            "subscribe lifecycle",
            "subscribe",
            {"target": Target("category", "Lifecycle workflows"), "min_severity": None},
        ),
        (
            "subscribe multitenant",
            "subscribe",
            {"target": Target("category", "Multitenant collaboration"), "min_severity": None},
        ),
        (
            "subscribe cross-tenant",
            "subscribe",
            {"target": Target("category", "Multitenant collaboration"), "min_severity": None},
        ),
        (
            "subscribe Privileged Identity Management 1",
            "subscribe",
            {"target": PIM, "min_severity": 1},
        ),
        (
            "subscribe Workflow-Failed",
            "subscribe",
            {"target": Target("rule", "workflow-failed"), "min_severity": None},
        ),
        ("unsubscribe PIM", "unsubscribe", {"target": PIM}),
        ("unsubscribe gone-rule", "unsubscribe", {"target": Target("unknown", "gone-rule")}),
        # Rules: any case, unambiguous prefix.
        ("rule Workflow-Failed", "rule", {"rule_id": "workflow-failed"}),
        ("rule pim-alert", "rule", {"rule_id": "pim-alert-disabled"}),
        ("run workflow-failed!", "run", {"rule_id": "workflow-failed"}),
        # Lists.
        ("alerts", "alerts", {"scope": None}),
        ("Alerts ALL", "alerts", {"scope": "all"}),
        ("alerts open", "alerts", {"scope": "open"}),
        ("subscriptions", "subscriptions", {}),
        ("subs", "subscriptions", {}),
        ("rules.", "rules", {}),
        ("Help", "help", {"topic": None}),
        ("help snooze", "help", {"topic": "snooze"}),
        ("?", "help", {"topic": None}),
    ],
)
def test_forgiving_text_reads_as_the_command(
    text: str, command: str, values: dict[str, Any]
) -> None:
    name, read = invoked(text)
    assert name == command
    assert {key: read[key] for key in values} == values


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("ack", "missing: the id"),
        ("ack forty-two", "`forty-two` is not an alert number"),
        ("snooze 42", "missing: the duration"),
        ("snooze 42 forever", "`forever` is not a duration"),
        ("snooze 42 3 months", "`3 months` is not a duration"),
        ("snooze 42 0m", "`0m` is not a duration"),
        ("snooze 42 90d", "`90d` is out of range: from 1 minute to 30 days"),
        # Longer than a timedelta can hold: still a polite range error, not an OverflowError.
        ("snooze 42 99999999999d", "`99999999999d` is out of range: from 1 minute to 30 days"),
        ("snooze 42 99999999999 weeks", "`99999999999 weeks` is out of range"),
        ("snooze 42 P99999999999D", "`P99999999999D` is out of range"),
        ("snooze 42 1h 99999999999d", "`1h 99999999999d` is out of range"),
        ("snooze 42 " + "9" * 400 + "d", "is out of range"),
        ("subscribe", "missing: the category|rule id|all"),
        ("subscribe acc", "`acc` could mean `Access Reviews`, `Account security`, `Entitlement"),
        ("subscribe provisoning", "Did you mean `provisioning`?"),
        ("subscribe provisioning 7", "`7` is not a severity"),
        ("subscribe provisioning sev9", "`sev9` is not a severity"),
        ("rule provisioning-job", "`provisioning-job` could mean"),
        ("rule workflow-faild", "There is no rule `workflow-faild`"),
        ("rule workflow-faild", "Did you mean `workflow-failed`?"),
        ("run", "missing: the rule id"),
        ("alerts yesterday", "`yesterday` is not one of: all, open"),
        ("rules please", "I did not expect `please` there"),
        ("unsnooze 42 now", "I did not expect `now` there"),
    ],
)
def test_arguments_that_do_not_fit_say_why(text: str, says: str) -> None:
    assert says in problem(text)


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [("snoze 42 4h", "snooze"), ("subscirbe all", "subscribe"), ("alert", "alerts")],
)
def test_a_misspelt_command_is_unknown_with_a_suggestion(text: str, suggestion: str) -> None:
    assert REGISTRY.parse(text, CONTEXT) == Unknown(text=text, suggestion=suggestion)


@pytest.mark.parametrize(
    "text",
    [
        "provisioning failures for job Workday last 24h",
        "who deleted an access review this week?",
        "show failures for Salesforce",
        "hi, how many provisioning errors today",
        "check the Workday job",
    ],
)
def test_questions_are_left_for_the_chat_query_feature(text: str) -> None:
    assert REGISTRY.parse(text, CONTEXT) == Unknown(text=text, suggestion=None)


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_nothing_but_the_mention_is_empty(text: str) -> None:
    assert REGISTRY.parse(text, CONTEXT) == Empty()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4h", timedelta(hours=4)),
        ("4 hours", timedelta(hours=4)),
        ("1 week", timedelta(weeks=1)),
        ("a day", timedelta(days=1)),
        ("90 min", timedelta(minutes=90)),
        ("1 hour and 30 minutes", timedelta(minutes=90)),
        ("1.5h", timedelta(minutes=90)),
        ("P1D", timedelta(days=1)),
        ("PT4H", timedelta(hours=4)),
        ("4", None),
        ("hours", None),
        ("4 parsecs", None),
        ("1 month", None),
    ],
)
def test_durations(text: str, expected: timedelta | None) -> None:
    assert human_duration(text) == expected
