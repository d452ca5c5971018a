"""The alert lifecycle, one evaluation at a time: fire, remind, resolve, errors, N of M."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import pytest

from bot.alerts.state import EngineState, QueryFailure, StepResult, step
from bot.models import AlertEventKind, AlertStatus, DimensionState, fingerprint
from bot.workspace.base import QueryResult
from tests.alerts.builders import job_rows, make_rule, minutes, rows

F, U, R, RES, ERR, OK = (
    AlertEventKind.FIRED,
    AlertEventKind.UPDATED,
    AlertEventKind.RENOTIFY,
    AlertEventKind.RESOLVED,
    AlertEventKind.EVALUATION_ERROR,
    AlertEventKind.EVALUATION_RECOVERED,
)


def run(
    rule_fields: dict[str, Any],
    outcomes: Sequence[QueryResult | QueryFailure],
    *,
    every: float = 5,
    state: EngineState | None = None,
) -> list[StepResult]:
    """Evaluate `outcomes` in turn, `every` minutes apart from T0."""
    rule = make_rule(**rule_fields)
    new_id = itertools.count(1).__next__
    current, results = state or EngineState(), []
    for index, outcome in enumerate(outcomes):
        result = step(rule, outcome, current, now=minutes(index * every), new_id=new_id)
        results.append(result)
        current = result.state
    return results


def counts(*values: int | None) -> list[QueryResult | QueryFailure]:
    return [QueryFailure("boom") if v is None else rows(v) for v in values]


def kinds(results: list[StepResult]) -> list[list[AlertEventKind]]:
    return [[event.kind for event in result.events] for result in results]


def at_steps(total: int, kind: AlertEventKind, indexes: set[int]) -> list[list[AlertEventKind]]:
    return [[kind] if i in indexes else [] for i in range(total)]


LIFECYCLE = [
    pytest.param({}, counts(0, 3, 4, 4, 0), [[], [F], [U], [], [RES]], id="fire-update-resolve"),
    pytest.param({}, counts(1, 1, 1, 1), [[F], [], [], []], id="no-reminder-without-renotify"),
    pytest.param(
        {"renotify": {"interval": "10m"}},
        counts(*[1] * 6),
        [[F], [], [R], [], [R], []],
        id="reminder-every-10m",
    ),
    pytest.param(
        {"renotify": {"interval": "10m", "backoff": 2}},
        counts(*[1] * 16),
        [[F], *at_steps(16, R, {2, 6, 14})[1:]],
        id="backoff-doubles-10-20-40m",
    ),
    pytest.param(
        {"renotify": {"interval": "10m", "backoff": 2, "max_interval": "15m"}},
        counts(*[1] * 15),
        [[F], *at_steps(15, R, {2, 5, 8, 11, 14})[1:]],
        id="backoff-capped-at-15m",
    ),
    pytest.param(
        {"auto_resolve": False}, counts(1, 1, 0, 1), [[F], [R], [], [F]], id="fire-every-time"
    ),
    pytest.param(
        {"auto_resolve": False, "renotify": {"interval": "10m"}},
        counts(1, 1, 1, 1, 1),
        [[F], [], [R], [], [R]],
        id="fire-every-time-throttled",
    ),
    pytest.param(
        {"failing_periods": {"min_failing": 2, "evaluations": 3}},
        counts(1, 0, 1, 1, 0, 0),
        [[], [], [F], [], [U], [RES]],
        id="2-of-3",
    ),
    pytest.param(
        {"failing_periods": {"min_failing": 3, "evaluations": 3}},
        counts(1, 1, 0, 1, 1, 1, 0),
        [[], [], [], [], [], [F], [RES]],
        id="3-of-3",
    ),
    pytest.param(
        {}, counts(1, None, None, 1, 0), [[F], [ERR], [], [OK], [RES]], id="error-keeps-alert"
    ),
    pytest.param(
        {"operator": "<", "threshold": 1}, counts(2, 0, 0, 3), [[], [F], [], [RES]], id="below"
    ),
    pytest.param(
        {"operator": "==", "threshold": 2}, counts(2, 3, 2, 2), [[F], [RES], [F], []], id="equal"
    ),
]


@pytest.mark.parametrize(("rule_fields", "outcomes", "expected"), LIFECYCLE)
def test_lifecycle(
    rule_fields: dict[str, Any],
    outcomes: list[QueryResult | QueryFailure],
    expected: list[list[AlertEventKind]],
) -> None:
    assert kinds(run(rule_fields, outcomes)) == expected


def test_a_resolved_alert_has_its_history_and_a_new_breach_is_a_new_alert() -> None:
    results = run({}, counts(2, 0, 1))
    resolved = results[1].closed[0]
    assert resolved.status is AlertStatus.RESOLVED
    assert resolved.resolved_at == minutes(5)
    assert [(t.from_status, t.to_status, t.actor, t.note) for t in resolved.history] == [
        (None, AlertStatus.FIRING, "system", "count() = 2 > 0"),
        (AlertStatus.FIRING, AlertStatus.RESOLVED, "system", "the condition no longer holds"),
    ]
    assert results[1].state.alerts == {}
    assert results[1].state.dimensions == {}
    refired = results[2].events[0].alert
    assert refired is not None
    assert (refired.id, refired.fingerprint) == (2, resolved.fingerprint)


HELD = [
    pytest.param(counts(3, 3), [[], []], id="stays-quiet-while-breaching"),
    pytest.param(counts(3, 0, 3), [[], [], [F]], id="fires-again-after-clearing"),
    pytest.param(counts(0, 3), [[], [F]], id="first-evaluation-clear"),
]


@pytest.mark.parametrize(("outcomes", "expected"), HELD)
def test_a_dimension_a_person_closed_is_held_until_clear(
    outcomes: list[QueryResult | QueryFailure], expected: list[list[AlertEventKind]]
) -> None:
    rule = make_rule()
    key = fingerprint(rule.id, {})
    closed_by_a_person = EngineState(
        dimensions={key: DimensionState(fingerprint=key, rule_id=rule.id, held_until_clear=True)}
    )
    results = run({}, outcomes, state=closed_by_a_person)
    assert kinds(results) == expected


def test_fire_every_time_closes_silently() -> None:
    results = run({"auto_resolve": False}, counts(1, 0))
    assert results[1].events == []
    assert [alert.status for alert in results[1].closed] == [AlertStatus.RESOLVED]


def test_each_dimension_combination_has_its_own_alert() -> None:
    results = run(
        {"dimensions": ["JobId"]},
        [job_rows({"a": 1}), job_rows({"a": 1, "b": 2}), job_rows({"b": 2}), job_rows({})],
    )
    seen = [
        [(e.kind, e.alert.id, e.alert.dimensions["JobId"]) for e in r.events if e.alert]
        for r in results
    ]
    assert seen == [[(F, 1, "a")], [(F, 2, "b")], [(RES, 1, "a")], [(RES, 2, "b")]]
    assert results[-1].state.alerts == {}


def test_the_alert_carries_value_threshold_and_evidence() -> None:
    (result,) = run({"threshold": 2, "dimensions": ["JobId"]}, [job_rows({"a": 3})])
    alert = result.state.alerts[fingerprint("test-rule", {"JobId": "a"})]
    assert (alert.value, alert.threshold, alert.status) == (3, 2, AlertStatus.FIRING)
    assert (alert.opened_at, alert.last_notified_at, alert.notify_count) == (minutes(0),) * 2 + (1,)
    assert alert.evidence[0] == {"JobId": "a", "ResultType": "Failure"}


def test_a_reminder_is_not_pushed_back_a_whole_period_by_jitter() -> None:
    rule = make_rule(renotify={"interval": "10m"})
    ids = itertools.count(1).__next__
    first = step(rule, rows(1), EngineState(), now=minutes(0), new_id=ids)
    early = step(rule, rows(1), first.state, now=minutes(7), new_id=ids)
    jittered = step(rule, rows(1), early.state, now=minutes(9.9), new_id=ids)
    assert kinds([early, jittered]) == [[], [R]]


def test_outcomes_older_than_m_periods_are_forgotten_after_downtime() -> None:
    results = run({"failing_periods": {"min_failing": 2, "evaluations": 3}}, counts(1, 1), every=60)
    assert kinds(results) == [[], []]


def test_a_failed_query_is_recorded_in_rule_health_and_told_once_per_kind_of_error() -> None:
    throttled = [
        QueryFailure(f"throttled, retry after {seconds} s", kind="ThrottledError")
        for seconds in (1, 2, 3)
    ]
    denied = QueryFailure("403", kind="WorkspaceUnavailableError")
    results = run({}, [rows(1), *throttled, denied, rows(1), throttled[0]])
    # Three messages of one kind: one notice; another kind: another; running again: one
    # all-clear; failing again after that is news again.
    assert kinds(results) == [[F], [ERR], [], [], [ERR], [OK], [ERR]]
    health = results[4].state.health["test-rule"]
    assert (health.consecutive_errors, health.last_error) == (4, "403")
    assert health.last_error_kind == "WorkspaceUnavailableError"
    assert health.last_success_at == minutes(0)
    assert results[4].state.alerts == results[0].state.alerts
    recovered = results[5].state.health["test-rule"]
    assert (recovered.consecutive_errors, recovered.last_error) == (0, None)
    assert results[1].events[0].detail == "throttled, retry after 1 s"
    (all_clear,) = results[5].events
    assert (all_clear.rule_id, all_clear.alert) == ("test-rule", None)
    assert all_clear.detail == "evaluated again after 4 failed evaluations"


def test_a_result_that_cannot_be_measured_is_an_evaluation_error() -> None:
    (result,) = run({"measure": {"aggregation": "max", "column": "Hours"}}, [rows(2)])
    assert kinds([result]) == [[ERR]]
    assert "no column 'Hours'" in (result.events[0].detail or "")


def test_changing_a_rules_dimensions_resolves_its_old_alerts() -> None:
    ids = itertools.count(1).__next__
    before = step(
        make_rule(dimensions=["JobId"]),
        job_rows({"a": 1}),
        EngineState(),
        now=minutes(0),
        new_id=ids,
    )
    after = step(make_rule(), rows(0), before.state, now=minutes(5), new_id=ids)
    assert [(e.kind, e.detail) for e in after.events] == [(RES, "no longer measured")]


def test_other_rules_are_left_alone() -> None:
    ids = itertools.count(1).__next__
    other = step(make_rule(id="other"), rows(1), EngineState(), now=minutes(0), new_id=ids)
    mine = step(make_rule(), rows(0), other.state, now=minutes(5), new_id=ids)
    assert list(mine.state.alerts.values()) == list(other.state.alerts.values())


def test_events_have_distinct_idempotency_keys() -> None:
    results = run({"renotify": {"interval": "5m"}}, counts(1, 1, 1, 0))
    keys = [e.idempotency_key for r in results for e in r.events]
    assert len(keys) == len(set(keys)) == 4
