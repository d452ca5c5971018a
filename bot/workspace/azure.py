"""The Azure workspace: KQL run on a Log Analytics workspace through azure-monitor-query.

Errors, mapped from what the service (or the network) said after the SDK's own retries:

    400                         QueryError (line and 1-based column when the server located it)
    401, 403                    WorkspaceUnavailableError (our credentials were refused)
    404 and other 4xx           WorkspaceError (wrong workspace id or request: not retryable)
    408, 504, client timeout    QueryTimeoutError
    429                         ThrottledError (retry_after from Retry-After)
    5xx, no connection, token   WorkspaceUnavailableError
    204 (empty workspace)       an empty QueryResult, no columns

Values are normalised by bot.workspace.wire_values. A 204 surfaces from the SDK
as a json.JSONDecodeError, which is told apart from an unreadable error body by
the status the pipeline actually received.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Final, Literal

from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseTimeoutError,
)
from azure.core.pipeline import PipelineResponse
from azure.core.pipeline.policies import AsyncRetryPolicy
from azure.core.pipeline.transport import AsyncHttpTransport
from azure.monitor.query import LogsQueryError, LogsQueryPartialResult, LogsQueryResult
from azure.monitor.query.aio import LogsQueryClient

from bot.errors import (
    ConfigError,
    QueryError,
    QueryTimeoutError,
    ThrottledError,
    WorkspaceError,
    WorkspaceUnavailableError,
)
from bot.workspace.base import QueryResult, TimeSpan
from bot.workspace.wire_values import as_utc, convert_table

DEFAULT_ENDPOINT: Final = "https://api.loganalytics.io/v1"
CredentialKind = Literal["default", "cli", "managed_identity"]

_LOG = logging.getLogger(__name__)
_MAX_SERVER_TIMEOUT: Final = 600  # the service's own ceiling (10 minutes)
_READ_MARGIN: Final = 30.0  # seconds on top of server_timeout before we stop waiting
_CONNECT_TIMEOUT: Final = 10.0
_LINE_POS = re.compile(r"on line \[(?P<line>\d+),(?P<pos>\d+)\]")


class AzureWorkspace:
    """A Workspace backed by one Log Analytics workspace."""

    def __init__(
        self,
        *,
        workspace_id: str,
        credential: AsyncTokenCredential,
        endpoint: str = DEFAULT_ENDPOINT,
        server_timeout: int = 180,
        max_retries: int = 3,
        retry_backoff_factor: float = 0.8,
        max_retry_wait: float = 30.0,
        transport: AsyncHttpTransport[Any, Any] | None = None,
    ) -> None:
        """`server_timeout` (1-600 s) is sent as `Prefer: wait=`; `max_retries` and
        `retry_backoff_factor` configure the SDK's retry policy, which sleeps through a
        429's Retry-After only up to `max_retry_wait` seconds (longer waits come back as
        ThrottledError at once, so a scheduler slot is not blocked for minutes).
        `transport` replaces the aiohttp transport (tests)."""
        if not 1 <= server_timeout <= _MAX_SERVER_TIMEOUT:
            raise ValueError(
                f"server_timeout must be 1..{_MAX_SERVER_TIMEOUT} s, not {server_timeout}"
            )
        self._workspace_id = workspace_id
        self._credential = credential
        self._endpoint = endpoint
        self._server_timeout = server_timeout
        retry_policy = _RetryPolicy(
            max_retry_wait=max_retry_wait,
            retry_total=max_retries,
            retry_status=max_retries,
            retry_backoff_factor=retry_backoff_factor,
        )
        options: dict[str, Any] = {"retry_policy": retry_policy}
        if transport is not None:
            options["transport"] = transport
        self._client = LogsQueryClient(credential, endpoint=endpoint, **options)
        # The bearer-token policy refuses plain http unless told per call (loopback tests).
        self._plain_http = endpoint.lower().startswith("http://")

    async def query(self, kql: str, *, timespan: TimeSpan) -> QueryResult:
        sdk_timespan = _sdk_timespan(timespan)
        seen = _LastResponse()
        started = time.monotonic()
        try:
            answer = await self._client.query_workspace(
                self._workspace_id,
                kql,
                timespan=sdk_timespan,
                server_timeout=self._server_timeout,
                include_visualization=True,
                **self._call_options(seen),
            )
        except json.JSONDecodeError as error:
            return self._undecodable(seen, error, started)
        except HttpResponseError as error:
            response = error.response if error.response is not None else seen.response
            raise self._http_error(response, error) from error
        except AzureError as error:
            raise self._transport_error(error) from error
        return _to_query_result(answer, elapsed_ms=_elapsed_ms(started))

    async def close(self) -> None:
        """Close the HTTP client and the credential (both are ours from construction on)."""
        await self._client.close()
        await self._credential.close()

    async def __aenter__(self) -> AzureWorkspace:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def _call_options(self, seen: _LastResponse) -> dict[str, Any]:
        options: dict[str, Any] = {
            "raw_response_hook": seen,
            "read_timeout": self._server_timeout + _READ_MARGIN,
            "connection_timeout": _CONNECT_TIMEOUT,
        }
        if self._plain_http:
            options["enforce_https"] = False
        return options

    def _undecodable(self, seen: _LastResponse, error: ValueError, started: float) -> QueryResult:
        """204 is how the service says "nothing here"; anything else is a broken answer."""
        if seen.response is not None and seen.response.status_code == 204:
            return QueryResult(columns=(), rows=(), elapsed_ms=_elapsed_ms(started))
        if seen.response is not None and seen.response.status_code >= 400:
            raise self._http_error(seen.response, error) from error
        raise WorkspaceUnavailableError(
            f"Log Analytics at {self._endpoint} sent an answer that is not JSON"
        ) from error

    def _http_error(self, response: Any, error: Exception) -> WorkspaceError:
        if response is None:  # the credential failed before any request was sent
            return WorkspaceUnavailableError(f"could not get a token for Log Analytics: {error}")
        said = _read_server_error(response)
        return _error_for(
            said, workspace_id=self._workspace_id, server_timeout=self._server_timeout
        )

    def _transport_error(self, error: AzureError) -> WorkspaceError:
        if isinstance(error, ServiceResponseTimeoutError):
            return QueryTimeoutError(
                f"no answer from Log Analytics within {self._server_timeout + _READ_MARGIN:g} s"
            )
        if isinstance(error, ServiceRequestError):
            return WorkspaceUnavailableError(
                f"cannot reach Log Analytics at {self._endpoint}: {error.message}"
            )
        return WorkspaceUnavailableError(f"Log Analytics request failed: {error.message}")


def build_credential(
    kind: CredentialKind, managed_identity_client_id: str | None = None
) -> AsyncTokenCredential:
    """The azure.identity credential for `kind`; a client id selects a user-assigned identity."""
    from azure.identity.aio import (
        AzureCliCredential,
        DefaultAzureCredential,
        ManagedIdentityCredential,
    )

    if kind == "default":
        return DefaultAzureCredential(managed_identity_client_id=managed_identity_client_id)
    if kind == "managed_identity":
        return ManagedIdentityCredential(client_id=managed_identity_client_id)
    if managed_identity_client_id is not None:
        raise ConfigError(["a managed identity client id makes no sense with the 'cli' credential"])
    return AzureCliCredential()


class _RetryPolicy(AsyncRetryPolicy):  # type: ignore[type-arg]
    """The SDK's retry policy with two exceptions: a 504 is not retried (the server
    already spent `server_timeout` on the query; retrying multiplies that), and a
    Retry-After beyond `max_retry_wait` is handed to the caller instead of slept."""

    def __init__(self, *, max_retry_wait: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._max_retry_wait = max_retry_wait

    def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:
        if response.http_response.status_code == 504:
            return False
        retry_after = self.get_retry_after(response)
        if retry_after is not None and retry_after > self._max_retry_wait:
            return False
        return bool(super().is_retry(settings, response))


class _LastResponse:
    """Per-call `raw_response_hook`: remembers the last HTTP response the pipeline saw."""

    def __init__(self) -> None:
        self.response: Any = None

    def __call__(self, pipeline_response: PipelineResponse[Any, Any]) -> None:
        self.response = pipeline_response.http_response


@dataclass(frozen=True, slots=True)
class _ServerError:
    status: int
    code: str
    message: str
    line: int | None = None
    column: int | None = None
    retry_after: float | None = None


def _error_for(said: _ServerError, *, workspace_id: str, server_timeout: int) -> WorkspaceError:
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


def _read_server_error(response: Any) -> _ServerError:
    """The OneAPI error body: the innermost message says the most; the syntax
    error's innermost level carries `line` (1-based) and `pos` (0-based)."""
    status = int(response.status_code)
    retry_after = _retry_after(response.headers.get("Retry-After"))
    body = _json_or_none(_text(response))
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        reason = getattr(response, "reason", None) or "no error details"
        return _ServerError(status, str(reason), "", retry_after=retry_after)
    levels = [error]
    while isinstance(levels[-1].get("innererror"), dict):
        levels.append(levels[-1]["innererror"])
    message = next(
        (str(level["message"]) for level in reversed(levels) if level.get("message")), ""
    )
    line, column = _position(levels, message)
    return _ServerError(status, str(error.get("code", "")), message, line, column, retry_after)


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


def _retry_after(header: str | None) -> float | None:
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


def _sdk_timespan(timespan: TimeSpan) -> timedelta | tuple[datetime, datetime] | None:
    if timespan is None:
        return None
    if isinstance(timespan, timedelta):
        # The SDK turns a zero duration into "no timespan at all": refuse it here.
        if timespan <= timedelta(0):
            raise ValueError(f"timespan must be a positive duration, not {timespan}")
        return timespan
    start, end = timespan
    return (as_utc(start), as_utc(end))


def _to_query_result(
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


def _elapsed_ms(started: float) -> float:
    return (time.monotonic() - started) * 1000.0
