"""Lists, one rule, help, a question's choices and query answers in Block Kit. Pure."""

from __future__ import annotations

import json
from typing import Any, Final

from bot.channels.slack.alert_blocks import severity_text, table_blocks
from bot.channels.slack.message import SlackMessage
from bot.channels.slack.text import (
    BUTTON_TEXT,
    BUTTON_VALUE,
    FIELD_TEXT,
    MAX_FIELDS,
    clip,
    code,
    escape,
    mrkdwn,
    plain,
    when,
)
from bot.models import AlertStatus
from bot.views.answer import AnswerView
from bot.views.choices import ChoicesView
from bot.views.model import (
    AlertListView,
    AlertRow,
    HelpCardView,
    RuleDetailView,
    RuleListView,
    SubscriptionListView,
)
from bot.views.query_views import QueryResultView, ResultCardView

#: Rows in one section's text; a section holds 3000 characters.
_ROWS_PER_SECTION: Final = 10


def _sections(lines: list[str]) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": mrkdwn("\n".join(lines[i : i + _ROWS_PER_SECTION]))}
        for i in range(0, len(lines), _ROWS_PER_SECTION)
    ]


def _note(text: str) -> list[dict[str, Any]]:
    return [{"type": "context", "elements": [plain(text)]}] if text else []


def alert_list_message(view: AlertListView) -> SlackMessage:
    title = "Open alerts" if view.open_only else "Alerts"
    lines = [_alert_line(row, view) for row in view.rows]
    blocks = [{"type": "section", "text": mrkdwn(f"*{title}* ({view.total})")}]
    blocks += _sections(lines) if lines else _note("No alerts.")
    blocks += _note(view.more_note)
    return SlackMessage(text=f"{title}: {view.total}", blocks=blocks)


def _alert_line(row: AlertRow, view: AlertListView) -> str:
    at = when(row.at, now=view.as_of)
    if row.state is AlertStatus.RESOLVED:
        status = f"resolved {at}"
    elif row.state is AlertStatus.SNOOZED:
        status = f"snoozed until {at}"
    elif row.state is AlertStatus.ACKNOWLEDGED:
        status = f"acknowledged by {escape(row.actor or '')}"
    else:
        status = f"firing since {at}"
    return f"*{row.alert_id}* {severity_text(row.severity)} · {escape(row.title)} · {status}"


def subscription_list_message(view: SubscriptionListView) -> SlackMessage:
    lines = [
        f"{escape(r.kind)} *{escape(r.target)}* · {escape(r.severities)} · "
        f"by {escape(r.created_by)} {when(r.created_at, now=view.as_of)}"
        for r in view.rows
    ]
    blocks = [{"type": "section", "text": mrkdwn("*Subscriptions of this conversation*")}]
    blocks += _sections(lines) if lines else _note("None yet: try `subscribe all`.")
    return SlackMessage(text=f"{len(view.rows)} subscriptions", blocks=blocks)


def rule_list_message(view: RuleListView) -> SlackMessage:
    lines = [
        f"`{escape(r.rule_id)}` {severity_text(r.severity)} · {escape(r.title)} · "
        f"{escape(r.category)} · {escape(r.schedule)}{'' if r.enabled else ' · disabled'}"
        for r in view.rows
    ]
    blocks = [{"type": "section", "text": mrkdwn("*Alert rules*")}]
    blocks += _sections(lines) if lines else _note("No rules loaded.")
    blocks += _note(view.more_note)
    return SlackMessage(text=f"{len(view.rows)} alert rules", blocks=blocks)


