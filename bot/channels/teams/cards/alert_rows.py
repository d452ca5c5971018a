"""An alert's severity colour and its row status in Teams' words (the alert list and the
digest's open alerts). Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal

from bot.channels.teams.cards.timefmt import when
from bot.models import AlertStatus
from bot.views.model import AlertRow, Severity

TextColor = Literal["Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention"]

_SEVERITY_COLORS: Final[tuple[TextColor, ...]] = (
    "Attention",
    "Attention",
    "Warning",
    "Accent",
    "Default",
)


def severity_data(severity: Severity) -> dict[str, Any]:
    return {**severity.model_dump(mode="json"), "color": _SEVERITY_COLORS[severity.level]}


def row_status(row: AlertRow, now: datetime) -> str:
    if row.state is AlertStatus.RESOLVED:
        return f"resolved {when(row.at, now=now)}"
    if row.state is AlertStatus.SNOOZED:
        return f"snoozed until {when(row.at, now=now)}"
    if row.state is AlertStatus.ACKNOWLEDGED:
        return f"acknowledged by {row.actor}"
    return f"firing since {when(row.at, now=now)}"


def alert_row_data(row: AlertRow, now: datetime) -> dict[str, Any]:
    return {
        "alert_id": row.alert_id,
        "severity": severity_data(row.severity),
        "title": row.title,
        "status": row_status(row, now),
    }
