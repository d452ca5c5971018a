"""One cycle against a workspace: the bound query, the window, failures, N-of-M replay."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.alerts.report import evaluation_document, render_evaluation
from bot.alerts.runner import evaluate_cycle, run_query
from bot.alerts.state import QueryFailure
from bot.errors import QueryError, ThrottledError, WorkspaceError
from bot.workspace.base import QueryResult, TimeSpan
from tests.alerts.builders import T0, make_rule, rows


@dataclass
class FakeWorkspace:
    """Answers from a script keyed by the window's end; records what it was asked."""

    answers: dict[datetime, QueryResult | WorkspaceError]
    asked: list[tuple[str, TimeSpan]] = field(default_factory=list)

    async def query(self, kql: str, *, timespan: TimeSpan) -> QueryResult:
        self.asked.append((kql, timespan))
        assert isinstance(timespan, tuple)
        answer = self.answers[timespan[1]]
        if isinstance(answer, WorkspaceError):
            raise answer
        return answer

    async def close(self) -> None: ...


async def test_the_bound_query_runs_over_the_rules_window_ending_at_at() -> None:
    rule = make_rule(
        window="1h",
        query="AADProvisioningLogs | where JobId in (jobs)",
        parameters={"jobs": {"type": "string_list", "value": ['a"b']}},
    )
    workspace = FakeWorkspace({T0: rows(2)})
    assert await run_query(rule, workspace, at=T0) == rows(2)
    assert workspace.asked == [
        (
            'let jobs = dynamic(["a\\"b"]);\nAADProvisioningLogs | where JobId in (jobs)',
            (T0 - timedelta(hours=1), T0),
        )
    ]


async def test_workspace_errors_and_partial_results_become_failures() -> None:
    partial = QueryResult(columns=[], rows=[], elapsed_ms=1, partial_error="cut at 500000 rows")
    answers: dict[datetime, QueryResult | WorkspaceError] = {
        T0: QueryError("bad column", line=1, column=5),
        T0 + timedelta(minutes=1): ThrottledError("slow down", retry_after=3),
        T0 + timedelta(minutes=2): partial,
    }
    workspace = FakeWorkspace(answers)
    outcomes = [await run_query(make_rule(), workspace, at=at) for at in answers]
    assert outcomes == [
        QueryFailure("line 1, column 5: bad column", retryable=False, kind="QueryError"),
        QueryFailure("slow down", retryable=True, kind="ThrottledError"),
        QueryFailure("partial result: cut at 500000 rows", retryable=True, kind="partial"),
    ]


async def test_a_cycle_replays_earlier_periods_for_n_of_m_rules() -> None:
    rule = make_rule(failing_periods={"min_failing": 2, "evaluations": 3})
    earlier = {T0 - timedelta(minutes=10): rows(1), T0 - timedelta(minutes=5): rows(0)}
    workspace = FakeWorkspace({**earlier, T0: rows(1)})
    cycle = await evaluate_cycle([rule], workspace, at=T0)
    assert [timespan[1] for _, timespan in workspace.asked] == [*earlier, T0]  # type: ignore[index]
    ((alert_id, status),) = [(a.id, a.status.value) for a in cycle.state.alerts.values()]
    assert (alert_id, status) == (1, "firing")
    without_replay = await evaluate_cycle(
        [rule], FakeWorkspace({T0: rows(1)}), at=T0, replay_failing_periods=False
    )
    assert without_replay.state.alerts == {}


async def test_disabled_rules_are_not_evaluated() -> None:
    workspace = FakeWorkspace({T0: rows(1)})
    cycle = await evaluate_cycle([make_rule(enabled=False)], workspace, at=T0)
    assert (cycle.evaluations, workspace.asked) == ([], [])


async def test_the_report_shows_value_condition_state_and_errors() -> None:
    rules = [make_rule(id="ok-rule", threshold=5), make_rule(id="bad-rule")]
    workspace = FakeWorkspace({T0: rows(2)})
    cycle = await evaluate_cycle(rules[:1], workspace, at=T0)
    failing = await evaluate_cycle(
        rules[1:], FakeWorkspace({T0: QueryError("no such table")}), at=T0
    )
    documents = [evaluation_document(cycle)["rules"][0], evaluation_document(failing)["rules"][0]]
    assert [(d["rule"], d["state"], d["error"]) for d in documents] == [
        ("ok-rule", "ok", None),
        ("bad-rule", "error", "no such table"),
    ]
    assert documents[0]["results"] == [
        {"dimensions": {}, "value": 2.0, "breached": False, "state": "ok", "alert_id": None}
    ]
    table = render_evaluation(failing, "table").splitlines()
    assert table[2].split() == [
        "bad-rule",
        "error",
        "-",
        "-",
        "count()",
        ">",
        "0",
        "no",
        "such",
        "table",
    ]
