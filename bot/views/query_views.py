"""The query-result card's data: the rows as a table, and an optional chart."""

from __future__ import annotations

from typing import Literal, Self

from bot.views.model import LONG_QUERY, SHORT_QUERY, CardView, Part, Table, cut_lines


class BarPoint(Part):
    x: str
    y: float


class LinePoint(Part):
    x: str
    y: float


class LineSeries(Part):
    legend: str
    values: tuple[LinePoint, ...]


class Chart(Part):
    """A chart's points; `table` is what hosts without charts show instead."""

    kind: Literal["bar", "line"]
    bar: bool
    line: bool
    title: str
    x_title: str
    y_title: str
    bars: tuple[BarPoint, ...] = ()
    series: tuple[LineSeries, ...] = ()
    table: Table


class ResultCardView(CardView):
    """A card around a query's rows: its KQL, the table and an optional chart. Shrinks the
    KQL first, then drops the chart, then cuts the table, then the KQL further."""

    query_lines: tuple[str, ...]
    table: Table
    chart: Chart | None = None

    def shrink(self) -> Self | None:
        if len(self.query_lines) > LONG_QUERY:
            return self.model_copy(update={"query_lines": cut_lines(self.query_lines, LONG_QUERY)})
        if self.chart is not None:
            return self.model_copy(update={"chart": None})
        smaller = self.table.shrink()
        if smaller is not None:
            return self.model_copy(update={"table": smaller})
        if len(self.query_lines) > SHORT_QUERY:
            return self.model_copy(update={"query_lines": cut_lines(self.query_lines, SHORT_QUERY)})
        return None


class QueryResultView(ResultCardView):
    title: str
    summary: str
    partial_error: str | None = None
    empty: bool
