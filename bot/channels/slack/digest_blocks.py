"""The provisioning digest (and `health` for one job) in Block Kit. Pure.

One `table` block of the jobs (status, events, success rate and its change, failures,
disables/deletes, last event, top errors), "…and N more" as context, failures per day as
a table (the same numbers the Teams chart draws), and for one job its cycles.
"""

from __future__ import annotations

from typing import Any, Final

from bot.channels.slack.alert_blocks import table_blocks
from bot.channels.slack.message import SlackMessage
from bot.channels.slack.text import escape, mrkdwn, plain, plain_when
from bot.views.digest import DigestJob, DigestView, JobStatus
from bot.views.model import Row, Table

_STATUS: Final[dict[JobStatus, str]] = {
    "failing": "Failing",
    "silent": "Silent",
    "degraded": "Lower success rate",
    "healthy": "Healthy",
}
_COLUMNS: Final = (
    "Job", "Status", "Events", "Success", "Change", "Failures", "Disables/deletes",
    "Last event", "Top errors",
)  # fmt: skip


def digest_message(view: DigestView) -> SlackMessage:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": mrkdwn(f"*{escape(view.title)}*\n{escape(view.summary)}")},
        {"type": "context", "elements": [plain(view.period)]},
    ]
    if view.jobs:
        rows = tuple(Row(cells=_cells(job, view)) for job in view.jobs)
        blocks += table_blocks(Table(columns=_COLUMNS, rows=rows, more_note=view.more_note))
    if view.chart is not None:
        blocks += table_blocks(view.chart.table)
        blocks.append({"type": "context", "elements": [plain(f"{view.chart.title}, as a table")]})
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
        plain_when(job.last_event),
        errors,
    )
