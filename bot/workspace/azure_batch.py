"""Log Analytics $batch: many queries in one request, each read back as if it had come alone.

The request and answer are those of "Batch queries" (Azure Monitor Logs query API,
https://learn.microsoft.com/azure/azure-monitor/logs/api/batch-queries): POST /v1/$batch
with {"requests": [{id, headers, body, method, path, workspace}]}; the answer's
"responses" carry each query's own id, HTTP status, headers and body, in any order, and
the batch succeeds as a whole even when some of its queries fail. The SDK's
`LogsQueryClient.query_batch` builds the request and orders the answers, but keeps no
item's status or headers, so the raw answer is read too: an item's status, Retry-After and
error body then go through the same mapping as a query sent alone (bot.workspace.azure).

How many queries per batch: the Batch queries page, the REST specification and the SDK
documentation state no maximum. What is documented is the principal's queue: 5 queries run
at once and at most 200 more wait ("User query throttling", Azure Monitor service limits),
and a query that waits over 3 minutes is refused with 429. With QueryLimiter's 5 requests
in flight, `MAX_BATCH` = 200 / 5 = 40 can never overflow that queue; the default batch is
smaller (10, `DEFAULT_BATCH`) so that 5 x 10 queued queries drain well within 3 minutes.

The batch operation is deprecated, supported until 31 March 2028 ("Migrate from Logs Query
API batch operation and beta version"); `max_batch=1` sends every query alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from azure.core.utils import CaseInsensitiveDict
from azure.monitor.query import (
    LogsBatchQuery,
    LogsQueryError,
    LogsQueryPartialResult,
    LogsQueryResult,
)

from bot.errors import WorkspaceError, WorkspaceUnavailableError
from bot.workspace.azure_answers import error_for, read_server_error, to_query_result
from bot.workspace.base import QueryResult

MAX_BATCH: Final = 40
DEFAULT_BATCH: Final = 10

SdkTimeSpan = timedelta | tuple[datetime, datetime] | None
SdkAnswer = LogsQueryResult | LogsQueryPartialResult | LogsQueryError


def batch_queries(
    workspace_id: str, queries: Sequence[tuple[str, SdkTimeSpan]], *, server_timeout: int
) -> list[LogsBatchQuery]:
    """The batch's items, with the options a query sent alone has (wait, render)."""
    return [
        LogsBatchQuery(
            workspace_id,
            kql,
            timespan=timespan,
            server_timeout=server_timeout,
            include_visualization=True,
        )
        for kql, timespan in queries
    ]


def read_batch(
    queries: Sequence[LogsBatchQuery],
    answers: Sequence[SdkAnswer],
    response: Any,
    *,
    workspace_id: str,
    server_timeout: int,
    elapsed_ms: float,
) -> list[QueryResult | WorkspaceError]:
    """Each query's result or error, in the order of `queries`."""
    items = _raw_items(response)
    if len(answers) != len(queries) or any(query.id not in items for query in queries):
        failure = WorkspaceUnavailableError("Log Analytics answered a $batch without every query")
        return [failure] * len(queries)
    return [
        _answer(
            items[query.id],
            answer,
            workspace_id=workspace_id,
            server_timeout=server_timeout,
            elapsed_ms=elapsed_ms,
        )
        for query, answer in zip(queries, answers, strict=True)
    ]


def _answer(
    item: Mapping[str, Any],
    answer: SdkAnswer,
    *,
    workspace_id: str,
    server_timeout: int,
    elapsed_ms: float,
) -> QueryResult | WorkspaceError:
    status = int(item.get("status") or 0)
    if status == 204:  # "nothing here", as a 204 to a query sent alone
        return QueryResult(columns=(), rows=(), elapsed_ms=elapsed_ms)
    if 200 <= status < 300 and not isinstance(answer, LogsQueryError):
        return to_query_result(answer, elapsed_ms=elapsed_ms)
    said = read_server_error(_ItemResponse(item))
    return error_for(said, workspace_id=workspace_id, server_timeout=server_timeout)


def _raw_items(response: Any) -> dict[str, Mapping[str, Any]]:
    try:
        body = json.loads(response.text()) if response is not None else None
    except ValueError:
        return {}
    responses = body.get("responses") if isinstance(body, dict) else None
    if not isinstance(responses, list):
        return {}
    return {str(item["id"]): item for item in responses if isinstance(item, dict) and "id" in item}


class _ItemResponse:
    """One batch item seen as the HTTP response it stands for (what read_server_error reads)."""

    def __init__(self, item: Mapping[str, Any]) -> None:
        self.status_code = int(item.get("status") or 0)
        self.headers = CaseInsensitiveDict(item.get("headers") or {})
        self.reason = None
        body = item.get("body")
        self._text = body if isinstance(body, str) else json.dumps(body)

    def text(self) -> str:
        return self._text
