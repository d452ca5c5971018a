"""People acting on alerts: acknowledge, snooze an alert or a rule's dimension, end a snooze."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from bot.alerts.actions import AlertActionError, acknowledge, snooze, unsnooze
from bot.alerts.rule_model import Rule
from bot.alerts.state import EngineState, step
from bot.models import AlertEventKind, AlertStatus, Mute
from bot.workspace.base import QueryResult
from tests.alerts.builders import job_rows, make_rule, minutes

F, U, R, RES, EXP = (
    AlertEventKind.FIRED,
    AlertEventKind.UPDATED,
    AlertEventKind.RENOTIFY,
    AlertEventKind.RESOLVED,
    AlertEventKind.SNOOZE_EXPIRED,
)


class Engine:
    """A rule evaluated every 5 minutes, with people acting between evaluations."""

    def __init__(self, **rule_fields: Any) -> None:
        fields = {"dimensions": ["JobId"], "renotify": {"interval": "10m"}, **rule_fields}
        self.rule: Rule = make_rule(**fields)
        self.state = EngineState()
        self.ids: Callable[[], int] = itertools.count(1).__next__
        self.log: list[tuple[float, AlertEventKind, str]] = []

    def evaluate(self, minute: float, result: QueryResult) -> None:
        outcome = step(self.rule, result, self.state, now=minutes(minute), new_id=self.ids)
        self.state = outcome.state
        self.log += [
            (minute, e.kind, e.alert.dimensions["JobId"]) for e in outcome.events if e.alert
        ]

    def status(self, job: str) -> AlertStatus | None:
        found = [a for a in self.state.alerts.values() if a.dimensions["JobId"] == job]
        return found[0].status if found else None


def mute(until: float, *, alert_id: int | None = None, **matchers: str) -> Mute:
    return Mute(
        id=7,
        rule_id="test-rule",
        matchers=matchers,
        alert_id=alert_id,
        until=minutes(until),
        created_by="ana@woodgrove.com",
        created_at=minutes(0),
        reason="maintenance",
    )


def test_acknowledged_alerts_get_no_reminders_but_still_resolve() -> None:
    engine = Engine()
    engine.evaluate(0, job_rows({"a": 1}))
    acked = acknowledge(engine.state, 1, actor="ana", actor_name="Ana", now=minutes(1))
    engine.state = acked.state
    assert [(e.kind, e.detail) for e in acked.events] == [(U, "acknowledged by Ana")]
    for minute in (5, 10, 15, 20):
        engine.evaluate(minute, job_rows({"a": 1}))
    engine.evaluate(25, job_rows({}))
    assert engine.log == [(0, F, "a"), (25, RES, "a")]


def test_acknowledging_records_who_when_and_why() -> None:
    engine = Engine()
    engine.evaluate(0, job_rows({"a": 1}))
    state = acknowledge(engine.state, 1, actor="ana", now=minutes(2), note="on it").state
    alert = state.alert(1)
    assert alert is not None
    assert (alert.status, alert.acknowledged_by, alert.acknowledged_at) == (
        AlertStatus.ACKNOWLEDGED,
        "ana",
        minutes(2),
    )
    last = alert.history[-1]
    assert (last.from_status, last.to_status, last.actor, last.at, last.note) == (
        AlertStatus.FIRING,
        AlertStatus.ACKNOWLEDGED,
        "ana",
        minutes(2),
        "on it",
    )


@pytest.mark.parametrize(
    ("alert_id", "message"), [(99, "no open alert 99"), (1, "already acknowledged by ana")]
)
def test_acknowledging_what_cannot_be_acknowledged_says_why(alert_id: int, message: str) -> None:
    engine = Engine()
    engine.evaluate(0, job_rows({"a": 1}))
    state = acknowledge(engine.state, 1, actor="ana", now=minutes(1)).state
    with pytest.raises(AlertActionError, match=message):
        acknowledge(state, alert_id, actor="ana", now=minutes(2))


@pytest.mark.parametrize(
    "the_mute",
    [
        pytest.param(mute(30, alert_id=1), id="alert"),
        pytest.param(mute(30, JobId="a"), id="rule+dim"),
    ],
)
def test_a_snooze_silences_until_it_ends_then_tells_again_if_still_firing(the_mute: Mute) -> None:
    engine = Engine()
    engine.evaluate(0, job_rows({"a": 1, "b": 1}))
    snoozed = snooze(engine.state, the_mute, now=minutes(1))
    engine.state = snoozed.state
    assert [(e.kind, e.alert.dimensions["JobId"]) for e in snoozed.events if e.alert] == [(U, "a")]
    assert (engine.status("a"), engine.status("b")) == (AlertStatus.SNOOZED, AlertStatus.FIRING)
    for minute in range(5, 45, 5):
        engine.evaluate(minute, job_rows({"a": 1, "b": 1}))
    assert [entry for entry in engine.log if entry[2] == "a"] == [
        (0, F, "a"),
        (30, EXP, "a"),
        (40, R, "a"),
    ]
    assert [entry[0] for entry in engine.log if entry[2] == "b"] == [0, 10, 20, 30, 40]
    assert engine.status("a") is AlertStatus.FIRING


def test_a_snooze_on_a_dimension_also_silences_a_new_alert_for_it() -> None:
    engine = Engine()
    engine.state = snooze(engine.state, mute(20, JobId="a"), now=minutes(0)).state
    engine.evaluate(5, job_rows({"a": 1, "b": 1}))
    engine.evaluate(20, job_rows({"a": 1, "b": 1}))
    assert engine.log == [(5, F, "b"), (20, EXP, "a"), (20, R, "b")]
    alert = next(a for a in engine.state.alerts.values() if a.dimensions["JobId"] == "a")
    assert [(t.from_status, t.to_status, t.actor) for t in alert.history] == [
        (None, AlertStatus.FIRING, "system"),
        (AlertStatus.FIRING, AlertStatus.SNOOZED, "ana@woodgrove.com"),
        (AlertStatus.SNOOZED, AlertStatus.FIRING, "system"),
    ]
    assert alert.history[1].note == "maintenance"  # the person's words, nothing internal


def test_a_snoozed_alert_that_clears_resolves_and_its_snooze_expiry_says_nothing() -> None:
    engine = Engine()
    engine.evaluate(0, job_rows({"a": 1}))
    engine.state = snooze(engine.state, mute(30, alert_id=1), now=minutes(1)).state
    engine.evaluate(5, job_rows({}))
    engine.evaluate(35, job_rows({}))
    assert engine.log == [(0, F, "a"), (5, RES, "a")]


def test_a_snooze_on_an_acknowledged_alert_ends_back_in_acknowledged() -> None:
    engine = Engine()
    engine.evaluate(0, job_rows({"a": 1}))
    engine.state = acknowledge(engine.state, 1, actor="ana", now=minutes(1)).state
    engine.state = snooze(engine.state, mute(10, alert_id=1), now=minutes(2)).state
    engine.evaluate(10, job_rows({"a": 1}))
    engine.evaluate(20, job_rows({"a": 1}))
    assert engine.log == [(0, F, "a"), (10, EXP, "a")]
    assert engine.status("a") is AlertStatus.ACKNOWLEDGED


def test_ending_a_snooze_early_wakes_the_alert() -> None:
    engine = Engine()
    engine.evaluate(0, job_rows({"a": 1}))
    engine.state = snooze(engine.state, mute(60, JobId="a"), now=minutes(1)).state
    woken = unsnooze(engine.state, 7, actor="ben", now=minutes(3))
    assert [(e.kind, e.detail) for e in woken.events] == [(U, "snooze ended")]
    assert woken.state.mutes == ()
    alert = woken.state.alert(1)
    assert alert is not None
    assert (alert.status, alert.history[-1].actor) == (AlertStatus.FIRING, "ben")


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda s: snooze(s, mute(0), now=minutes(1)), "must end in the future"),
        (lambda s: snooze(s, mute(30, alert_id=5), now=minutes(1)), "no open alert 5"),
        (lambda s: unsnooze(s, 3, actor="ana", now=minutes(1)), "no snooze 3"),
    ],
)
def test_snooze_mistakes_say_why(action: Callable[[EngineState], object], message: str) -> None:
    with pytest.raises(AlertActionError, match=message):
        action(EngineState())


def test_expired_mutes_are_dropped_from_the_state() -> None:
    engine = Engine()
    engine.state = snooze(engine.state, mute(10, JobId="a"), now=minutes(0)).state
    engine.evaluate(5, job_rows({}))
    assert len(engine.state.mutes) == 1
    engine.evaluate(10, job_rows({}))
    assert engine.state.mutes == ()
