"""Parse the time spans admins type: `24h`, `7d`, `P1D`, `PT30M`, `start/end`, `start/P1D`.

Pure: an interval is returned as given; a bare duration stays a duration so the
workspace anchors it at its own "now".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

import isodate

from bot.workspace.base import TimeSpan

_SHORT: Final = re.compile(r"^\s*(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|m|h|d|w)\s*$", re.I)
_UNITS: Final = {
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}


class TimeSpanError(ValueError):
    """The text is not a time span we understand; the message says what is."""


class DurationTooLongError(TimeSpanError):
    """A duration longer than a datetime can hold (`99999999999d`)."""


def parse_duration(text: str) -> timedelta:
    """`24h`, `90m`, `7d`, `1w` (KQL-style) or ISO 8601 (`P1D`, `PT24H`)."""
    match = _SHORT.match(text)
    try:
        if match:
            duration = float(match["amount"]) * _UNITS[match["unit"].lower()]
        else:
            duration = _iso_duration(text)
    except OverflowError:
        raise DurationTooLongError(f"time span too long: {text!r}") from None
    if duration <= timedelta(0):
        raise TimeSpanError(f"time span must be positive, got {text!r}")
    return duration


def parse_timespan(text: str) -> TimeSpan:
    """A duration, or an interval `start/end` or `start/duration` in ISO 8601."""
    if "/" not in text:
        return parse_duration(text)
    start_text, _, end_text = text.partition("/")
    start = parse_datetime(start_text)
    try:
        end = (
            start + parse_duration(end_text)
            if _looks_like_duration(end_text)
            else parse_datetime(end_text)
        )
    except OverflowError:
        raise DurationTooLongError(f"interval ends after the year 9999: {text!r}") from None
    if end <= start:
        raise TimeSpanError(f"interval end must be after its start, got {text!r}")
    return (start, end)


def parse_datetime(text: str) -> datetime:
    """ISO 8601; a time without an offset is UTC, as in Log Analytics."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise TimeSpanError(f"not an ISO 8601 date/time: {text!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_iso8601(timespan: TimeSpan) -> str | None:
    """The form the Log Analytics API takes: `PT24H` or `start/end`."""
    if timespan is None:
        return None
    if isinstance(timespan, timedelta):
        return str(isodate.duration_isoformat(timespan))
    start, end = timespan
    return f"{_iso(start)}/{_iso(end)}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _looks_like_duration(text: str) -> bool:
    stripped = text.strip()
    return stripped.upper().startswith("P") or bool(_SHORT.match(stripped))


def _iso_duration(text: str) -> timedelta:
    try:
        parsed = isodate.parse_duration(text.strip().upper())
    except (isodate.ISO8601Error, ValueError):
        raise TimeSpanError(
            f"not a time span: {text!r} (try 24h, 7d, P1D or 2026-01-01T00:00Z/2026-01-02T00:00Z)"
        ) from None
    if not isinstance(parsed, timedelta):
        raise TimeSpanError(f"months and years are ambiguous; use days: {text!r}")
    return parsed
