"""Batched evaluation on Azure: rules due together go out as Log Analytics $batch requests
(through the real azure-monitor-query SDK, against the local Log Analytics API server),
read back exactly as queries sent alone, within the principal's limits."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from bot.alerts.rule_model import Rule
from bot.alerts.runner import evaluate_cycle
from bot.alerts.state import QueryFailure
from bot.errors import QueryError, QueryTimeoutError
from bot.workspace.azure import AzureWorkspace
from bot.workspace.base import Column, QueryResult, TimeSpan
from bot.workspace.query_limiter import QueryLimiter
from tests.alerts.builders import T0, make_rule
from tests.support.loganalytics_limits import Limits
from tests.support.loganalytics_server import RunningServer
from tests.workspace.conftest import StartServer
from tests.workspace.test_azure import StaticCredential


class EchoWorkspace:
    """The backend: one row saying which query and window it answered; `errors` by query."""

    def __init__(self) -> None:
        self.errors: dict[str, Exception] = {}
        self.partial: set[str] = set()
        self.calls: list[tuple[str, TimeSpan]] = []

    async def query(self, kql: str, *, timespan: TimeSpan) -> QueryResult:
        self.calls.append((kql, timespan))
        if kql in self.errors:
            raise self.errors[kql]
        start = timespan[0] if isinstance(timespan, tuple) else None
        return QueryResult(
            columns=[Column("Query", "string"), Column("From", "datetime"), Column("N", "long")],
            rows=[[kql, start, len(kql)]],
            elapsed_ms=1.0,
            partial_error="the result was cut" if kql in self.partial else None,
        )

    async def close(self) -> None:
        return None


Connect = Callable[..., AzureWorkspace]


@pytest.fixture
def backend() -> EchoWorkspace:
    return EchoWorkspace()


@pytest.fixture
async def server(start_loganalytics_server: StartServer, backend: EchoWorkspace) -> RunningServer:
    return await start_loganalytics_server(backend)


@pytest.fixture
async def connect(server: RunningServer) -> AsyncIterator[Connect]:
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


def rules(count: int, *, special: dict[int, str] | None = None) -> list[Rule]:
    """`count` rules with different queries and windows (5, 10 or 15 minutes)."""
    queries = {n: f"AADProvisioningLogs | where Rule == {n}" for n in range(count)}
    queries.update(special or {})
    return [
        make_rule(id=f"rule-{n:03d}", query=queries[n], window=f"{5 * (1 + n % 3)}m")
        for n in range(count)
    ]


def outcomes(cycle: Any) -> list[Any]:
    """What a rule runner decides on: the rows, or the failure's kind and text."""
    seen = []
    for evaluation in cycle.evaluations:
        outcome = evaluation.outcome
        if isinstance(outcome, QueryFailure):
            seen.append((evaluation.rule.id, outcome.kind, outcome.message, outcome.retryable))
        else:
            rows = [list(row) for row in outcome.rows]
            seen.append((evaluation.rule.id, list(outcome.columns), rows, outcome.render))
    return seen


async def evaluate(rule_set: list[Rule], workspace: AzureWorkspace) -> list[Any]:
    cycle = await evaluate_cycle(rule_set, workspace, at=T0, concurrency=len(rule_set))
    return outcomes(cycle)


async def test_fifty_rules_due_at_once_take_five_batches_with_the_same_results(
    connect: Connect, server: RunningServer, backend: EchoWorkspace
) -> None:
    rule_set = rules(50)

    alone = await evaluate(rule_set, connect(max_batch=1))
    assert [r.path for r in server.controls.requests].count("/v1/$batch") == 0
    server.controls.requests.clear()
    backend.calls.clear()
    batched = await evaluate(rule_set, connect(max_batch=10))

    assert batched == alone
    assert all(not isinstance(outcome[1], str) for outcome in batched)  # no failures
    sent = server.controls.requests
    assert len(sent) <= math.ceil(50 / 10)
    assert {request.path for request in sent} == {"/v1/$batch"}
    windows = dict(backend.calls)
    for rule in rule_set:  # each query kept its own window
        assert windows[rule.query] == (T0 - rule.window, T0)


async def test_one_failing_query_fails_only_its_rule(
    connect: Connect, server: RunningServer, backend: EchoWorkspace
) -> None:
    rule_set = rules(12, special={3: "Broken | whre x", 7: "AADProvisioningLogs | cut"})
    backend.errors["Broken | whre x"] = QueryError("mismatched input 'whre'", line=1, column=10)
    backend.partial.add("AADProvisioningLogs | cut")

    alone = await evaluate(rule_set, connect(max_batch=1))
    server.controls.requests.clear()
    batched = await evaluate(rule_set, connect(max_batch=12))

    assert batched == alone
    assert [r.path for r in server.controls.requests] == ["/v1/$batch"]
    failed = {outcome[0]: outcome[1] for outcome in batched if isinstance(outcome[1], str)}
    assert failed == {"rule-003": "QueryError", "rule-007": "partial"}


