"""The alert message and its thread replies in Block Kit. Pure.

Header (severity and title), the status line, the finding (value vs threshold, the
dimensions), a compact evidence table, remediation and links, and the buttons:
Acknowledge, Snooze (a select: 1 h, 4 h, 24 h, 1 week), End snooze, Resolve (with a
confirmation), Show query (answered in the thread), Open in Log Analytics (a URL button).
Each button's value is the JSON data the view gives it (alert id and version).
"""

from __future__ import annotations

import json
from typing import Any, Final

from bot.channels.slack.message import SlackMessage
from bot.channels.slack.text import (
    BUTTON_TEXT,
    BUTTON_VALUE,
    FIELD_TEXT,
    HEADER_TEXT,
    MAX_FIELDS,
    OPTION_TEXT,
    OPTION_VALUE,
    URL_LENGTH,
    clip,
    escape,
    mrkdwn,
    plain,
    plain_when,
    when,
)
from bot.models import AlertStatus
from bot.views.model import AlertCardView, Button, ReplyView, Severity, Table

#: The verb of the "Show query" button (answered by the Slack edge itself).
SHOW_QUERY: Final = "alert.query"
_MARKS: Final = ("🔴", "🔴", "🟠", "🔵", "⚪")
_REPLY_MARKS: Final = {
    "renotify": "🔴",
    "resolved": "✅",
    "snooze_expired": "⏰",
    "evaluation_error": "⚠️",
    "evaluation_recovered": "✅",
}
_TABLE_ROWS: Final = 10
_TABLE_COLUMNS: Final = 6


def severity_text(severity: Severity) -> str:
    return f"{_MARKS[severity.level]} {severity.code} · {severity.label}"


def alert_message(view: AlertCardView) -> SlackMessage:
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": plain(f"{_MARKS[view.severity.level]} {view.title}", HEADER_TEXT),
        },
        {
            "type": "context",
            "elements": [
                mrkdwn(f"*{severity_text(view.severity)}*"),
                mrkdwn(
                    f"{escape(view.category)} · alert {view.alert_id} · `{escape(view.rule_id)}`"
                ),
            ],
        },
        {"type": "section", "text": mrkdwn(status_line(view))},
        {"type": "section", "fields": _finding_fields(view)},
    ]
    if view.evidence is not None:
        blocks += table_blocks(view.evidence)
    if view.remediation:
        blocks.append(
            {"type": "section", "text": mrkdwn(f"*What to do*\n{escape(view.remediation)}")}
        )
    if view.links:
        links = " · ".join(f"<{link.url}|{escape(link.title)}>" for link in view.links[:10])
        blocks.append({"type": "context", "elements": [mrkdwn(links)]})
    blocks.append(
        {"type": "actions", "block_id": f"alert:{view.alert_id}", "elements": _actions(view)}
    )
    return SlackMessage(text=fallback(view), blocks=blocks)


def fallback(view: AlertCardView) -> str:
    status = view.status
    state = status.state.value
    return (
        f"{view.severity.code} {view.title} (alert {view.alert_id}): {state}, "
        f"{view.finding.measure} {view.finding.value} {view.finding.operator} "
        f"{view.finding.threshold}, since {plain_when(status.since)}"
    )


def status_line(view: AlertCardView) -> str:
    status, now = view.status, view.as_of
    since = when(status.since, now=now)
    actor = escape(status.actor or "someone")
    at = when(status.at, now=now) if status.at else ""
    if status.state is AlertStatus.ACKNOWLEDGED:
        line = f":eyes: *Acknowledged* by {actor} {at} · firing since {since}"
    elif status.state is AlertStatus.SNOOZED:
        until = when(status.until, now=now) if status.until else "later"
        line = f":zzz: *Snoozed* until {until} by {actor} · firing since {since}"
        if status.acknowledged_by:
            line += f" · acknowledged by {escape(status.acknowledged_by)}"
    elif status.state is AlertStatus.RESOLVED:
        line = f":white_check_mark: *Resolved* {at} by {actor} · fired {since}"
    else:
        line = f":rotating_light: *Firing* since {since}"
    if status.note:
        line += f"\n> {escape(status.note)}"
    return line


def _finding_fields(view: AlertCardView) -> list[dict[str, Any]]:
    finding, window = view.finding, view.window
    fields = [
        mrkdwn(
            f"*{escape(finding.measure)}*\n{escape(finding.value)} "
            f"(alerts when {escape(finding.operator)} {escape(finding.threshold)})",
            FIELD_TEXT,
        ),
        mrkdwn(f"*Window*\nlast {window.length}, checked every {window.frequency}", FIELD_TEXT),
    ]
    for fact in finding.dimensions[: MAX_FIELDS - len(fields)]:
        fields.append(mrkdwn(f"*{escape(fact.name)}*\n{escape(fact.value)}", FIELD_TEXT))
    return fields


