"""A local HTTP server that speaks the Log Analytics query API over any Workspace.

Protocol, as documented for https://api.loganalytics.io/v1 and seen in recorded traffic:

    POST /v1/workspaces/{id}/query   {"query", "timespan", "workspaces"}  (or GET ?query=&timespan=)
    POST /v1/$batch                  {"requests": [{"id", "headers", "body", "method", "path",
                                     "workspace"}]}  ("Batch queries", Logs query API docs)
    Prefer: wait=N, include-statistics=true, include-render=true

A $batch answers 200 {"responses": [{"id", "status", "headers", "body"}]} in the order its
queries finish (not the order asked), each query failing or succeeding on its own (an
unknown path or method: 404 PathNotFoundError; no data: 204 with WorkspaceNotPlacedError);
the whole batch fails only when its JSON, its authentication or its items' ids are wrong.

Answers: 200 with tables (plus "statistics", "render", and "error" {"code": "PartialError"}
when asked for / when part failed); 204 with no body when nothing has columns or rows;
400 BadArgumentError with SyntaxError/SYN0002 (line, 0-based pos, token) or SemanticError;
401 (with WWW-Authenticate) when a bearer token is expected and missing or wrong; 404 for
another workspace id; 504 GatewayTimeout when the backend runs past `wait` (180 s default).

Tests steer it through `ServerControls` (app[CONTROLS]): queued or permanent `Fault`s,
an injected partial error, an artificial delay (or one per query text); every request is
recorded. With `limits` set, the user query limits are enforced as the service does
(tests/support/loganalytics_limits.py: 429 with Retry-After) and `gate.stats` says what
they saw.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import parse_qsl

import isodate
from aiohttp import web

from bot.errors import (
    QueryError,
    QueryTimeoutError,
    ThrottledError,
    UnsupportedQueryError,
    WorkspaceError,
)
from bot.output import kusto_timespan
from bot.workspace.base import ColumnType, QueryResult, TimeSpan, Workspace
from tests.support.loganalytics_limits import LimitExceededError, Limits, QueryGate

DEFAULT_WAIT: Final = 180.0
_JSON: Final = "application/json; charset=utf-8"
_WWW_AUTHENTICATE: Final = (
    'Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
    'error="invalid_token", error_description="{why}"'
)


@dataclass(frozen=True)
class Fault:
    """One canned answer: an OneAPI error from `code`/`message`, or `body` sent as JSON
    (any status, e.g. a hand-written 200), or `text` sent as HTML (e.g. a proxy's page)."""

    status: int
    code: str = ""
    message: str = ""
    retry_after: float | None = None
    body: dict[str, Any] | None = None
    text: str | None = None


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    timespan: TimeSpan = None
    status: int = 0


@dataclass
class ServerControls:
    """Mutable test hooks. `faults` are used one per HTTP request, first in first out;
    `always` answers every request after those; `partial_error` is an error object added
    to every 200; `delay` seconds pass before the backend is asked (and count against wait),
    or `delays[query]` for that query text; `limits` enforces the user query limits."""

    faults: list[Fault] = field(default_factory=list)
    always: Fault | None = None
    partial_error: dict[str, Any] | None = None
    delay: float = 0.0
    delays: dict[str, float] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    limits: Limits | None = None
    gate: QueryGate | None = None

    def enforce(self, limits: Limits) -> QueryGate:
        """Enforce `limits` from now on; the gate's `stats` count what they saw."""
        self.limits, self.gate = limits, QueryGate(limits)
        return self.gate

    def next_fault(self) -> Fault | None:
        return self.faults.pop(0) if self.faults else self.always


@dataclass(frozen=True)
class _Settings:
    backend: Workspace
    workspace_id: str
    expected_token: str | None
    controls: ServerControls


@dataclass(frozen=True)
class _Answer:
    status: int
    body: dict[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    text: str | None = None

    def to_response(self) -> web.Response:
        if self.text is not None:
            return web.Response(
                status=self.status, text=self.text, content_type="text/html", headers=self.headers
            )
        if self.body is None:
            return web.Response(status=self.status, headers=self.headers)
        return web.Response(
            status=self.status,
            body=json.dumps(self.body).encode(),
            headers={"Content-Type": _JSON, **self.headers},
        )


@dataclass(frozen=True)
class _QuerySpec:
    query: str
    timespan: TimeSpan
    wait: float
    statistics: bool
    render: bool


CONTROLS: Final = web.AppKey("loganalytics_controls", ServerControls)
_SETTINGS: Final = web.AppKey("loganalytics_settings", _Settings)


def create_loganalytics_app(
    backend: Workspace,
    *,
    workspace_id: str,
    expected_token: str | None = None,
    controls: ServerControls | None = None,
) -> web.Application:
    """The app; `app[CONTROLS]` holds the hooks and the request log."""
    app = web.Application()
    settings = _Settings(backend, workspace_id, expected_token, controls or ServerControls())
    app[_SETTINGS] = settings
    app[CONTROLS] = settings.controls
    app.router.add_route("POST", "/v1/workspaces/{workspace_id}/query", _query)
    app.router.add_route("GET", "/v1/workspaces/{workspace_id}/query", _query)
    app.router.add_route("POST", "/v1/$batch", _batch)
    return app


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    controls: ServerControls
    workspace_id: str
    token: str | None

    @property
    def endpoint(self) -> str:
        """What AzureWorkspace takes as `endpoint`."""
        return f"{self.base_url}/v1"


@asynccontextmanager
async def serve_loganalytics(app: web.Application) -> AsyncIterator[RunningServer]:
    """Serve `app` on 127.0.0.1 on a free TCP port until the block ends."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    settings = app[_SETTINGS]
    try:
        yield RunningServer(
            f"http://127.0.0.1:{port}",
            settings.controls,
            settings.workspace_id,
            settings.expected_token,
        )
    finally:
        await runner.cleanup()


def partial_error(*reasons: str) -> dict[str, Any]:
    """A PartialError object as the service attaches to a 200."""
    return {
        "code": "PartialError",
        "message": "Part of the query failed; the results may be incomplete.",
        "details": [
            {
                "code": "EngineError",
                "message": "The query engine reported a problem.",
                "innererror": {"code": "QueryEngineError", "message": reason},
            }
            for reason in reasons
        ],
    }


async def _query(request: web.Request) -> web.Response:
    settings = request.app[_SETTINGS]
    body = await _json_body(request) if request.method == "POST" else dict(request.query)
    record = _record(request, body, settings.controls)
    answer = _refusal(request, settings) or _wrong_workspace(
        request.match_info["workspace_id"], settings
    )
    if answer is None:
        prefer = request.headers.get("Prefer", "")
        answer = await _limited(
            _principal(request), settings, lambda: _answer_query(body, prefer, settings, record)
        )
    record.status = answer.status
    return answer.to_response()


async def _batch(request: web.Request) -> web.Response:
    settings = request.app[_SETTINGS]
    body = await _json_body(request)
    record = _record(request, body, settings.controls)
    answer = _refusal(request, settings) or _invalid_batch(body)
    gate, principal = settings.controls.gate, _principal(request)
    if answer is None and gate is not None and gate.limits.batch_counts == "request":
        try:
            gate.count(principal)
        except LimitExceededError as throttled:
            answer = _throttled(throttled)
    if answer is None:
        answered: list[dict[str, Any]] = []  # in the order the queries finish

        async def one(item: Mapping[str, Any]) -> None:
            answered.append(await _batch_item(item, settings, principal))

        await asyncio.gather(*(one(item) for item in body["requests"]))
        answer = _Answer(200, {"responses": answered})
    record.status = answer.status
    return answer.to_response()


def _invalid_batch(body: Any) -> _Answer | None:
    """The whole batch fails when it is not a list of items with distinct ids."""
    items = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return _bad_request("InvalidBatchError", "'requests' must be a list of objects")
    ids = [item.get("id") for item in items]
    if any(not isinstance(i, str) or not i for i in ids) or len(set(ids)) != len(ids):
        return _bad_request("InvalidBatchError", "every request needs an id, and ids must differ")
    return None


async def _batch_item(
    item: Mapping[str, Any], settings: _Settings, principal: str
) -> dict[str, Any]:
    headers = {key.lower(): value for key, value in (item.get("headers") or {}).items()}
    method = str(item.get("method") or "GET").upper()  # GET when none is given
    path, _, query_string = str(item.get("path") or "").partition("?")
    body = item.get("body") if method == "POST" else dict(parse_qsl(query_string))
    answer = _wrong_workspace(str(item.get("workspace")), settings)
    if path != "/query" or method not in ("GET", "POST"):
        answer = _error(404, "PathNotFoundError", "The requested path does not exist")
    if answer is None:
        scratch = RecordedRequest(method, "$batch item", headers, body)
        prefer = headers.get("prefer", "")
        gate = settings.controls.gate
        answer = await _limited(
            principal,
            settings,
            lambda: _answer_query(body, prefer, settings, scratch),
            count=gate is None or gate.limits.batch_counts == "items",
        )
    if answer.status == 204:  # in a batch, a 204 has a body that says why
        answer = _error(204, "WorkspaceNotPlacedError", "The workspace has no data.")
    return {
        "id": item.get("id"),
        "status": answer.status,
        "headers": dict(answer.headers),
        "body": answer.body,
    }


def _principal(request: web.Request) -> str:
    return request.headers.get("Authorization", "")


async def _limited(
    principal: str,
    settings: _Settings,
    answer: Callable[[], Awaitable[_Answer]],
    *,
    count: bool = True,
) -> _Answer:
    """`answer()` within the user query limits, when they are enforced."""
    gate = settings.controls.gate
    if gate is None:
        return await answer()
    async with gate.request(principal):
        try:
            if count:
                gate.count(principal)
            async with gate.run(principal):
                return await answer()
        except LimitExceededError as throttled:
            return _throttled(throttled)


def _throttled(throttled: LimitExceededError) -> _Answer:
    return _fault_answer(Fault(429, "ThrottledError", str(throttled), throttled.retry_after))


def _record(request: web.Request, body: Any, controls: ServerControls) -> RecordedRequest:
    record = RecordedRequest(request.method, request.path, dict(request.headers), body)
    controls.requests.append(record)
    return record


def _refusal(request: web.Request, settings: _Settings) -> _Answer | None:
    """Authentication first (as the service does), then any queued fault."""
    expected = settings.expected_token
    if expected is not None:
        given = request.headers.get("Authorization", "")
        if not given.startswith("Bearer "):
            return _unauthorized("AuthenticationFailed", "The 'Authorization' header is missing.")
        if given.removeprefix("Bearer ").strip() != expected:
            return _unauthorized("InvalidAuthenticationToken", "The access token is invalid.")
    fault = settings.controls.next_fault()
    return _fault_answer(fault) if fault else None


def _wrong_workspace(workspace_id: str, settings: _Settings) -> _Answer | None:
    if workspace_id == settings.workspace_id:
        return None
    return _error(404, "WorkspaceNotFoundError", f"Workspace '{workspace_id}' could not be found.")


async def _answer_query(
    body: Any, prefer: str, settings: _Settings, record: RecordedRequest
) -> _Answer:
    try:
        spec = _parse_spec(body, prefer)
    except ValueError as error:
        return _bad_request("InvalidArgument", str(error))
    record.timespan = spec.timespan
    try:
        result = await asyncio.wait_for(_run(spec, settings), timeout=spec.wait)
    except TimeoutError:
        return _gateway_timeout(f"The query ran longer than the server timeout of {spec.wait:g} s.")
    except QueryError as error:
        return _query_error(error, spec.query)
    except WorkspaceError as error:
        return _backend_failure(error)
    return _success(result, spec, settings.controls.partial_error)


async def _run(spec: _QuerySpec, settings: _Settings) -> QueryResult:
    delay = settings.controls.delays.get(spec.query, settings.controls.delay)
    if delay:
        await asyncio.sleep(delay)
    return await settings.backend.query(spec.query, timespan=spec.timespan)


def _parse_spec(body: Any, prefer: str) -> _QuerySpec:
    if not isinstance(body, Mapping) or not isinstance(body.get("query"), str):
        raise ValueError("The request must contain a 'query' string.")
    options = _prefer(prefer)
    wait = float(options.get("wait", DEFAULT_WAIT))
    return _QuerySpec(
        query=body["query"],
        timespan=parse_timespan(body.get("timespan")),
        wait=wait,
        statistics=options.get("include-statistics") == "true",
        render=options.get("include-render") == "true",
    )


def _prefer(header: str) -> dict[str, str]:
    pairs = (part.strip().partition("=") for part in header.split(",") if part.strip())
    return {key.strip().lower(): value.strip().lower() for key, _, value in pairs}


def parse_timespan(text: str | None) -> TimeSpan:
    """ISO 8601 duration ("PT24H", "P1D", "PT86400.0S") or interval ("start/end",
    "start/duration", "duration/end"), as the service accepts them."""
    if not text:
        return None
    try:
        if "/" not in text:
            return _duration(text)
        first, second = (part.strip() for part in text.split("/", 1))
        if first.upper().startswith("P"):
            end = _moment(second)
            return (end - _duration(first), end)
        start = _moment(first)
        if second.upper().startswith("P"):
            return (start, start + _duration(second))
        return (start, _moment(second))
    except (ValueError, isodate.ISO8601Error) as error:
        raise ValueError(f"'{text}' is not a valid ISO 8601 timespan: {error}") from error


def _duration(text: str) -> timedelta:
    parsed = isodate.parse_duration(text)
    if not isinstance(parsed, timedelta):
        raise ValueError("durations in months or years are not supported here")
    return parsed


def _moment(text: str) -> datetime:
    moment: datetime = isodate.parse_datetime(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _success(result: QueryResult, spec: _QuerySpec, injected: dict[str, Any] | None) -> _Answer:
    error = injected or (partial_error(result.partial_error) if result.partial_error else None)
    if not result.columns and not result.rows and error is None:
        return _Answer(204)
    body: dict[str, Any] = {"tables": [_table(result)]}
    if spec.statistics:
        body["statistics"] = {
            "query": {
                "executionTime": result.elapsed_ms / 1000.0,
                "datasetStatistics": [{"tableRowCount": len(result.rows)}],
            }
        }
    if spec.render and result.render:
        body["render"] = result.render
    if error is not None:
        body["error"] = error
    return _Answer(200, body)


def _table(result: QueryResult) -> dict[str, Any]:
    kinds = [column.type for column in result.columns]
    return {
        "name": "PrimaryResult",
        "columns": [{"name": column.name, "type": column.type} for column in result.columns],
        "rows": [
            [wire_value(kind, value) for kind, value in zip(kinds, row, strict=True)]
            for row in result.rows
        ],
    }


def wire_value(kind: ColumnType, value: Any) -> Any:
    """A normalised value as the service writes it in JSON."""
    if value is None:
        return None
    if kind == "datetime":
        return _wire_datetime(value)
    if kind == "timespan":
        return kusto_timespan(value)
    if kind == "dynamic":
        return json.dumps(value, separators=(",", ":"), default=str)
    if kind in ("guid", "decimal"):
        return str(value)
    if kind == "real" and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _wire_datetime(moment: datetime) -> str:
    moment = moment.astimezone(UTC) if moment.tzinfo else moment
    fraction = f".{moment.microsecond * 10:07d}".rstrip("0") if moment.microsecond else ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def _query_error(error: QueryError, query: str) -> _Answer:
    """Where the backend located a syntax error, answer as the parser does (pos 0-based)."""
    if (
        error.line is not None
        and error.column is not None
        and not isinstance(error, UnsupportedQueryError)
    ):
        token = _token_at(query, error.line, error.column)
        pos = error.column - 1
        inner = {
            "code": "SyntaxError",
            "message": "A recognition error occurred in the query.",
            "innererror": {
                "code": "SYN0002",
                "message": f"Query could not be parsed at '{token}' on line [{error.line},{pos}]",
                "line": error.line,
                "pos": pos,
                "token": token,
            },
        }
    else:
        inner = {
            "code": "SemanticError",
            "message": "A semantic error occurred.",
            "innererror": {"code": "SEM0100", "message": error.message},
        }
    return _bad_request("BadArgumentError", "The request had some invalid properties", inner)


def _token_at(query: str, line: int, column: int) -> str:
    lines = query.splitlines()
    text = lines[line - 1][column - 1 :] if 0 < line <= len(lines) else ""
    found = re.match(r"\s*([A-Za-z_]\w*|\S)", text)
    return found.group(1) if found else "<EOF>"


def _backend_failure(error: WorkspaceError) -> _Answer:
    if isinstance(error, ThrottledError):
        return _fault_answer(Fault(429, "ThrottledError", str(error), error.retry_after))
    if isinstance(error, QueryTimeoutError):
        return _gateway_timeout(str(error))
    return _error(503, "ServiceUnavailableError", str(error))


def _fault_answer(fault: Fault) -> _Answer:
    headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
    if fault.text is not None:
        return _Answer(fault.status, headers=headers, text=fault.text)
    if fault.body is not None:
        return _Answer(fault.status, fault.body, headers)
    return _error(fault.status, fault.code, fault.message, headers=headers)


def _unauthorized(code: str, message: str) -> _Answer:
    challenge = _WWW_AUTHENTICATE.format(why=message.replace('"', "'"))
    return _error(401, code, message, headers={"WWW-Authenticate": challenge})


def _gateway_timeout(message: str) -> _Answer:
    inner = {"code": "GatewayTimeout", "message": message}
    return _error(504, "GatewayTimeout", "Gateway timeout", innererror=inner)


def _bad_request(code: str, message: str, innererror: dict[str, Any] | None = None) -> _Answer:
    return _error(400, code, message, innererror=innererror)


def _error(
    status: int,
    code: str,
    message: str,
    *,
    innererror: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> _Answer:
    error: dict[str, Any] = {"message": message, "code": code, "correlationId": str(uuid.uuid4())}
    if innererror is not None:
        error["innererror"] = innererror
    return _Answer(status, {"error": error}, headers or {})


async def _json_body(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None
