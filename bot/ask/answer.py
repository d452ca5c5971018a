"""Run a bound question and present the answer: summary line, facts, card view, CLI document.

Running fetches at most the catalog's row cap; when the cap is reached, a second
read-only query counts every row, so the total is always true. Presenting is pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from bot import messages
from bot.ask.bind import BoundQuestion, without_render
from bot.ask.understand import Choice
from bot.output import json_value, text_value
from bot.timespans import to_iso8601
from bot.views.answer import AnswerView, answer_view
from bot.views.choices import ChoicesView, choices_view
from bot.views.portal import LogAnalyticsTarget, log_analytics_url
from bot.views.text import number
from bot.workspace.base import QueryResult, TimeSpan, Workspace, resolve_timespan

_FIELD: Final = re.compile(
    r"\{(?:(?P<agg>rows|distinct|sum)(?:\s+(?P<column>\w+))?\|(?P<noun>[^{}|]+)"
    r"|(?P<window>window)|param\s+(?P<param>\w+))\}"
)


@dataclass(frozen=True, slots=True)
class Answer:
    """A question's result: the rows fetched and how many there are in all."""

    bound: BoundQuestion
    result: QueryResult
    total: int
    #: How values read for people (a JobId -> its app's name).
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        presentation = self.bound.command.answer
        if presentation is None:
            return ""
        template = presentation.summary if self.total else presentation.empty
        return fill_summary(template, self)

    @property
    def window_label(self) -> str:
        window = self.bound.window
        if not window.capped:
            return window.label
        return messages.window_capped(window.label, _days(window.timespan))


async def run_question(workspace: Workspace, bound: BoundQuestion) -> QueryResult:
    """The first rows; see `count_rows` for the total when the cap was reached."""
    return await workspace.query(bound.kql, timespan=bound.timespan)


async def count_rows(workspace: Workspace, bound: BoundQuestion, fetched: QueryResult) -> int:
    """Every row the question matches (a `count` query only when the cap was reached)."""
    if len(fetched.rows) < bound.max_rows:
        return len(fetched.rows)
    kql = f"{without_render(bound.body)}\n| count"
    counted = await workspace.query(kql, timespan=bound.timespan)
    return int(counted.rows[0][0]) if counted.rows else len(fetched.rows)


def fill_summary(template: str, answer: Answer) -> str:
    """`{rows|failure} for {distinct Identity|identity/identities} {window}` filled in."""

    def field_text(match: re.Match[str]) -> str:
        if match["window"]:
            return answer.window_label
        if match["param"]:
            value = answer.bound.values.get(match["param"], "")
            return answer.labels.get(match["param"]) or str(value)
        amount = _aggregate(answer, match["agg"], match["column"])
        return f"{number(amount)} {_noun(match['noun'], amount)}"

    return re.sub(r"\s+", " ", _FIELD.sub(field_text, template)).strip()


def shown_columns(result: QueryResult, columns: Sequence[str]) -> QueryResult:
    """The result cut to the presentation's columns, in its order (all if none match)."""
    names = [c.name for c in result.columns]
    keep = [names.index(c) for c in columns if c in names]
    if not keep:
        return result
    return QueryResult(
        columns=[result.columns[i] for i in keep],
        rows=[[row[i] for i in keep] for row in result.rows],
        elapsed_ms=result.elapsed_ms,
        partial_error=result.partial_error,
        render=result.render,
    )


def facts(answer: Answer) -> list[tuple[str, str]]:
    """What was searched: the time range, then each value the question named."""
    found = [(messages.ask_fact_window(), answer.window_label)]
    command = answer.bound.command
    for name, spec in command.parameters.items():
        value = answer.bound.values.get(name)
        if spec.kind in ("window", "bin") or value in (None, ""):
            continue
        shown = answer.labels.get(name) or str(value)
        found.append((messages.ask_fact_name(spec.description), shown))
    return found


def answer_card(
    answer: Answer, *, question: str | None, now: datetime, portal: LogAnalyticsTarget | None
) -> AnswerView:
    command = answer.bound.command
    presentation = command.answer
    columns = presentation.columns if presentation else ()
    shown = shown_columns(answer.result, columns)
    searched = messages.ask_searched(command.title, answer.window_label, _values_text(answer))
    return answer_view(
        shown,
        kql=answer.bound.kql,
        title=command.title,
        summary=answer.summary,
        stats=f"{messages.ask_total(len(answer.result.rows), answer.total)} · "
        f"{answer.result.elapsed_ms:.0f} ms",
        facts=facts(answer),
        question=question,
        empty_text=searched,
        chart=presentation.chart if presentation else None,
        portal_url=_portal_url(answer, now=now, portal=portal),
    )


def choices_card(
    prompt: str, choices: Sequence[Choice], *, question: str | None, note: str | None = None
) -> ChoicesView:
    options = [(choice.label, choice.command, choice.parameters) for choice in choices]
    return choices_view(prompt, options, question=question, note=note)


def answer_document(answer: Answer) -> dict[str, Any]:
    """The CLI's JSON: command, parameters, kql, timespan, columns, rows, total."""
    return {
        "command": answer.bound.command.name,
        "parameters": dict(answer.bound.values),
        "kql": answer.bound.kql,
        "timespan": to_iso8601(answer.bound.timespan),
        "summary": answer.summary,
        "columns": [{"name": c.name, "type": c.type} for c in answer.result.columns],
        "rows": [[json_value(v) for v in row] for row in answer.result.rows],
        "total": answer.total,
    }


def choices_document(prompt: str, choices: Sequence[Choice]) -> dict[str, Any]:
    """The CLI's JSON when the question needs a choice."""
    return {
        "prompt": prompt,
        "choices": [
            {"label": c.label, "command": c.command, "parameters": dict(c.parameters)}
            for c in choices
        ],
    }


def _aggregate(answer: Answer, aggregation: str, column: str | None) -> float:
    if aggregation == "rows" or column is None:
        return answer.total
    try:
        index = answer.result.column_index(column)
    except KeyError:
        return 0
    values = [row[index] for row in answer.result.rows]
    if aggregation == "distinct":
        return len({text_value(v) for v in values if v not in (None, "")})
    return sum(v for v in values if isinstance(v, int | float) and not isinstance(v, bool))


def _noun(spelling: str, amount: float) -> str:
    """`failure` -> failures; `identity/identities` names both forms."""
    singular, _, plural = spelling.partition("/")
    if amount == 1:
        return singular.strip()
    return plural.strip() if plural else f"{singular.strip()}s"


def _values_text(answer: Answer) -> str:
    return ", ".join(f"{name.lower()}: {value}" for name, value in facts(answer)[1:])


def _days(timespan: TimeSpan) -> int:
    if isinstance(timespan, timedelta):
        return timespan.days
    if timespan is None:
        return 0
    start, end = timespan
    return (end - start).days


def _portal_url(answer: Answer, *, now: datetime, portal: LogAnalyticsTarget | None) -> str | None:
    interval = resolve_timespan(answer.bound.timespan, now=now)
    if portal is None or interval is None:
        return None
    return log_analytics_url(portal, query=answer.bound.kql, start=interval[0], end=interval[1])
