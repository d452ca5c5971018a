"""Render a QueryResult for the terminal: an aligned table, JSON or CSV. Pure."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from bot.workspace.base import QueryResult

OutputFormat = Literal["table", "json", "csv"]
_MAX_CELL: Final = 100


def render(result: QueryResult, output_format: OutputFormat) -> str:
    if output_format == "json":
        return to_json(result)
    if output_format == "csv":
        return to_csv(result)
    return to_table(result)


def to_json(result: QueryResult) -> str:
    document: dict[str, Any] = {
        "columns": [{"name": c.name, "type": c.type} for c in result.columns],
        "rows": [[json_value(value) for value in row] for row in result.rows],
        "elapsed_ms": round(result.elapsed_ms, 3),
    }
    if result.partial_error:
        document["partial_error"] = result.partial_error
    return json.dumps(document, ensure_ascii=False)


def to_csv(result: QueryResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.name for c in result.columns])
    writer.writerows([text_value(value) for value in row] for row in result.rows)
    return buffer.getvalue().rstrip("\n")


def to_table(result: QueryResult) -> str:
    header = [c.name for c in result.columns]
    cells = [[_clip(text_value(value)) for value in row] for row in result.rows]
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(header)]
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
        "  ".join("-" * w for w in widths),
        *("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells),
    ]
    noun = "row" if len(cells) == 1 else "rows"
    lines.append(f"({len(cells)} {noun}, {result.elapsed_ms:.0f} ms)")
    if result.partial_error:
        lines.append(f"warning: partial result: {result.partial_error}")
    return "\n".join(line.rstrip() for line in lines)


def json_value(value: Any) -> Any:
    """A JSON-ready value: datetimes ISO 8601 UTC, timespans as Kusto writes them."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, timedelta):
        return kusto_timespan(value)
    if isinstance(value, dict):
        return {key: json_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_value(item) for item in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def text_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(json_value(value), ensure_ascii=False, separators=(",", ":"))
    converted = json_value(value)
    return converted if isinstance(converted, str) else json.dumps(converted)


def kusto_timespan(value: timedelta) -> str:
    """`[-][d.]hh:mm:ss[.fffffff]`, the Log Analytics wire format (exact: no float maths)."""
    sign, span = ("-", -value) if value < timedelta(0) else ("", value)
    hours, rest = divmod(span.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    days = f"{span.days}." if span.days else ""
    fraction = f".{span.microseconds * 10:07d}" if span.microseconds else ""
    return f"{sign}{days}{hours:02d}:{minutes:02d}:{seconds:02d}{fraction}"


def _clip(text: str) -> str:
    single_line = text.replace("\n", "\\n")
    return single_line if len(single_line) <= _MAX_CELL else single_line[: _MAX_CELL - 1] + "…"