def rule_detail_message(view: RuleDetailView) -> SlackMessage:
    last = view.last
    if last.never or last.evaluated_at is None:
        ran = "not evaluated yet"
    elif last.ok:
        ran = f"last run {when(last.evaluated_at, now=view.as_of)}: ok · {escape(last.open_alerts)}"
    else:
        ran = (
            f"last run {when(last.evaluated_at, now=view.as_of)} failed: {escape(last.error or '')}"
        )
    fields = [
        mrkdwn(f"*Condition*\n{escape(view.condition)}", FIELD_TEXT),
        mrkdwn(f"*Schedule*\n{escape(view.schedule)}", FIELD_TEXT),
        mrkdwn(f"*Dimensions*\n{escape(view.dimensions)}", FIELD_TEXT),
        mrkdwn(f"*Severity*\n{severity_text(view.severity)}", FIELD_TEXT),
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(view.title, 150)},
        {
            "type": "context",
            "elements": [
                mrkdwn(
                    f"`{escape(view.rule_id)}` · {escape(view.category)}"
                    + ("" if view.enabled else " · *disabled*")
                )
            ],
        },
        {"type": "section", "text": mrkdwn(escape(view.description))},
        {"type": "section", "fields": fields},
        {"type": "section", "text": mrkdwn(ran)},
        {"type": "section", "text": mrkdwn(code(view.query_lines))},
    ]
    if view.remediation:
        blocks.append(
            {"type": "section", "text": mrkdwn(f"*What to do*\n{escape(view.remediation)}")}
        )
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "rule.run",
                    "text": plain("Run now", BUTTON_TEXT),
                    "value": clip(json.dumps(view.data), BUTTON_VALUE),
                }
            ],
        }
    )
    return SlackMessage(text=f"Rule {view.rule_id}: {view.title}", blocks=blocks)


def help_message(view: HelpCardView) -> SlackMessage:
    lines = [
        f"`{escape(c.usage)}`{' (admins)' if c.admin_only else ''}: {escape(c.description)}"
        for c in view.commands
    ]
    blocks = [*_note(view.intro or ""), {"type": "section", "text": mrkdwn("*What I can do*")}]
    blocks += _sections(lines)
    return SlackMessage(
        text="What I can do: " + ", ".join(c.usage for c in view.commands), blocks=blocks
    )


def choices_message(view: ChoicesView) -> SlackMessage:
    blocks: list[dict[str, Any]] = [{"type": "section", "text": plain(view.prompt)}]
    if view.question:
        blocks.append({"type": "context", "elements": [plain(view.question)]})
    if view.buttons:
        buttons = [
            {
                "type": "button",
                "action_id": f"{b.verb}:{i}",
                "text": plain(b.label, BUTTON_TEXT),
                "value": clip(json.dumps(b.data), BUTTON_VALUE),
            }
            for i, b in enumerate(view.buttons)
        ]
        blocks.append({"type": "actions", "elements": buttons})
    blocks += _note(view.note or "")
    return SlackMessage(text=view.prompt, blocks=blocks)


def result_message(view: ResultCardView) -> SlackMessage:
    """A query result or a question's answer: summary, facts, first rows, the KQL."""
    if isinstance(view, AnswerView):
        head: list[dict[str, Any]] = [
            {"type": "section", "text": mrkdwn(f"*{escape(view.title)}*\n{escape(view.summary)}")}
        ]
        if view.question:
            head.append({"type": "context", "elements": [plain(view.question)]})
        if view.facts:
            fields = [
                mrkdwn(f"*{escape(f.name)}*\n{escape(f.value)}", FIELD_TEXT)
                for f in view.facts[:MAX_FIELDS]
            ]
            head.append({"type": "section", "fields": fields})
        head += _note(view.stats)
        text, empty_text = f"{view.title}: {view.summary}", view.empty_text
        error = view.partial_error
    else:
        assert isinstance(view, QueryResultView)
        head = [
            {"type": "section", "text": mrkdwn(f"*{escape(view.title)}*\n{escape(view.summary)}")}
        ]
        text, empty_text, error = f"{view.title}: {view.summary}", None, view.partial_error
    blocks = head
    if error:
        blocks += _note(f"Partial result: {error}")
    if view.empty:
        blocks += _note(empty_text or "No rows.")
    else:
        chart = view.chart
        blocks += table_blocks(chart.table if chart is not None else view.table)
        if chart is not None:
            blocks += _note(f"{chart.title}, as a table")
    blocks.append({"type": "section", "text": mrkdwn(code(view.query_lines))})
    return SlackMessage(text=text, blocks=blocks)
