"""The chat commands as people see them: help card and Teams app manifest read this.

Until the command registry exists it is the single list of commands; the registry
will own it then (its entries give the same CommandHelp), and these stay its words.
Teams shows at most 12 commands per scope in the compose box.
"""

from __future__ import annotations

from typing import Final

from bot.cards.views import CommandHelp

COMMANDS: Final[tuple[CommandHelp, ...]] = (
    CommandHelp(
        name="help",
        usage="help",
        description="Show these commands with examples.",
        examples=("help",),
    ),
    CommandHelp(
        name="alerts",
        usage="alerts [open|all]",
        description="List open alerts (or all, with resolved ones), most severe first.",
        examples=("alerts", "alerts all"),
    ),
    CommandHelp(
        name="ack",
        usage="ack <id> [note]",
        description="Acknowledge an alert: you are on it; reminders stop.",
        examples=("ack 42", "ack 42 looking at the SCIM endpoint"),
        admin_only=True,
    ),
    CommandHelp(
        name="snooze",
        usage="snooze <id> <duration>",
        description="Silence an alert for a while (1h, 4h, 24h, 7d).",
        examples=("snooze 42 4h",),
        admin_only=True,
    ),
    CommandHelp(
        name="unsnooze",
        usage="unsnooze <id>",
        description="End an alert's snooze now.",
        examples=("unsnooze 42",),
        admin_only=True,
    ),
    CommandHelp(
        name="resolve",
        usage="resolve <id> [note]",
        description="Close an alert by hand; it opens again if the rule still matches.",
        examples=("resolve 42 fixed the mapping",),
        admin_only=True,
    ),
    CommandHelp(
        name="subscribe",
        usage="subscribe <category|rule id|all> [min severity]",
        description="Post alerts of a category, a rule or all rules in this conversation.",
        examples=("subscribe all", "subscribe Provisioning 2", "subscribe workflow-failed"),
        admin_only=True,
    ),
    CommandHelp(
        name="unsubscribe",
        usage="unsubscribe <category|rule id|all>",
        description="Stop posting those alerts here.",
        examples=("unsubscribe Provisioning",),
        admin_only=True,
    ),
    CommandHelp(
        name="subscriptions",
        usage="subscriptions",
        description="What this conversation hears about.",
        examples=("subscriptions",),
    ),
    CommandHelp(
        name="rules",
        usage="rules",
        description="The alert rules: category, severity and schedule.",
        examples=("rules",),
    ),
    CommandHelp(
        name="rule",
        usage="rule <id>",
        description="One rule: its KQL, schedule and last result.",
        examples=("rule provisioning-job-failure-spike",),
    ),
    CommandHelp(
        name="run",
        usage="run <rule id>",
        description="Evaluate a rule now and show the result here.",
        examples=("run workflow-failed",),
        admin_only=True,
    ),
)
