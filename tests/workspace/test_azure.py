"""AzureWorkspace through the real azure-monitor-query SDK against a local Log Analytics API."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from azure.monitor.query import LogsBatchQuery, LogsQueryStatus
from azure.monitor.query.aio import LogsQueryClient

from bot.errors import (
    ConfigError,
    QueryError,
    QueryTimeoutError,
    ThrottledError,
    WorkspaceError,
    WorkspaceUnavailableError,
)
from bot.workspace.azure import AzureWorkspace, build_credential
from bot.workspace.base import Column, QueryResult, TimeSpan
from tests.support.loganalytics_server import Fault, RunningServer, partial_error, wire_value
from tests.workspace.conftest import StartServer

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
USER_ID = "8c7f0b8e-0000-4000-8000-00000000abcd"
SAMPLE = QueryResult(
    columns=[
        Column("TimeGenerated", "datetime"),
        Column("Duration", "timespan"),
        Column("Bytes", "long"),
        Column("Count", "int"),
        Column("Ratio", "real"),
        Column("Ok", "bool"),
        Column("UserId", "guid"),
        Column("TargetResources", "dynamic"),
        Column("Cost", "decimal"),
        Column("ActivityDisplayName", "string"),
    ],
    rows=[
        [
            datetime(2026, 3, 10, 11, 59, 58, 123456, tzinfo=UTC),
            timedelta(days=1, hours=2, minutes=3, seconds=4),
            2**40,
            7,
            0.25,
            True,
            USER_ID,
            [{"id": USER_ID, "modifiedProperties": [{"newValue": "[true]"}]}],
            Decimal("12.3400000000"),
            "Add member to group",
        ],
        [None] * 10,
    ],
    elapsed_ms=3.0,
)


class ScriptedWorkspace:
    """The backend behind the local server: answers `result` or raises `error`."""

    def __init__(self) -> None:
        self.result = SAMPLE
        self.error: Exception | None = None
        self.calls: list[tuple[str, TimeSpan]] = []

    async def query(self, kql: str, *, timespan: TimeSpan) -> QueryResult:
        self.calls.append((kql, timespan))
        if self.error is not None:
            raise self.error
        return self.result

    async def close(self) -> None:
        return None


class StaticCredential:
    """An AsyncTokenCredential that hands out one fixed token."""

    def __init__(self, token: str | None, *, fail: bool = False) -> None:
        self.token = token or ""
        self.fail = fail
        self.scopes: list[str] = []
        self.closed = False

    async def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        self.scopes.extend(scopes)
        if self.fail:
            raise ClientAuthenticationError("no identity is available on this machine")
        return AccessToken(self.token, int(time.time()) + 3600)

    async def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> StaticCredential:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


Connect = Callable[..., AzureWorkspace]


@pytest.fixture
def backend() -> ScriptedWorkspace:
    return ScriptedWorkspace()


@pytest.fixture
async def server(
    start_loganalytics_server: StartServer, backend: ScriptedWorkspace
) -> RunningServer:
    return await start_loganalytics_server(backend)


@pytest.fixture
async def connect(server: RunningServer) -> AsyncIterator[Connect]:
    """AzureWorkspace factory aimed at the local server, with fast retries."""
    opened: list[AzureWorkspace] = []

    def make(**overrides: Any) -> AzureWorkspace:
        options: dict[str, Any] = {
            "workspace_id": server.workspace_id,
            "credential": StaticCredential(server.token),
            "endpoint": server.endpoint,
            "server_timeout": 5,
            "max_retries": 2,
            "retry_backoff_factor": 0.01,
            **overrides,
        }
        opened.append(AzureWorkspace(**options))
        return opened[-1]

    yield make
    for workspace in opened:
        await workspace.close()


async def test_rows_arrive_typed_and_normalised(connect: Connect, server: RunningServer) -> None:
    credential = StaticCredential(server.token)
    result = await connect(credential=credential).query("AuditLogs", timespan=timedelta(hours=1))

    assert list(result.columns) == list(SAMPLE.columns)
    assert [list(row) for row in result.rows] == [list(row) for row in SAMPLE.rows]
    assert result.rows[0][0].tzinfo is UTC
    assert result.partial_error is None
    assert result.elapsed_ms > 0
    sent = server.controls.requests[-1]
    assert sent.path == f"/v1/workspaces/{server.workspace_id}/query"
    assert sent.headers["Authorization"] == f"Bearer {server.token}"
    assert sent.headers["Prefer"] == "wait=5,include-render=true"
    assert sent.body["query"] == "AuditLogs"
    assert credential.scopes == [f"{server.base_url}/.default"]


@pytest.mark.parametrize(
    ("timespan", "on_the_wire", "backend_got"),
    [
        (timedelta(hours=24), "PT86400.0S", timedelta(hours=24)),
        (
            (
                datetime(2026, 3, 1, tzinfo=timezone(timedelta(hours=2))),
                datetime(2026, 3, 2, 0, 0, 30),  # naive: taken as UTC
            ),
            "2026-02-28T22:00:00.000Z/2026-03-02T00:00:30.000Z",
            (datetime(2026, 2, 28, 22, tzinfo=UTC), datetime(2026, 3, 2, 0, 0, 30, tzinfo=UTC)),
        ),
        (None, None, None),
    ],
    ids=["duration", "interval", "none"],
)
async def test_timespan_reaches_the_server(
    connect: Connect,
    server: RunningServer,
    backend: ScriptedWorkspace,
    timespan: TimeSpan,
    on_the_wire: str | None,
    backend_got: TimeSpan,
) -> None:
    await connect().query("AuditLogs | count", timespan=timespan)

    assert server.controls.requests[-1].body["timespan"] == on_the_wire
    assert backend.calls == [("AuditLogs | count", backend_got)]


async def test_zero_duration_is_refused_before_the_sdk_drops_it(connect: Connect) -> None:
    with pytest.raises(ValueError, match="positive"):
        await connect().query("AuditLogs", timespan=timedelta(0))


async def test_empty_workspace_answers_204_and_gives_an_empty_result(
    connect: Connect, server: RunningServer, backend: ScriptedWorkspace
) -> None:
    backend.result = QueryResult(columns=(), rows=(), elapsed_ms=1.0)

    result = await connect().query("AuditLogs", timespan=timedelta(hours=1))

    assert server.controls.requests[-1].status == 204
    assert (list(result.columns), list(result.rows), result.partial_error) == ([], [], None)


async def test_wire_formats_the_sdk_leaves_raw_are_normalised(
    connect: Connect, server: RunningServer
) -> None:
    columns = ["datetime", "timespan", "timespan", "guid", "dynamic", "dynamic", "real", "decimal"]
    row = [
        "2026-03-10T11:59:58.1234567Z",
        "-00:00:01.5",
        None,
        None,
        "not json",
        '"quoted"',
        "NaN",
        "0.1000000000000000000001",
    ]
    table = {
        "name": "PrimaryResult",
        "columns": [{"name": f"c{i}", "type": kind} for i, kind in enumerate(columns)],
        "rows": [row],
    }
    server.controls.faults.append(Fault(200, body={"tables": [table]}))

    result = await connect().query("AuditLogs", timespan=None)

    values = list(result.rows[0])
    assert values[0] == datetime(2026, 3, 10, 11, 59, 58, 123456, tzinfo=UTC)
    assert values[1:6] == [-timedelta(seconds=1.5), None, None, "not json", "quoted"]
    assert values[6] != values[6]  # NaN
    assert values[7] == Decimal("0.1000000000000000000001")


def test_the_server_writes_values_as_log_analytics_does() -> None:
    moment = datetime(2026, 3, 10, 11, 59, 58, 120000, tzinfo=UTC)
    assert wire_value("datetime", moment) == "2026-03-10T11:59:58.12Z"
    assert wire_value("datetime", moment.replace(microsecond=0)) == "2026-03-10T11:59:58Z"
    assert wire_value("timespan", timedelta(days=1, hours=2, minutes=3, seconds=4)) == "1.02:03:04"
    assert wire_value("timespan", timedelta(minutes=5)) == "00:05:00"
    assert wire_value("dynamic", {"a": [1]}) == '{"a":[1]}'


async def test_syntax_error_carries_line_and_column(
    connect: Connect, server: RunningServer, backend: ScriptedWorkspace
) -> None:
    backend.error = QueryError("mismatched input 'whre'", line=2, column=3)

    with pytest.raises(QueryError) as caught:
        await connect().query("AuditLogs\n| whre x", timespan=None)

    assert (caught.value.line, caught.value.column) == (2, 3)
    assert caught.value.message == "Query could not be parsed at 'whre' on line [2,2]"
    assert not caught.value.retryable
    assert len(server.controls.requests) == 1


async def test_semantic_error_has_the_innermost_message(
    connect: Connect, backend: ScriptedWorkspace
) -> None:
    backend.error = QueryError("Failed to resolve column or scalar expression named 'Foo'")

    with pytest.raises(QueryError) as caught:
        await connect().query("AuditLogs | where Foo", timespan=None)

    assert caught.value.message == "Failed to resolve column or scalar expression named 'Foo'"
    assert caught.value.line is None


async def test_position_is_read_from_the_message_when_no_fields_carry_it(
    connect: Connect, server: RunningServer
) -> None:
    inner = {"code": "SYN0002", "message": "Query could not be parsed at 'Not' on line [1,3]"}
    error = {"code": "BadArgumentError", "message": "invalid", "innererror": inner}
    server.controls.faults.append(Fault(400, body={"error": error}))

    with pytest.raises(QueryError) as caught:
        await connect().query("My Not So Valid Query", timespan=None)

    assert (caught.value.line, caught.value.column) == (1, 4)


async def test_partial_error_comes_back_with_the_data(
    connect: Connect, server: RunningServer
) -> None:
    server.controls.partial_error = partial_error("the result was cut at 2 rows")

    result = await connect().query("AuditLogs", timespan=timedelta(hours=1))

    assert len(result.rows) == 2
    assert result.partial_error is not None
    assert result.partial_error.startswith("PartialError: ")
    assert result.partial_error.endswith("(the result was cut at 2 rows)")


async def test_render_information_is_passed_on(
    connect: Connect, backend: ScriptedWorkspace
) -> None:
    backend.result = QueryResult(
        columns=SAMPLE.columns, rows=SAMPLE.rows, elapsed_ms=1.0, render={"visualization": "pie"}
    )

    result = await connect().query("AuditLogs | render piechart", timespan=None)

    assert result.render == {"visualization": "pie"}


async def test_429_is_retried_after_retry_after(connect: Connect, server: RunningServer) -> None:
    server.controls.faults.append(Fault(429, "ThrottledError", "Too many requests", retry_after=1))
    started = time.monotonic()

    result = await connect().query("AuditLogs", timespan=timedelta(hours=1))

    assert time.monotonic() - started >= 0.95
    assert [request.status for request in server.controls.requests] == [429, 200]
    assert len(result.rows) == 2


async def test_429_that_persists_becomes_throttled_error(
    connect: Connect, server: RunningServer
) -> None:
    server.controls.always = Fault(429, "ThrottledError", "Too many requests", retry_after=1)

    with pytest.raises(ThrottledError) as caught:
        await connect(max_retries=1).query("AuditLogs", timespan=timedelta(hours=1))

    assert caught.value.retry_after == 1.0
    assert caught.value.retryable
    assert len(server.controls.requests) == 2


@pytest.mark.parametrize(
    ("retry_after", "expected"), [(120, 120.0), (None, None)], ids=["long", "absent"]
)
async def test_429_not_worth_waiting_for_here_returns_at_once(
    connect: Connect, server: RunningServer, retry_after: float | None, expected: float | None
) -> None:
    server.controls.always = Fault(429, "ThrottledError", "Too many requests", retry_after)

    with pytest.raises(ThrottledError) as caught:
        await connect().query("AuditLogs", timespan=timedelta(hours=1))

    assert caught.value.retry_after == expected
    assert len(server.controls.requests) == 1


async def test_server_timeout_becomes_query_timeout_and_is_not_retried(
    connect: Connect, server: RunningServer
) -> None:
    server.controls.delay = 3.0

    with pytest.raises(QueryTimeoutError, match="limit 1 s"):
        await connect(server_timeout=1).query("AuditLogs", timespan=timedelta(hours=1))

    assert server.controls.requests[-1].headers["Prefer"].startswith("wait=1,")
    assert [request.status for request in server.controls.requests] == [504]


async def test_refused_token_is_unavailable_and_not_echoed(
    connect: Connect, server: RunningServer
) -> None:
    with pytest.raises(WorkspaceUnavailableError) as caught:
        await connect(credential=StaticCredential("wrong-token")).query("AuditLogs", timespan=None)

    assert "401" in str(caught.value)
    assert "wrong-token" not in str(caught.value)
    assert [request.status for request in server.controls.requests] == [401]


@pytest.mark.parametrize(
    "fault",
    [
        Fault(403, "InsufficientAccessError", "The caller has no access to the workspace"),
        Fault(503, "ServiceUnavailableError", "Try again later"),
        Fault(502, text="<html><body>Bad gateway</body></html>"),
    ],
    ids=["403", "503-after-retries", "502-html-body"],
)
async def test_service_failures_are_unavailable(
    connect: Connect, server: RunningServer, fault: Fault
) -> None:
    server.controls.always = fault

    with pytest.raises(WorkspaceUnavailableError, match=f"HTTP {fault.status}"):
        await connect(max_retries=1).query("AuditLogs", timespan=None)


async def test_unknown_workspace_is_a_non_retryable_error(connect: Connect) -> None:
    with pytest.raises(WorkspaceError, match="not found") as caught:
        await connect(workspace_id="00000000-0000-0000-0000-000000000000").query(
            "AuditLogs", timespan=None
        )

    assert not caught.value.retryable


async def test_connection_refused_is_unavailable(connect: Connect) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workspace = connect(endpoint=f"http://127.0.0.1:{port}/v1")

    with pytest.raises(WorkspaceUnavailableError, match="cannot reach"):
        await workspace.query("AuditLogs", timespan=None)


async def test_credential_failure_is_unavailable(connect: Connect, server: RunningServer) -> None:
    workspace = connect(credential=StaticCredential(None, fail=True))

    with pytest.raises(WorkspaceUnavailableError, match="could not get a token"):
        await workspace.query("AuditLogs", timespan=None)

    assert server.controls.requests == []


async def test_close_closes_the_credential(server: RunningServer) -> None:
    credential = StaticCredential(server.token)
    workspace = AzureWorkspace(
        workspace_id=server.workspace_id, credential=credential, endpoint=server.endpoint
    )

    await workspace.close()

    assert credential.closed


async def test_batch_endpoint_answers_the_sdk(server: RunningServer) -> None:
    async with LogsQueryClient(StaticCredential(server.token), endpoint=server.endpoint) as client:
        answers = await client.query_batch(
            [LogsBatchQuery(server.workspace_id, "AuditLogs", timespan=timedelta(hours=1))],
            enforce_https=False,
        )

    assert [answer.status for answer in answers] == [LogsQueryStatus.SUCCESS]
    sent = server.controls.requests[-1]
    assert sent.path == "/v1/$batch"
    assert sent.body["requests"][0]["body"]["timespan"] == "PT3600.0S"


async def test_build_credential_picks_the_identity() -> None:
    from azure.identity.aio import (
        AzureCliCredential,
        DefaultAzureCredential,
        ManagedIdentityCredential,
    )

    expected = {
        "default": DefaultAzureCredential,
        "cli": AzureCliCredential,
        "managed_identity": ManagedIdentityCredential,
    }
    for kind, kind_type in expected.items():
        credential = build_credential(kind, None)  # type: ignore[arg-type]
        assert isinstance(credential, kind_type)
        await credential.close()
    with pytest.raises(ConfigError):
        build_credential("cli", "11111111-2222-3333-4444-555555555555")


async def test_same_answers_as_the_local_engine_directly(
    start_loganalytics_server: StartServer,
) -> None:
    local = pytest.importorskip("bot.workspace.local")
    duckdb_kql = pytest.importorskip("duckdb_kql")
    con = duckdb_kql.connect()
    local.create_tables(con)
    con.execute(
        "INSERT INTO raw.AuditLogs (TimeGenerated, ActivityDisplayName, DurationMs, InitiatedBy)"
        " VALUES (?, ?, ?, ?)",
        [NOW.replace(tzinfo=None) - timedelta(hours=1), "Add member to group", 42, '{"user": {}}'],
    )
    engine = local.LocalWorkspace(con, clock=lambda: NOW)
    server = await start_loganalytics_server(engine)
    workspace = AzureWorkspace(
        workspace_id=server.workspace_id,
        credential=StaticCredential(server.token),
        endpoint=server.endpoint,
    )
    kql = "AuditLogs | project TimeGenerated, ActivityDisplayName, DurationMs, InitiatedBy"
    try:
        window = (NOW - timedelta(days=1), NOW)
        direct = await engine.query(kql, timespan=window)
        remote = await workspace.query(kql, timespan=window)
        assert list(remote.columns) == list(direct.columns)
        assert [list(r) for r in remote.rows] == [list(r) for r in direct.rows]
        with pytest.raises(QueryError) as caught:
            await workspace.query("AuditLogs\n| whre x", timespan=window)
        with pytest.raises(QueryError) as expected:
            await engine.query("AuditLogs\n| whre x", timespan=window)
        assert (caught.value.line, caught.value.column) == (
            expected.value.line,
            expected.value.column,
        )
    finally:
        await workspace.close()
        await engine.close()