def table_blocks(table: Table) -> list[dict[str, Any]]:
    """A `table` block (header row first), shared values and what was left out as context."""
    columns = table.columns[:_TABLE_COLUMNS]
    blocks: list[dict[str, Any]] = []
    if table.common:
        shared = " · ".join(f"{escape(f.name)}: {escape(f.value)}" for f in table.common)
        blocks.append({"type": "context", "elements": [mrkdwn(shared)]})
    rows = [[_cell(c) for c in columns]]
    rows += [[_cell(c) for c in row.cells[: len(columns)]] for row in table.rows[:_TABLE_ROWS]]
    blocks.append({"type": "table", "rows": rows})
    notes = [n for n in (table.more_note, table.hidden_note) if n]
    if len(table.rows) > _TABLE_ROWS and not table.more_note:
        notes.insert(0, f"{len(table.rows) - _TABLE_ROWS} more rows")
    if notes:
        blocks.append({"type": "context", "elements": [plain(" · ".join(notes))]})
    return blocks


def _cell(text: str) -> dict[str, Any]:
    return {"type": "raw_text", "text": clip(text or " ", 200)}


def _actions(view: AlertCardView) -> list[dict[str, Any]]:
    elements = [_element(button) for button in view.buttons]
    data = view.buttons[0].data if view.buttons else {"alertId": view.alert_id}
    elements.append(
        {
            "type": "button",
            "action_id": SHOW_QUERY,
            "text": plain("Show query", BUTTON_TEXT),
            "value": json.dumps(data),
        }
    )
    if view.portal_url and len(view.portal_url) <= URL_LENGTH:
        elements.append(
            {
                "type": "button",
                "action_id": "alert.portal",
                "text": plain("Open in Log Analytics", BUTTON_TEXT),
                "url": view.portal_url,
            }
        )
    return elements


def _element(button: Button) -> dict[str, Any]:
    if button.options and button.option_field:
        options = [
            {
                "text": plain(option.label, OPTION_TEXT),
                "value": clip(
                    json.dumps({**button.data, button.option_field: option.value}), OPTION_VALUE
                ),
            }
            for option in button.options
        ]
        return {
            "type": "static_select",
            "action_id": button.verb,
            "placeholder": plain(button.label, OPTION_TEXT),
            "options": options,
        }
    element: dict[str, Any] = {
        "type": "button",
        "action_id": button.verb,
        "text": plain(button.label, BUTTON_TEXT),
        "value": clip(json.dumps(button.data), BUTTON_VALUE),
    }
    if button.style == "primary":
        element["style"] = "primary"
    if button.verb == "alert.resolve":
        element["style"] = "danger"
        element["confirm"] = {
            "title": plain("Resolve this alert?", 100),
            "text": plain("It closes for everyone; it opens again if the condition returns.", 300),
            "confirm": plain("Resolve", 30),
            "deny": plain("Cancel", 30),
        }
    return element


# --- Thread replies ------------------------------------------------------------------


def reply_message(view: ReplyView) -> SlackMessage:
    mark = _REPLY_MARKS[view.kind]
    at = when(view.at, now=view.as_of)
    subject = (
        f"alert {view.alert_id}" if view.alert_id is not None else f"rule `{escape(view.rule_id)}`"
    )
    if view.kind == "renotify":
        line = f"{mark} *Still firing* {at}: {_value(view)}"
    elif view.kind == "resolved":
        line = f"{mark} *Resolved* {at}: {_value(view)}"
    elif view.kind == "snooze_expired":
        line = f"{mark} *Snooze ended* {at}: {subject} is firing again. {_value(view)}"
    elif view.kind == "evaluation_recovered":
        line = f"{mark} *The rule was evaluated again* {at}: its alerts are up to date."
    else:
        line = f"{mark} *The rule's query failed* {at}"
    blocks: list[dict[str, Any]] = [{"type": "section", "text": mrkdwn(line)}]
    if view.error:
        detail = f"{view.failures} " if view.failures else ""
        blocks.append({"type": "section", "text": plain(f"{detail}{view.error}")})
        hints = "\n".join(f"• {escape(h)}" for h in view.hints)
        if hints:
            blocks.append({"type": "context", "elements": [mrkdwn(hints)]})
    text = f"{view.title}: {view.kind.replace('_', ' ')} ({subject.replace('`', '')})"
    return SlackMessage(text=text, blocks=blocks)


def _value(view: ReplyView) -> str:
    if view.value is None:
        return ""
    measure, threshold = escape(view.measure or ""), escape(view.threshold or "")
    return f"{measure} now {escape(view.value)} (alerts when {threshold})"
