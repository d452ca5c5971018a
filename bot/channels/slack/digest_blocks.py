"""The provisioning digest (and `health` for one job) in Block Kit. Pure.

One `table` block of the jobs (status, events, success rate and its change, failures,
disables/deletes, last event, top errors), "…and N more" as context, a line per paused,
deleted or quarantined job (since when, by whom), each job's top error codes with what
fixes them as text lines, failures per day as a table (the same numbers
the Teams chart draws), the open alerts by severity and the governance changes by kind as
text lines, and for one job its cycles.
"""

from __future__ import annotations

from typing import Any, Final

from bot.channels.slack.alert_blocks import severity_text, table_blocks
from bot.channels.slack.message import SlackMessage
from bot.channels.slack.text import escape, mrkdwn, plain, plain_when, when
from bot.models import AlertStatus
from bot.views.digest import DigestJob, DigestView, JobStatus
from bot.views.digest_sections import Governance, OpenAlerts
from bot.views.model import AlertRow, Row, Table

_STATUS: Final[dict[JobStatus, str]] = {
    "quarantined": "Quarantined",
    "failing": "Failing",
    "silent": "Silent",
    "paused": "Paused",
    "deleted": "Deleted",
    "degraded": "Lower success rate",
    "healthy": "Healthy",
}
_COLUMNS: Final = (
    "Job", "Status", "Events", "Success", "Change", "Failures", "Disables/deletes",
    "Last event", "Top errors",
)  # fmt: skip
#: Lines in one section's text (a section holds 3000 characters; a hint is at most 240).
_LINES_PER_SECTION: Final = 10


def digest_message(view: DigestView) -> SlackMessage:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": mrkdwn(f"*{escape(view.title)}*\n{escape(view.summary)}")},
        {"type": "context", "elements": [plain(view.period)]},
    ]
    if view.jobs:
        rows = tuple(Row(cells=_cells(job, view)) for job in view.jobs)
        blocks += table_blocks(Table(columns=_COLUMNS, rows=rows, more_note=view.more_note))
        blocks += _sections([line for job in view.jobs for line in _state_lines(job, view)])
        blocks += _sections([line for job in view.jobs for line in _error_lines(job)])
    if view.chart is not None:
        blocks += table_blocks(view.chart.table)
        blocks.append({"type": "context", "elements": [plain(f"{view.chart.title}, as a table")]})
    if view.open_alerts is not None:
        blocks += _open_alerts(view.open_alerts, view)
    if view.governance is not None:
        blocks += _governance(view.governance, view)
    if view.cycles is not None:
        blocks.append({"type": "section", "text": mrkdwn("*Cycles*")})
        blocks += table_blocks(view.cycles)
    return SlackMessage(text=f"{view.title}: {view.summary}", blocks=blocks)


def _cells(job: DigestJob, view: DigestView) -> tuple[str, ...]:
    rate = "–" if job.success_rate is None else f"{job.success_rate:.1f}%"
    change = "new" if job.rate_change is None else f"{job.rate_change:+.1f} pts"
    errors = ", ".join(f"{e.code} ×{e.count}" for e in job.top_errors) or "–"
    return (
        job.app,
        _STATUS[job.status],
        str(job.events),
        rate,
        change,
        str(job.failure),
        str(job.disables_deletes),
        "–" if job.last_event is None else plain_when(job.last_event),
        errors,
    )


def _state_lines(job: DigestJob, view: DigestView) -> list[str]:
    """`*Salesforce* paused since Mar 2 14:05 by alex@…` for a job held by a config change."""
    if job.state_since is None:
        return []
    by = f" by {escape(job.state_by)}" if job.state_by else ""
    since = when(job.state_since, now=view.as_of)
    return [f"*{escape(job.app)}* {_STATUS[job.status].lower()} since {since}{by}"]


def _error_lines(job: DigestJob) -> list[str]:
    """`*ServiceNow* Unauthorized ×25: update the secret token…` per top error code."""
    return [
        f"*{escape(job.app)}* `{escape(e.code)}` ×{e.count}"
        + (f": {escape(e.hint)}" if e.hint else "")
        for e in job.top_errors
    ]


def _sections(lines: list[str]) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": mrkdwn("\n".join(lines[i : i + _LINES_PER_SECTION]))}
        for i in range(0, len(lines), _LINES_PER_SECTION)
    ]


def _note(text: str) -> list[dict[str, Any]]:
    return [{"type": "context", "elements": [plain(text)]}] if text else []


def _open_alerts(section: OpenAlerts, view: DigestView) -> list[dict[str, Any]]:
    blocks = [{"type": "section", "text": mrkdwn(f"*Open alerts* ({section.total})")}]
    blocks += _note(section.note)
    for group in section.groups:
        lines = [f"{severity_text(group.severity)}: {group.count} open"]
        lines += [_alert_line(row, view) for row in group.alerts]
        if group.more_note:
            lines.append(f"_{escape(group.more_note)}_")
        blocks.append({"type": "section", "text": mrkdwn("\n".join(lines))})
    return blocks


def _alert_line(row: AlertRow, view: DigestView) -> str:
    if row.state is AlertStatus.SNOOZED:
        status = f"snoozed until {when(row.at, now=view.as_of)}"
    elif row.state is AlertStatus.ACKNOWLEDGED:
        status = f"acknowledged by {escape(row.actor or '')}"
    else:
        status = f"firing since {when(row.at, now=view.as_of)}"
    return f"• *{row.alert_id}* {escape(row.title)} · {status}"


def _governance(section: Governance, view: DigestView) -> list[dict[str, Any]]:
    blocks = [{"type": "section", "text": mrkdwn("*Governance changes*")}]
    blocks += _note(section.note)
    lines = [
        f"• *{escape(c.change)}*: {c.count} · latest {escape(c.last_target or '–')} "
        f"by {escape(c.last_by or '–')} {when(c.last_at, now=view.as_of)}"
        for c in section.changes
    ]
    blocks += _sections(lines)
    blocks += _note(section.more_note)
    return blocks
