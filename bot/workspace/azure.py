"""The Azure workspace: KQL run on a Log Analytics workspace through azure-monitor-query.

Errors, mapped from what the service (or the network) said after the SDK's own retries,
the same for a query sent alone and for one answered inside a $batch:

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

Every query, evaluation or chat, goes through one Coalescer (bot.workspace.coalescer) and
one QueryLimiter (bot.workspace.query_limiter). Queries that arrive within `batch_window`
of each other (rules due in the same tick) go out as one `LogsQueryClient.query_batch`
(POST /v1/$batch) of up to `max_batch`; a query that arrives alone goes out as today,
through `query_workspace`, so an idle chat question never waits for a batch. How a batch is
sent and read: bot.workspace.azure_batch.

Skipping a rule whose result cannot have changed is not done, because it cannot be proved
here: Log Analytics ingests late (minutes, sometimes hours; TimeGenerated is when the event
happened, not when it arrived), so rows can land in a window that was already queried, and
a window ending "now" moves on every tick. Neither the query API nor the SDK offers a
"changed since" marker or ETag for a query's result to compare against. The only cases that
are provable (the same query over the same window, e.g. a replayed slot) are already
handled by the store, which lets one evaluation per (rule, slot) commit.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
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
from azure.monitor.query.aio import LogsQueryClient

from bot.errors import (
    ConfigError,
    QueryTimeoutError,
    ThrottledError,
    WorkspaceError,
    WorkspaceUnavailableError,
)
from bot.workspace.azure_answers import (
    elapsed_ms,
    error_for,
    read_server_error,
    sdk_timespan,
    to_query_result,
)
from bot.workspace.azure_batch import DEFAULT_BATCH, MAX_BATCH, batch_queries, read_batch
from bot.workspace.base import QueryResult, TimeSpan
from bot.workspace.coalescer import Coalescer, PendingQuery
from bot.workspace.query_limiter import QueryLimiter

DEFAULT_ENDPOINT: Final = "https://api.loganalytics.io/v1"
CredentialKind = Literal["default", "cli", "managed_identity"]

_MAX_SERVER_TIMEOUT: Final = 600  # the service's own ceiling (10 minutes)
_READ_MARGIN: Final = 30.0  # seconds on top of server_timeout before we stop waiting
_CONNECT_TIMEOUT: Final = 10.0
#: How long the first query of a batch waits for others to join it.
DEFAULT_BATCH_WINDOW: Final = 0.03


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
        max_batch: int = DEFAULT_BATCH,
        batch_window: float = DEFAULT_BATCH_WINDOW,
        limiter: QueryLimiter | None = None,
        transport: AsyncHttpTransport[Any, Any] | None = None,
    ) -> None:
        """`server_timeout` (1-600 s) is sent as `Prefer: wait=`; `max_retries` and
        `retry_backoff_factor` configure the SDK's retry policy, which sleeps through a
        429's Retry-After only up to `max_retry_wait` seconds (longer waits come back as
        ThrottledError at once, so a scheduler slot is not blocked for minutes).
        `max_batch` queries at most go in one $batch (1: never batch); `limiter` is the
        principal's budget (default: the documented limits). `transport` replaces the
        aiohttp transport (tests)."""
        if not 1 <= server_timeout <= _MAX_SERVER_TIMEOUT:
            raise ValueError(
                f"server_timeout must be 1..{_MAX_SERVER_TIMEOUT} s, not {server_timeout}"
            )
        if not 1 <= max_batch <= MAX_BATCH:
            raise ValueError(f"max_batch must be 1..{MAX_BATCH}, not {max_batch}")
        self._workspace_id = workspace_id
        self._credential = credential
        self._endpoint = endpoint
        self._server_timeout = server_timeout
        self._max_retries = max_retries
        self._max_retry_wait = max_retry_wait
        self.limiter = limiter or QueryLimiter()
        retry_policy = _RetryPolicy(
            max_retry_wait=max_retry_wait,
            on_throttled=self.limiter.hold,
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
        self._coalescer = Coalescer(
            send=self._send, place=self.limiter.place, max_batch=max_batch, window=batch_window
        )

    async def query(self, kql: str, *, timespan: TimeSpan) -> QueryResult:
        sdk_timespan(timespan)  # a zero duration is refused here, before it is queued
        return await self._coalescer.query(kql, timespan=timespan)

    async def close(self) -> None:
        """Close the HTTP client and the credential (both are ours from construction on)."""
        await self._coalescer.close()
        await self._client.close()
        await self._credential.close()

    async def __aenter__(self) -> AzureWorkspace:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def _send(self, batch: Sequence[PendingQuery]) -> None:
        """One HTTP request for `batch` (its place in the limiter is already held)."""
        async with self.limiter.spending(len(batch)):
            if len(batch) == 1:
                await self._send_one(batch[0])
                return
            answers = await self._query_batch(batch)
        for item, answer in zip(batch, answers, strict=True):
            wait = self._retry_wait(item, answer)
            if wait is not None:
                self.limiter.hold(wait)
                self._coalescer.retry(item)
            else:
                _settle(item, answer)

    async def _send_one(self, item: PendingQuery) -> None:
        try:
            _settle(item, await self._query_one(item.kql, item.timespan))
        except Exception as error:
            _settle(item, error)

    async def _query_one(self, kql: str, timespan: TimeSpan) -> QueryResult:
        seen = _LastResponse()
        started = time.monotonic()
        try:
            answer = await self._client.query_workspace(
                self._workspace_id,
                kql,
                timespan=sdk_timespan(timespan),
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
        return to_query_result(answer, elapsed_ms=elapsed_ms(started))

    async def _query_batch(
        self, batch: Sequence[PendingQuery]
    ) -> list[QueryResult | WorkspaceError]:
        """Each query's answer from one $batch; a failure of the whole batch is every one's."""
        seen = _LastResponse()
        started = time.monotonic()
        queries = batch_queries(
            self._workspace_id,
            [(item.kql, sdk_timespan(item.timespan)) for item in batch],
            server_timeout=self._server_timeout,
        )
        try:
            answers = await self._client.query_batch(queries, **self._call_options(seen))
        except (HttpResponseError, json.JSONDecodeError) as error:
            response = getattr(error, "response", None) or seen.response
            return [self._http_error(response, error)] * len(batch)
        except AzureError as error:
            return [self._transport_error(error)] * len(batch)
        return read_batch(
            queries,
            answers,
            seen.response,
            workspace_id=self._workspace_id,
            server_timeout=self._server_timeout,
            elapsed_ms=elapsed_ms(started),
        )

    def _retry_wait(self, item: PendingQuery, answer: QueryResult | WorkspaceError) -> float | None:
        """A query throttled inside a batch is sent again, as the SDK's retry policy would
        send a throttled request: after its Retry-After, if that is short enough."""
        if not isinstance(answer, ThrottledError) or answer.retry_after is None:
            return None
        if answer.retry_after > self._max_retry_wait or item.attempts >= self._max_retries:
            return None
        return answer.retry_after

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
            return QueryResult(columns=(), rows=(), elapsed_ms=elapsed_ms(started))
        if seen.response is not None and seen.response.status_code >= 400:
            raise self._http_error(seen.response, error) from error
        raise WorkspaceUnavailableError(
            f"Log Analytics at {self._endpoint} sent an answer that is not JSON"
        ) from error

    def _http_error(self, response: Any, error: Exception) -> WorkspaceError:
        if response is None:  # the credential failed before any request was sent
            return WorkspaceUnavailableError(f"could not get a token for Log Analytics: {error}")
        if not isinstance(error, HttpResponseError) and response.status_code < 400:
            return WorkspaceUnavailableError(
                f"Log Analytics at {self._endpoint} sent an answer that is not JSON"
            )
        said = read_server_error(response)
        return error_for(said, workspace_id=self._workspace_id, server_timeout=self._server_timeout)

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


def _settle(item: PendingQuery, answer: QueryResult | Exception) -> None:
    if item.future.done():  # its caller gave up waiting
        return
    if isinstance(answer, Exception):
        item.future.set_exception(answer)
    else:
        item.future.set_result(answer)


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
    Retry-After beyond `max_retry_wait` is handed to the caller instead of slept. Every
    Retry-After is also passed to `on_throttled` (the limiter holds other requests back)."""

    def __init__(
        self, *, max_retry_wait: float, on_throttled: Callable[[float], None], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._max_retry_wait = max_retry_wait
        self._on_throttled = on_throttled

    def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:
        if response.http_response.status_code == 504:
            return False
        retry_after = self.get_retry_after(response)
        if retry_after is not None and response.http_response.status_code == 429:
            self._on_throttled(retry_after)
        if retry_after is not None and retry_after > self._max_retry_wait:
            return False
        return bool(super().is_retry(settings, response))


class _LastResponse:
    """Per-call `raw_response_hook`: remembers the last HTTP response the pipeline saw."""

    def __init__(self) -> None:
        self.response: Any = None

    def __call__(self, pipeline_response: PipelineResponse[Any, Any]) -> None:
        self.response = pipeline_response.http_response
