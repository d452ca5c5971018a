"""The query-result card's view: a table of rows, the KQL, and a chart when one fits. Pure.

Used by `run <rule id>` and by chat queries. A chart is drawn when asked for, or when
the query ends in `render` (Log Analytics returns it as `render`): columns, bars and
pie become a bar chart, time and line charts a line chart, one series per numeric
column or per value of a text column.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final, Literal

from bot.output import json_value
from bot.views import evidence
from bot.views.query_views import BarPoint, Chart, LinePoint, LineSeries, QueryResultView
from bot.views.text import cell, number
from bot.workspace.base import Column, QueryResult

ChartKind = Literal["bar", "line"]

MAX_TABLE_ROWS: Final = 15
MAX_TABLE_COLUMNS: Final = 8
MAX_BARS: Final = 24
MAX_SERIES: Final = 5
MAX_POINTS: Final = 48
#: Hosts without Teams charts show the chart's data as a table, this long at most.
MAX_FALLBACK_ROWS: Final = 12
_NUMERIC: Final = frozenset({"long", "int", "real", "decimal"})
_RENDER_KINDS: Final[dict[str, ChartKind]] = {
    "columnchart": "bar",
    "barchart": "bar",
    "piechart": "bar",
    "timechart": "line",
    "linechart": "line",
    "areachart": "line",
}


def query_result_view(
    result: QueryResult,
    *,
    kql: str,
    title: str = "Query result",
    timespan: str | None = None,
    chart: ChartKind | None = None,
) -> QueryResultView:
    """The card for `result`; `timespan` is shown as given (e.g. `last 24h`)."""
    columns = [c.name for c in result.columns]
    rows = [[json_value(v) for v in row] for row in result.rows]
    shown = columns[:MAX_TABLE_COLUMNS]
    table = evidence.table(
        shown,
        [row[: len(shown)] for row in rows],
        all_columns=columns,
        max_rows=MAX_TABLE_ROWS,
    )
    kind = chart or _render_kind(result.render)
    return QueryResultView(
        title=title,
        summary=_summary(len(rows), result.elapsed_ms, timespan),
        partial_error=result.partial_error,
        query_lines=tuple(kql.rstrip().splitlines()),
        table=table,
        chart=build_chart(result, kind, title=_render_title(result.render)) if kind else None,
        empty=not rows,
    )


def _summary(count: int, elapsed_ms: float, timespan: str | None) -> str:
    parts = [f"{count} row{'' if count == 1 else 's'}", f"{elapsed_ms:.0f} ms"]
    if timespan:
        parts.append(timespan)
    return " · ".join(parts)


def _render_kind(render: dict[str, Any] | None) -> ChartKind | None:
    if not render:
        return None
    return _RENDER_KINDS.get(str(render.get("visualization", "")).lower())


def _render_title(render: dict[str, Any] | None) -> str:
    return str(render.get("title") or "Chart") if render else "Chart"


def build_chart(result: QueryResult, kind: ChartKind, *, title: str = "Chart") -> Chart | None:
    """A chart of `result`, or None when it has no numeric column to plot."""
    columns = list(result.columns)
    x = _x_column(columns, kind)
    numeric = [i for i, c in enumerate(columns) if c.type in _NUMERIC and i != x]
    if x is None or not numeric or not result.rows:
        return None
    y = numeric[0]
    common = {
        "title": title,
        "x_title": columns[x].name,
        "y_title": columns[y].name if len(numeric) == 1 else "",
    }
    if kind == "bar":
        bars = tuple(BarPoint(x=_label(r[x]), y=_float(r[y])) for r in result.rows[:MAX_BARS])
        table = evidence.table(
            [columns[x].name, columns[y].name], [[b.x, b.y] for b in bars], max_rows=MAX_BARS
        )
        return Chart(kind="bar", bar=True, line=False, bars=bars, table=table, **common)
    series = _series(result, columns, x, numeric)
    points = [[s.legend, p.x, p.y] for s in series for p in s.values]
    table = evidence.table(["series", columns[x].name, "value"], points, max_rows=MAX_FALLBACK_ROWS)
    return Chart(kind="line", bar=False, line=True, series=series, table=table, **common)


def _x_column(columns: Sequence[Column], kind: ChartKind) -> int | None:
    wanted = ("datetime",) if kind == "line" else ("string",)
    for types in (wanted, ("datetime", "string", "guid")):
        found = next((i for i, c in enumerate(columns) if c.type in types), None)
        if found is not None:
            return found
    return None


def _series(
    result: QueryResult, columns: Sequence[Column], x: int, numeric: list[int]
) -> tuple[LineSeries, ...]:
    """One series per value of a text column if there is one, else per numeric column."""
    split = next((i for i, c in enumerate(columns) if c.type == "string" and i != x), None)
    rows = sorted(result.rows, key=lambda row: _sort_key(row[x]))
    if split is not None:
        names = list(dict.fromkeys(str(row[split]) for row in rows))[:MAX_SERIES]
        return tuple(
            LineSeries(
                legend=cell(name, 40),
                values=_points([r for r in rows if str(r[split]) == name], x, numeric[0]),
            )
            for name in names
        )
    return tuple(
        LineSeries(legend=columns[y].name, values=_points(rows, x, y)) for y in numeric[:MAX_SERIES]
    )


def _points(rows: Sequence[Sequence[Any]], x: int, y: int) -> tuple[LinePoint, ...]:
    return tuple(LinePoint(x=_label(row[x]), y=_float(row[y])) for row in rows[-MAX_POINTS:])


def _sort_key(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _label(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%m-%d %H:%M")
    if isinstance(value, int | float):
        return number(value)
    return cell(value, 30)


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
