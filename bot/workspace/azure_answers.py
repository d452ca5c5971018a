"""What Log Analytics answered, read: an error body into our WorkspaceError, a table into a
QueryResult. Shared by the single-query and the batch paths of bot.workspace.azure, so both
map the same answer to the same result or exception (see that module's table).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Final

from azure.monitor.query import LogsQueryError, LogsQueryPartialResult, LogsQueryResult

from bot.errors import (
    QueryError,
    QueryTimeoutError,
    ThrottledError,
    WorkspaceError,
    WorkspaceUnavailableError,
)
from bot.workspace.base import QueryResult, TimeSpan
from bot.workspace.wire_values import as_utc, convert_table

_LINE_POS: Final = re.compile(r"on line \[(?P<line>\d+),(?P<pos>\d+)\]")


@dataclass(frozen=True, slots=True)
class ServerError:
    status: int
    code: str
    message: str
    line: int | None = None
    column: int | None = None
    retry_after: float | None = None


def error_for(said: ServerError, *, workspace_id: str, server_timeout: int) -> WorkspaceError:
    status, detail = said.status, f"HTTP {said.status} {said.code}: {said.message}".rstrip(": ")
    if status == 400:
        return QueryError(said.message or detail, line=said.line, column=said.column)
    if status in (401, 403):
        return WorkspaceUnavailableError(f"Log Analytics refused our credentials ({detail})")
    if status == 429:
        wait = f"; retry after {said.retry_after:g} s" if said.retry_after is not None else ""
        return ThrottledError(
            f"Log Analytics is throttling queries ({detail}){wait}", retry_after=said.retry_after
        )
    if status in (408, 504):
        return QueryTimeoutError(f"the query ran out of time (limit {server_timeout} s; {detail})")
    if status == 404:
        return WorkspaceError(f"Log Analytics workspace {workspace_id} not found ({detail})")
    if status >= 500:
        return WorkspaceUnavailableError(f"Log Analytics is unavailable ({detail})")
    return WorkspaceError(f"Log Analytics rejected the request ({detail})")


def read_server_error(response: Any) -> ServerError:
    """The OneAPI error body: the innermost message says the most; the syntax
    error's innermost level carries `line` (1-based) and `pos` (0-based)."""
    status = int(response.status_code)
    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    body = _json_or_none(_text(response))
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        reason = getattr(response, "reason", None) or "no error details"
        return ServerError(status, str(reason), "", retry_after=retry_after)
    levels = [error]
    while isinstance(levels[-1].get("innererror"), dict):
        levels.append(levels[-1]["innererror"])
    message = next(
        (str(level["message"]) for level in reversed(levels) if level.get("message")), ""
    )
    line, column = _position(levels, message)
    return ServerError(status, str(error.get("code", "")), message, line, column, retry_after)


def _position(levels: Sequence[Mapping[str, Any]], message: str) -> tuple[int | None, int | None]:
    for level in reversed(levels):
        if isinstance(level.get("line"), int) and isinstance(level.get("pos"), int):
            return level["line"], level["pos"] + 1
    found = _LINE_POS.search(message)
    if found:
        return int(found["line"]), int(found["pos"]) + 1
    return None, None


def _text(response: Any) -> str:
    try:
        return str(response.text())
    except Exception:  # an unread or undecodable body: the status alone must do
        return ""


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def retry_after_seconds(header: str | None) -> float | None:
    """Retry-After is either delay-seconds or an HTTP date."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(header) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def sdk_timespan(timespan: TimeSpan) -> timedelta | tuple[datetime, datetime] | None:
    if timespan is None:
        return None
    if isinstance(timespan, timedelta):
        # The SDK turns a zero duration into "no timespan at all": refuse it here.
        if timespan <= timedelta(0):
            raise ValueError(f"timespan must be a positive duration, not {timespan}")
        return timespan
    start, end = timespan
    return (as_utc(start), as_utc(end))


def to_query_result(
    answer: LogsQueryResult | LogsQueryPartialResult, *, elapsed_ms: float
) -> QueryResult:
    if isinstance(answer, LogsQueryPartialResult):
        tables, partial = answer.partial_data or [], _describe_partial(answer.partial_error)
    else:
        tables, partial = answer.tables, None
    render = dict(answer.visualization) if answer.visualization else None
    columns, rows = convert_table(tables[0]) if tables else ((), ())
    return QueryResult(
        columns=columns, rows=rows, elapsed_ms=elapsed_ms, partial_error=partial, render=render
    )


def _describe_partial(error: LogsQueryError | None) -> str:
    if error is None:
        return "PartialError: the service reported a partial failure without details"
    text = f"{error.code}: {error.message}" if error.message else str(error.code)
    reasons = [_innermost_message(detail) for detail in error.details or []]
    reasons = [reason for reason in reasons if reason]
    return f"{text} ({'; '.join(reasons)})" if reasons else text


def _innermost_message(detail: Mapping[str, Any]) -> str:
    level, message = detail, str(detail.get("message") or "")
    while isinstance(level.get("innererror"), Mapping):
        level = level["innererror"]
        message = str(level.get("message") or message)
    return message


def elapsed_ms(started: float) -> float:
    return (time.monotonic() - started) * 1000.0
