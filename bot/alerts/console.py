"""What the `rules validate`, `rules list` and `evaluate` commands do, below argument parsing.

Each function prints to the given streams and returns an Outcome, which bot.cli
turns into the exit code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TextIO

from bot.alerts.kql_checks import OutputProbe
from bot.alerts.report import (
    ReportFormat,
    evaluation_error,
    render_check,
    render_evaluation,
    render_rule_list,
)
from bot.alerts.rules import CheckReport, check_rules
from bot.alerts.runner import CycleResult, evaluate_cycle
from bot.alerts.state import QueryFailure
from bot.workspace.base import Workspace


class Outcome(Enum):
    OK = "ok"
    #: A rule file or a rule's query is wrong.
    INVALID = "invalid"
    #: Bad usage, e.g. an unknown rule id.
    USAGE = "usage"
    #: The workspace could not answer some query; trying again may help.
    UNAVAILABLE = "unavailable"


def validate_rules(
    paths: Sequence[Path],
    *,
    probe: OutputProbe | None,
    out: TextIO,
    err: TextIO,
    engine_gaps_are_errors: bool = False,
) -> Outcome:
    """Check every rule file; print each problem and a summary.

    `probe` (from the composition side, which knows the embedded engine) lets the
    check learn each query's output columns; `engine_gaps_are_errors` when the
    rules run on that engine (the demo workspace).
    """
    report = check_rules(paths, probe=probe, engine_gaps_are_errors=engine_gaps_are_errors)
    print(render_check(report), file=err if report.errors else out)
    return Outcome.INVALID if report.errors else Outcome.OK


def list_rules(paths: Sequence[Path], *, out: TextIO, err: TextIO) -> Outcome:
    """The catalog as a table; problems (if any) go to `err`."""
    report = check_rules(paths)
    _print_errors(report, err)
    print(render_rule_list(report.rules), file=out)
    return Outcome.INVALID if report.errors else Outcome.OK


async def evaluate_rules(
    paths: Sequence[Path],
    open_workspace: Callable[[], AbstractAsyncContextManager[Workspace]],
    *,
    at: datetime,
    rule_id: str | None,
    output_format: ReportFormat,
    out: TextIO,
    err: TextIO,
) -> Outcome:
    """One evaluation cycle with a fresh state; notifies no one.

    The workspace is opened only once the rules are known to be valid.
    """
    report = check_rules(paths)
    if report.errors:
        _print_errors(report, err)
        return Outcome.INVALID
    rules = [loaded.rule for loaded in report.rules]
    if rule_id is not None:
        rules = [rule for rule in rules if rule.id == rule_id]
        if not rules:
            known = ", ".join(sorted(loaded.rule.id for loaded in report.rules))
            print(f"alertbot: no rule {rule_id!r}; rules are: {known}", file=err)
            return Outcome.USAGE
    async with open_workspace() as workspace:
        cycle = await evaluate_cycle(rules, workspace, at=at)
    print(render_evaluation(cycle, output_format), file=out)
    return _cycle_outcome(cycle)


def _cycle_outcome(cycle: CycleResult) -> Outcome:
    failed = [e for e in cycle.evaluations if evaluation_error(e) is not None]
    retryable = [e for e in failed if isinstance(e.outcome, QueryFailure) and e.outcome.retryable]
    if len(retryable) < len(failed):
        return Outcome.INVALID
    return Outcome.UNAVAILABLE if failed else Outcome.OK


def _print_errors(report: CheckReport, err: TextIO) -> None:
    for diagnostic in report.errors:
        print(diagnostic, file=err)
