"""The digest card's data (cards/digest.json): the neutral DigestView in Teams' words. Pure.

Each job is a few short lines (a seven-column table does not fit the 450 px Teams gives a
card in a channel): its status word and colour, events, success rate with its change
against the previous period, failures, disables and deletes, the last event
(`{{DATE()}}`/`{{TIME()}}`) and its top error codes with counts, so every number the
chart shows is also in text. A paused, deleted or quarantined job says since when and by
whom on a line of its own (a paused job that logs nothing is paused, not silent). Each
top error code with a known fix gets a line with its hint.

The governance changes are a FactSet (the kind of change, then its count and the latest
one: what, by whom, when), which wraps at any width; the open alerts are short lines per
severity like the alert list's.
"""

from __future__ import annotations

from typing import Any, Final

from bot.channels.teams.cards.alert_rows import alert_row_data, severity_data
from bot.channels.teams.cards.timefmt import when
from bot.views.digest import DigestJob, DigestView, JobStatus
from bot.views.digest_sections import Governance, OpenAlerts

_STATUS: Final[dict[JobStatus, tuple[str, str]]] = {
    "quarantined": ("Quarantined", "Attention"),
    "failing": ("Failing", "Attention"),
    "silent": ("Silent", "Warning"),
    "paused": ("Paused", "Warning"),
    "deleted": ("Deleted", "Warning"),
    "degraded": ("Lower success rate", "Warning"),
    "healthy": ("Healthy", "Good"),
}


def digest_data(view: Any, data: dict[str, Any]) -> None:
    assert isinstance(view, DigestView)
    data["summary_style"] = "good" if view.quiet else "attention"
    data["rows"] = [_row(job, view) for job in view.jobs]
    data["governance"] = _governance(view.governance, view)
    data["open_alerts"] = _open_alerts(view.open_alerts, view)
    del data["jobs"], data["as_of"]


def _row(job: DigestJob, view: DigestView) -> dict[str, Any]:
    status, color = _STATUS[job.status]
    return {
        "app": job.app,
        "status": status,
        "color": color,
        "events": str(job.events),
        "rate": "–" if job.success_rate is None else f"{job.success_rate:.1f}%",
        "change": _change(job.rate_change),
        "failures": str(job.failure),
        "failure_color": "Attention" if job.failure else "Default",
        "removals": str(job.disables_deletes),
        "state": _state(job, view),
        "last": _last(job, view),
        "last_color": "Warning" if job.status == "silent" else "Default",
        "errors": ", ".join(f"{e.code} ×{e.count}" for e in job.top_errors) or "–",
        "hints": [{"code": e.code, "hint": e.hint} for e in job.top_errors if e.hint],
    }


def _governance(section: Governance | None, view: DigestView) -> dict[str, Any] | None:
    if section is None:
        return None
    facts = [
        {
            "title": f"{c.change} ({c.count})",
            "value": f"Latest: {c.last_target or '–'}, by {c.last_by or '–'}, "
            f"{when(c.last_at, now=view.as_of)}",
        }
        for c in section.changes
    ]
    return {"facts": facts, "more_note": section.more_note, "note": section.note}


def _open_alerts(section: OpenAlerts | None, view: DigestView) -> dict[str, Any] | None:
    if section is None:
        return None
    groups = [
        {
            "severity": severity_data(group.severity),
            "count": str(group.count),
            "alerts": [alert_row_data(row, view.as_of) for row in group.alerts],
            "more_note": group.more_note,
        }
        for group in section.groups
    ]
    return {"total": str(section.total), "groups": groups, "note": section.note}


def _change(points: float | None) -> str:
    if points is None:
        return "new"
    if points == 0:
        return "±0 pts"
    return f"{points:+.1f} pts"


def _state(job: DigestJob, view: DigestView) -> str:
    """`Paused since <when> by <who>`, or empty for a running job."""
    if job.state_since is None:
        return ""
    word = _STATUS[job.status][0]
    by = f" by {job.state_by}" if job.state_by else ""
    return f"{word} since {when(job.state_since, now=view.as_of)}{by}"


def _last(job: DigestJob, view: DigestView) -> str:
    if job.last_event is None:
        return "none in this period"
    at = when(job.last_event, now=view.as_of)
    return f"{at} ({job.hours_since_last or 0:.0f} h ago)" if job.status == "silent" else at
