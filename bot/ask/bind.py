"""Bind a question's values into its command's KQL template as literals, and cap the rows. Pure.

Binding is the alert rules' (bot.alerts.binding): each value becomes a
`let name = <literal>;` statement, re-lexed to prove it is exactly one literal, so text
from chat can never become an operator, a comment or another statement. The time range
is not in the text at all: it is the query's timespan (capped by the catalog's limits).
The row cap is a `take` added before a trailing `render`, the same for every question.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from bot.alerts.binding import BindingError, bind, significant_tokens
from bot.alerts.rule_model import Parameter, ParameterType
from bot.ask.model import Command, ParameterKind
from bot.ask.timephrases import TimeWindow
from bot.workspace.base import TimeSpan

Value = str | int

#: The KQL literal type each parameter kind is bound as.
LITERAL_TYPES: Final[Mapping[ParameterKind, ParameterType]] = {
    "job": "string",
    "application": "string",
    "user": "string",
    "group": "string",
    "workflow": "string",
    "extension": "string",
    "error_code": "string",
    "count": "int",
    "bin": "timespan",
    "period_start": "timespan",
    "action": "string",
}
#: Where a comparison's `period_start` counts from.
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
#: Operators the embedded engine reads only with a literal after them (`take n` is refused).
_NEEDS_LITERAL: Final = frozenset({"TAKE", "TOP", "LIMIT"})
#: The largest count bound (the catalog's own maximum is usually lower).
MAX_COUNT: Final = 10_000
#: Longest text value bound; names and ids are far shorter.
MAX_TEXT: Final = 256
#: Charts bucket by the hour up to this window, else by the day.
HOURLY_UP_TO: Final = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class BoundQuestion:
    """What runs: the KQL with its values bound, and the time range it runs over."""

    command: Command
    #: Parameter name -> value as bound (the window's is its spec, e.g. `24h`).
    values: Mapping[str, Value]
    window: TimeWindow
    #: What runs: `body` with the row cap.
    kql: str
    #: The bound query without the row cap (to count every row).
    body: str
    #: The row cap in the KQL (`take`); more rows are counted, not fetched.
    max_rows: int

    @property
    def timespan(self) -> TimeSpan:
        return self.window.timespan


def bind_question(
    command: Command, values: Mapping[str, Value], window: TimeWindow, *, max_rows: int
) -> BoundQuestion:
    """The command's query with `values` bound; BindingError if one cannot be."""
    if command.query is None:
        raise BindingError(f"{command.name} has no query")
    parameters = {
        name: _parameter(name, spec.kind, values.get(name, ""), window)
        for name, spec in command.parameters.items()
        if spec.kind != "window"
    }
    if compares(command):  # after `period_start` took the asked window's start
        window = with_previous_period(window)
    bound = _count_literals(bind(command.query, parameters).text, command, parameters)
    shown: dict[str, Value] = {
        name: value
        for name, spec in command.parameters.items()
        if spec.kind not in ("window", "bin", "period_start")
        for value in (_shown(parameters[name]),)
    }
    shown[command.window_parameter()] = window.spec
    return BoundQuestion(
        command=command,
        values=shown,
        window=window,
        kql=with_row_cap(bound, max_rows),
        body=bound,
        max_rows=max_rows,
    )


def compares(command: Command) -> bool:
    """Whether the command compares its window with the period before it."""
    return any(spec.kind == "period_start" for spec in command.parameters.values())


def with_previous_period(window: TimeWindow) -> TimeWindow:
    """The window and the period of the same length before it (an anchored window only)."""
    span = window.timespan
    if not isinstance(span, tuple):
        return window
    start, end = span
    return TimeWindow(window.spec, (start - (end - start), end), window.label, window.capped)


def _count_literals(kql: str, command: Command, parameters: Mapping[str, Parameter]) -> str:
    """`take n` -> `take 5`: a count after take/top/limit becomes its validated int literal."""
    counts = {
        name: parameters[name].value
        for name, spec in command.parameters.items()
        if spec.kind == "count"
    }
    tokens = significant_tokens(kql)
    for index in range(len(tokens) - 1, 0, -1):
        kind, token = tokens[index]
        if kind == "IDENTIFIER" and token.text in counts and tokens[index - 1][0] in _NEEDS_LITERAL:
            value = counts[token.text]
            if not isinstance(value, int) or isinstance(value, bool):  # checked in _parameter
                raise BindingError(f"{token.text} must be a whole number", parameter=token.text)
            start = int(token.start)
            kql = f"{kql[:start]}{value:d}{kql[start + len(token.text) :]}"
    return kql


def clean_text(value: str) -> str:
    """Text as it may be bound: no control characters, trimmed, at most MAX_TEXT long."""
    printable = "".join(" " if ord(char) < 32 or ord(char) == 127 else char for char in value)
    return printable.strip()[:MAX_TEXT]


def bucket(window: TimeWindow) -> timedelta:
    """The chart bucket for a window: hours for two days or less, else days."""
    span = window.timespan
    length = span if isinstance(span, timedelta) else (span[1] - span[0]) if span else None
    return (
        timedelta(hours=1) if length is not None and length <= HOURLY_UP_TO else timedelta(days=1)
    )


def with_row_cap(kql: str, max_rows: int) -> str:
    """`| take max_rows` at the end, or just before a final `| render`."""
    start = _render_start(kql)
    if start is None:
        return f"{kql.rstrip()}\n| take {max_rows}"
    return f"{kql[:start].rstrip()}\n| take {max_rows}\n{kql[start:].strip()}"


def without_render(kql: str) -> str:
    """The query without a final `| render ...` (to count its rows)."""
    start = _render_start(kql)
    return (kql if start is None else kql[:start]).rstrip()


def _render_start(kql: str) -> int | None:
    """Where the query's last `| render` begins, if it has one."""
    tokens = significant_tokens(kql)
    for index in range(len(tokens) - 1, 0, -1):
        if tokens[index][0] == "RENDER" and tokens[index - 1][0] == "BAR":
            return int(tokens[index - 1][1].start)
    return None


def _parameter(name: str, kind: ParameterKind, value: Value, window: TimeWindow) -> Parameter:
    literal = LITERAL_TYPES[kind]
    if kind == "bin":
        return Parameter(type="timespan", value=bucket(window))
    if kind == "period_start":
        span = window.timespan
        start = span[0] if isinstance(span, tuple) else EPOCH
        return Parameter(type="timespan", value=start - EPOCH)
    if literal == "int":
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_COUNT:
            raise BindingError(
                f"{name} must be a whole number from 1 to {MAX_COUNT}", parameter=name
            )
        return Parameter(type="int", value=value)
    return Parameter(type=literal, value=clean_text(str(value)))


def _shown(parameter: Parameter) -> Value:
    value = parameter.value
    return value if isinstance(value, int | str) else str(value)
