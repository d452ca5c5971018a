"""Times on Adaptive Cards: `{{DATE()}}`/`{{TIME()}}` functions, so every reader sees them
in their own time zone; `now` only decides whether the date is worth showing. Pure."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.views.text import iso


def when(at: datetime, *, now: datetime) -> str:
    """`{{TIME(...)}}` today, `{{DATE(..., SHORT)}} {{TIME(...)}}` on other days."""
    stamp = iso(at)
    time = f"{{{{TIME({stamp})}}}}"
    if at.astimezone(UTC).date() == now.astimezone(UTC).date():
        return time
    return f"{{{{DATE({stamp}, SHORT)}}}} {time}"