async def test_a_query_that_runs_out_of_time_fails_alone(
    connect: Connect, server: RunningServer
) -> None:
    server.controls.delays["Slow"] = 3.0
    workspace = connect(server_timeout=1, max_batch=5)
    window = (T0 - timedelta(minutes=5), T0)

    answers = await asyncio.gather(
        *(workspace.query(kql, timespan=window) for kql in ["A", "Slow", "B"]),
        return_exceptions=True,
    )

    assert isinstance(answers[1], QueryTimeoutError)
    assert "limit 1 s" in str(answers[1])
    assert [type(answer) for answer in (answers[0], answers[2])] == [QueryResult, QueryResult]
    assert [r.path for r in server.controls.requests] == ["/v1/$batch"]
    with pytest.raises(QueryTimeoutError, match="limit 1 s"):  # as when sent alone
        await connect(server_timeout=1, max_batch=1).query("Slow", timespan=window)


async def test_queries_throttled_inside_a_batch_are_sent_again_after_retry_after(
    connect: Connect, server: RunningServer
) -> None:
    gate = server.controls.enforce(Limits(rate=6, window=1.0))
    unlimited = QueryLimiter(rate=None)
    workspace = connect(max_batch=10, limiter=unlimited, max_retry_wait=5.0, max_retries=3)
    window = (T0 - timedelta(minutes=5), T0)

    answers = await asyncio.gather(*(workspace.query(f"Q{n}", timespan=window) for n in range(10)))

    assert [answer.rows[0][0] for answer in answers] == [f"Q{n}" for n in range(10)]
    assert gate.stats.throttled == 4  # the first batch: 6 answered, 4 told to come back
    assert len(server.controls.requests) == 2


async def test_a_limiter_with_the_servers_limits_earns_no_429(
    connect: Connect, server: RunningServer
) -> None:
    gate = server.controls.enforce(Limits(rate=6, window=1.0))
    workspace = connect(max_batch=3, limiter=QueryLimiter(rate=6, window=1.0))
    window = (T0 - timedelta(minutes=5), T0)

    answers = await asyncio.gather(*(workspace.query(f"Q{n}", timespan=window) for n in range(15)))

    assert len(answers) == 15
    assert gate.stats.throttled == 0
    assert gate.stats.queries == 15


@pytest.mark.parametrize(
    ("limiter", "within_limits"),
    [(QueryLimiter, True), (lambda: QueryLimiter(max_concurrent=50, rate=None), False)],
    ids=["shared-limiter", "no-limiter"],
)
async def test_chat_and_evaluations_in_a_burst_stay_within_five_at_once(
    connect: Connect,
    server: RunningServer,
    limiter: Callable[[], QueryLimiter],
    within_limits: bool,
) -> None:
    gate = server.controls.enforce(Limits(concurrent=5, queue=10, rate=200, window=30))
    server.controls.delay = 0.05
    workspace = connect(max_batch=1, limiter=limiter())
    window = (T0 - timedelta(minutes=5), T0)

    async def chat(n: int) -> QueryResult:
        await asyncio.sleep(0.01 * n)
        return await workspace.query(f"chat {n}", timespan=window)

    evaluations = [workspace.query(f"rule {n}", timespan=window) for n in range(40)]
    answers = await asyncio.gather(
        *evaluations, *(chat(n) for n in range(10)), return_exceptions=True
    )

    assert (gate.stats.peak_requests <= 5) is within_limits
    assert (gate.stats.throttled == 0) is within_limits
    if within_limits:
        assert all(isinstance(answer, QueryResult) for answer in answers)
        assert workspace.limiter.max_in_flight <= 5


async def test_the_batch_endpoint_answers_as_documented(server: RunningServer) -> None:
    """ "Batch queries": answers by id in any order, a 204 with a reason, a bad path a 404,
    and duplicate ids fail the whole batch."""
    server.controls.delays["slow"] = 0.2
    item: dict[str, Any] = {"method": "POST", "path": "/query", "workspace": server.workspace_id}
    requests = [
        {**item, "id": "1", "body": {"query": "slow", "timespan": "PT1H"}},
        {**item, "id": "2", "body": {"query": "fast", "timespan": "PT1H"}},
        {**item, "id": "3", "path": "/fakePath", "body": {"query": "x"}},
    ]
    headers = {"Authorization": f"Bearer {server.token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(f"{server.endpoint}/$batch", json={"requests": requests}) as reply:
            answered = (await reply.json())["responses"]
        duplicate = {"requests": [requests[1], requests[1]]}
        async with http.post(f"{server.endpoint}/$batch", json=duplicate) as refused:
            refused_status = refused.status

    assert [(a["id"], a["status"]) for a in answered] == [("3", 404), ("2", 200), ("1", 200)]
    assert answered[0]["body"]["error"]["code"] == "PathNotFoundError"
    assert refused_status == 400
