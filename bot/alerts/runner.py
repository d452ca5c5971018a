"""One evaluation of rules against a workspace: bind, query the window, step the state.

A partial result counts as a failed query: no alert opens or resolves on part of the data.

The alert pipeline (bot.alerts.pipeline) runs one rule's `run_query` per scheduler tick;
`evaluate_cycle` runs every rule once (for `alertbot evaluate`), queries concurrently and
steps in rule order. A rule's window is [at - window, at); the workspace evaluates `ago()`
and `now()` at `at`, so evaluating "as of" a past time behaves as it would have then.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.alerts.binding import BindingError, bind
from bot.alerts.rule_model import Rule
from bot.alerts.state import EngineState, IdAllocator, QueryFailure, StepResult, step
from bot.errors import WorkspaceError
from bot.workspace.base import QueryResult, Workspace

#: Log Analytics runs at most 5 concurrent queries per principal.
DEFAULT_CONCURRENCY = 5


@dataclass(frozen=True, slots=True)
class RuleEvaluation:
    rule: Rule
    at: datetime
    outcome: QueryResult | QueryFailure
    result: StepResult


@dataclass(frozen=True, slots=True)
class CycleResult:
    at: datetime
    state: EngineState
    evaluations: list[RuleEvaluation]


async def run_query(
    rule: Rule, workspace: Workspace, *, at: datetime
) -> QueryResult | QueryFailure:
    """The rule's bound query over [at - window, at); a failure is returned, not raised."""
    try:
        bound = bind(rule.query, rule.parameters)
        result = await workspace.query(bound.text, timespan=(at - rule.window, at))
    except BindingError as error:
        return QueryFailure(f"parameter binding failed: {error}", kind="binding")
    except WorkspaceError as error:
        return QueryFailure(str(error), retryable=error.retryable, kind=type(error).__name__)
    if result.partial_error:
        # Deciding on part of the data could resolve or open alerts wrongly.
        message = f"partial result: {result.partial_error}"
        return QueryFailure(message, retryable=True, kind="partial")
    return result


async def evaluate_cycle(
    rules: Sequence[Rule],
    workspace: Workspace,
    *,
    at: datetime,
    state: EngineState | None = None,
    new_id: IdAllocator | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    replay_failing_periods: bool = True,
) -> CycleResult:
    """Every enabled rule once at `at`.

    With `replay_failing_periods` (and a fresh state) a rule that needs N of M
    failing evaluations is first evaluated at the M - 1 earlier times it would have
    run, so the answer is the one a running engine would give at `at`.
    """
    current = state or EngineState()
    allocate = new_id or itertools.count(1).__next__
    enabled = [rule for rule in rules if rule.enabled]
    if replay_failing_periods and state is None:
        current = await _replay(enabled, workspace, current, at, allocate, concurrency)
    outcomes = await _gather(enabled, workspace, [at] * len(enabled), concurrency)
    evaluations = []
    for rule, outcome in zip(enabled, outcomes, strict=True):
        result = step(rule, outcome, current, now=at, new_id=allocate)
        current = result.state
        evaluations.append(RuleEvaluation(rule, at, outcome, result))
    return CycleResult(at=at, state=current, evaluations=evaluations)


async def _replay(
    rules: Sequence[Rule],
    workspace: Workspace,
    state: EngineState,
    at: datetime,
    new_id: IdAllocator,
    concurrency: int,
) -> EngineState:
    earlier = [
        (rule, at - rule.frequency * back)
        for rule in rules
        for back in range(rule.failing_periods.evaluations - 1, 0, -1)
    ]
    outcomes = await _gather(
        [r for r, _ in earlier], workspace, [t for _, t in earlier], concurrency
    )
    for (rule, when), outcome in zip(earlier, outcomes, strict=True):
        state = step(rule, outcome, state, now=when, new_id=new_id).state
    return state


async def _gather(
    rules: Sequence[Rule], workspace: Workspace, times: Sequence[datetime], concurrency: int
) -> list[QueryResult | QueryFailure]:
    limit = asyncio.Semaphore(concurrency)

    async def one(rule: Rule, at: datetime) -> QueryResult | QueryFailure:
        async with limit:
            return await run_query(rule, workspace, at=at)

    return list(await asyncio.gather(*(one(r, t) for r, t in zip(rules, times, strict=True))))
