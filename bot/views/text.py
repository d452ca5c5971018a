"""Turn values into the short texts views hold: numbers, cells, clipped strings. Pure.

Times stay datetimes in the views; each channel shows them its own way (`iso` is the
exact UTC form links and cards use).
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any, Final

ELLIPSIS: Final = "…"
_ISO_DATETIME: Final = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?(?:Z|\+00:00)$")


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def one_line(text: str, limit: int) -> str:
    """Whitespace runs (newlines too) become one space; then clipped."""
    return clip(" ".join(text.split()), limit)


def number(value: float | int | None) -> str:
    """`7`, `12.5`, `0.333`, `1234567`; `-` when there is no value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}".rstrip("0").rstrip(".")


def cell(value: Any, limit: int) -> str:
    """A table cell: JSON for objects, `2026-05-01 10:42:00` for UTC timestamps, clipped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    else:
        text = str(value)
        match = _ISO_DATETIME.match(text)
        if match:
            text = f"{match.group(1)} {match.group(2)}"
    return one_line(text, limit)


def iso(at: datetime) -> str:
    """`2026-05-01T10:42:00Z`: seconds, Z, no fraction (Adaptive Card DATE/TIME functions
    and portal links accept exactly this)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
