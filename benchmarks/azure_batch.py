"""Evaluation cycles on Azure, before and after batching: N rules due at once, evaluated
through the real azure-monitor-query SDK against the local Log Analytics API server, which
enforces the user query limits (5 at once, 200 queued, 200 queries per 30 s) and answers
each query after `--latency` seconds. Prints a table: rules, mode, HTTP requests, 429
answers, failed rules, seconds per cycle.

    .venv/bin/python -m benchmarks.azure_batch --rules 13 100 1000

before: each query alone, 5 at a time (the runner's semaphore), no rate limiter;
after:  queries coalesced into $batch requests of 10, 50 evaluations waiting at once,
        every request through the shared QueryLimiter.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from bot.alerts.runner import evaluate_cycle
from bot.alerts.state import QueryFailure
from bot.workspace.azure import AzureWorkspace
from bot.workspace.base import Column, QueryResult, TimeSpan
from bot.workspace.query_limiter import QueryLimiter
from tests.alerts.builders import T0, make_rule
from tests.support.loganalytics_limits import Limits
from tests.support.loganalytics_server import create_loganalytics_app, serve_loganalytics

WORKSPACE_ID = "5ef3be57-f45f-451a-88c4-68a7fda680bb"
TOKEN = "bench-token-not-a-secret"


class CountWorkspace:
    async def query(self, kql: str, *, timespan: TimeSpan) -> QueryResult:
        return QueryResult(columns=[Column("Count", "long")], rows=[[len(kql) % 3]], elapsed_ms=1)

    async def close(self) -> None:
        return None


class Token:
    async def get_token(self, *_: str, **__: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(TOKEN, int(time.time()) + 3600)

    async def close(self) -> None:
        return None


async def cycle(rules: int, mode: str, latency: float, window: float) -> list[str]:
    app = create_loganalytics_app(CountWorkspace(), workspace_id=WORKSPACE_ID, expected_token=TOKEN)
    async with serve_loganalytics(app) as server:
        gate = server.controls.enforce(Limits(window=window))
        server.controls.delay = latency
        batched = mode == "after"
        workspace = AzureWorkspace(
            workspace_id=WORKSPACE_ID,
            credential=Token(),  # type: ignore[arg-type]
            endpoint=server.endpoint,
            max_batch=10 if batched else 1,
            limiter=QueryLimiter(window=window) if batched else QueryLimiter(rate=None),
        )
        rule_set = [
            make_rule(id=f"rule-{n:04d}", query=f"AADProvisioningLogs | where n == {n}")
            for n in range(rules)
        ]
        started = time.monotonic()
        try:
            result = await evaluate_cycle(
                rule_set, workspace, at=T0, concurrency=50 if batched else 5
            )
        finally:
            await workspace.close()
        seconds = time.monotonic() - started
    failed = sum(isinstance(e.outcome, QueryFailure) for e in result.evaluations)
    return [
        str(rules),
        mode,
        str(len(server.controls.requests)),
        str(gate.stats.throttled),
        str(failed),
        f"{seconds:.1f}",
    ]


async def main(rules: list[int], latency: float, window: float) -> None:
    header = ["rules", "mode", "requests", "429s", "failed", "seconds"]
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for count in rules:
        for mode in ("before", "after"):
            print(" | ".join(await cycle(count, mode, latency, window)), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, nargs="+", default=[13, 100, 1000])
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per query")
    parser.add_argument("--window", type=float, default=30.0, help="rate window (s)")
    args = parser.parse_args()
    asyncio.run(main(args.rules, args.latency, args.window))
