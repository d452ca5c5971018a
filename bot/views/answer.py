"""The answer card of a plain-language question: summary, facts, first rows, chart, KQL. Pure.

Built on the query-result view (same table and chart rules) with what a question's
answer adds: the one-line summary, what was searched (time range and values), the row
count and query time, an empty answer said plainly, and "Open in Log Analytics".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from bot.views.model import Fact
from bot.views.query import query_result_view
from bot.views.query_views import ResultCardView
from bot.workspace.base import QueryResult


class AnswerView(ResultCardView):
    title: str
    summary: str
    #: What was asked, as typed (text from chat: shown in a TextRun, never markdown).
    question: str | None = None
    #: What was searched: the time range and each value the question named.
    facts: tuple[Fact, ...] = ()
    #: `27 rows · 31 ms`, or `first 1000 of 1204 rows · 31 ms`.
    stats: str
    partial_error: str | None = None
    empty: bool
    #: Said when nothing was found, with what was searched.
    empty_text: str | None = None
    portal_url: str | None = None


def answer_view(
    result: QueryResult,
    *,
    kql: str,
    title: str,
    summary: str,
    stats: str,
    facts: Sequence[tuple[str, str]] = (),
    question: str | None = None,
    empty_text: str | None = None,
    chart: Literal["bar", "line"] | None = None,
    portal_url: str | None = None,
) -> AnswerView:
    """The card for a question's `result` (already cut to the columns worth showing)."""
    base = query_result_view(result, kql=kql, title=title, chart=chart)
    return AnswerView(
        title=title,
        summary=summary,
        question=question or None,
        facts=tuple(Fact(name=name, value=value) for name, value in facts),
        stats=stats,
        partial_error=base.partial_error,
        empty=base.empty,
        empty_text=empty_text if base.empty else None,
        table=base.table,
        chart=base.chart,
        query_lines=base.query_lines,
        portal_url=portal_url,
    )
