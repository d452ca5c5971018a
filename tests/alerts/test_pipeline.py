"""The pipeline end to end: the real demo workspace at a pinned time, a real store (a SQLite
file, and PostgreSQL).

Read as stories: a rule fires and the subscribed conversations (only they) get it queued;
the next cycle does not tell them again; the problem clears and they hear it resolved;
people acknowledge, snooze, unsnooze and resolve, each on the record; a failing query is
reported once; a write by someone else during an evaluation is stepped over; an alert id
handed out in a cycle that never committed is never given to another alert.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb_kql
import pytest

from bot.alerts.actions import AlertActionError
from bot.alerts.handling import Acknowledge, Actor, Resolve, Snooze, Unsnooze
from bot.alerts.pipeline import AlertPipeline
from bot.alerts.rule_model import Rule
from bot.alerts.rules import load_rules
from bot.models import AlertEventKind, AlertStatus
from bot.store.sql import SqlStore
from bot.workspace.demo import DemoManifest, DemoSpec, load_demo
from bot.workspace.local import LocalWorkspace
from tests.alerts.builders import make_rule
from tests.support.alerting import CATALOG, DEMO_NOW, deliveries, opened_store, subscribe

SPIKE = "provisioning-failure-spike"  # Provisioning, severity 2, one alert per JobId
ALEX = Actor(id="aad-alex", name="Alex", conversation_id="ops")
FIRED, UPDATED = AlertEventKind.FIRED.value, AlertEventKind.UPDATED.value


def at(minutes: float) -> Any:
    return DEMO_NOW + timedelta(minutes=minutes)


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[LocalWorkspace, DemoManifest]]:
    con = duckdb_kql.connect()
    manifest = load_demo(con, DemoSpec(now=DEMO_NOW))
    yield LocalWorkspace(con, clock=lambda: DEMO_NOW), manifest
    con.close()


@pytest.fixture(scope="module")
def catalog() -> dict[str, Rule]:
    return {rule.id: rule for rule in load_rules([CATALOG])}


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStore]:
    async with opened_store(request.param, tmp_path) as opened:
        # ops hears everything; prov its category; pim only critical PIM; wf one other rule.
        await subscribe(opened, "ops", "all")
        await subscribe(opened, "prov", "Provisioning")
        await subscribe(opened, "pim", "Privileged Identity Management", max_severity=0)
        await subscribe(opened, "wf", "workflow-failed")
        yield opened


@pytest.fixture
def pipeline(store: SqlStore, demo: tuple[LocalWorkspace, DemoManifest]) -> AlertPipeline:
    return AlertPipeline(store=store, workspace=demo[0], query_timeout=60)


async def fire_spike(pipeline: AlertPipeline, catalog: dict[str, Rule]) -> int:
    evaluation = await pipeline.evaluate(catalog[SPIKE], now=DEMO_NOW)
    (alert,) = evaluation.saved
    return alert.id


async def test_a_firing_rule_stores_its_alert_and_queues_it_for_subscribers_only(
    pipeline: AlertPipeline,
    store: SqlStore,
    catalog: dict[str, Rule],
    demo: tuple[LocalWorkspace, DemoManifest],
) -> None:
    evaluation = await pipeline.evaluate(catalog[SPIKE], now=DEMO_NOW)

    (alert,) = await store.list_alerts(rule_id=SPIKE)
    assert alert.status is AlertStatus.FIRING
    assert alert.dimensions["JobId"] == demo[1].failure_spike_job_id
    assert alert.version == 1
    assert deliveries(await store.list_outbox()) == {
        (FIRED, "ops", alert.id),
        (FIRED, "prov", alert.id),
    }
    assert len(evaluation.outbox) == 2
    health = await store.get_rule_health(SPIKE)
    assert health is not None
    assert health.last_evaluated_at == DEMO_NOW


async def test_the_next_cycles_do_not_tell_anyone_again(
    pipeline: AlertPipeline, store: SqlStore, catalog: dict[str, Rule]
) -> None:
    alert_id = await fire_spike(pipeline, catalog)
    again = await pipeline.evaluate(catalog[SPIKE], now=DEMO_NOW)  # a retried cycle
    later = await pipeline.evaluate(catalog[SPIKE], now=at(1))

    assert again.result.events == later.result.events == []
    assert len(await store.list_outbox()) == 2
    (alert,) = await store.list_alerts(rule_id=SPIKE)
    assert (alert.id, alert.last_evaluated_at, alert.version) == (alert_id, at(1), 2)


async def test_when_it_clears_it_resolves_and_the_subscribers_hear_it(
    pipeline: AlertPipeline, store: SqlStore, catalog: dict[str, Rule]
) -> None:
    alert_id = await fire_spike(pipeline, catalog)
    # A day and an hour later the 24 h window holds none of the planted failures.
    await pipeline.evaluate(catalog[SPIKE], now=at(25 * 60))

    assert await store.list_alerts(rule_id=SPIKE) == []
    resolved = await store.get_alert(alert_id)
    assert resolved is not None
    assert resolved.status is AlertStatus.RESOLVED
    assert resolved.resolved_at == at(25 * 60)
    resolved_items = await store.list_outbox(alert_id=alert_id)
    assert {(i.event.kind, i.conversation_id) for i in resolved_items} >= {
        (AlertEventKind.RESOLVED, "ops"),
        (AlertEventKind.RESOLVED, "prov"),
    }


async def test_a_failing_query_is_reported_once_to_the_rules_subscribers(
    pipeline: AlertPipeline, store: SqlStore
) -> None:
    broken = make_rule(
        id="workflow-failed",
        category="Lifecycle workflows",
        query="AuditLogs | where NoSuchColumn == 1",
    )
    first = await pipeline.evaluate(broken, now=DEMO_NOW)
    second = await pipeline.evaluate(broken, now=at(5))

    assert [e.kind for e in first.result.events] == [AlertEventKind.EVALUATION_ERROR]
    assert second.result.events == []
    items = await store.list_outbox()
    assert {(i.event.kind, i.conversation_id) for i in items} == {
        (AlertEventKind.EVALUATION_ERROR, "ops"),
        (AlertEventKind.EVALUATION_ERROR, "wf"),
    }
    health = await store.get_rule_health("workflow-failed")
    assert health is not None
    assert health.consecutive_errors == 2
    assert "NoSuchColumn" in (health.last_error or "")


async def test_a_rule_that_runs_again_tells_the_same_subscribers_it_recovered(
    pipeline: AlertPipeline, store: SqlStore
) -> None:
    broken = make_rule(
        id="workflow-failed",
        category="Lifecycle workflows",
        query="AuditLogs | where NoSuchColumn == 1",
    )
    await pipeline.evaluate(broken, now=DEMO_NOW)
    fixed = broken.model_copy(update={"query": "AuditLogs | where Category == 'none'"})
    recovered = await pipeline.evaluate(fixed, now=at(5))
    quiet = await pipeline.evaluate(fixed, now=at(10))

    assert [e.kind for e in recovered.result.events] == [AlertEventKind.EVALUATION_RECOVERED]
    assert quiet.result.events == []
    items = await store.list_outbox()
    assert {(i.event.kind, i.conversation_id) for i in items} == {
        (kind, conversation)
        for kind in (AlertEventKind.EVALUATION_ERROR, AlertEventKind.EVALUATION_RECOVERED)
        for conversation in ("ops", "wf")
    }
    health = await store.get_rule_health("workflow-failed")
    assert health is not None
    assert (health.consecutive_errors, health.last_error, health.last_error_kind) == (0, None, None)


async def test_acknowledging_is_recorded_and_updates_every_conversation_that_got_the_alert(
    pipeline: AlertPipeline, store: SqlStore, catalog: dict[str, Rule]
) -> None:
    alert_id = await fire_spike(pipeline, catalog)
    await subscribe(store, "late", "all")  # never told about this alert

    outcome = await pipeline.apply_action(
        Acknowledge(alert_id, note="on it"), actor=ALEX, now=at(2)
    )

    (alert,) = outcome.alerts
    assert (alert.status, alert.acknowledged_by, alert.version) == (
        AlertStatus.ACKNOWLEDGED,
        "aad-alex",
        2,
    )
    assert alert.history[-1].note == "on it"
    (entry,) = await store.list_audit(alert_id=alert_id)
    assert (entry.actor, entry.action, entry.conversation_id, entry.detail) == (
        "aad-alex",
        "ack",
        "ops",
        "on it",
    )
    updates = await store.list_outbox(alert_id=alert_id)
    assert deliveries(updates) == {
        (FIRED, "ops", alert_id),
        (FIRED, "prov", alert_id),
        (UPDATED, "ops", alert_id),
        (UPDATED, "prov", alert_id),
    }
    with pytest.raises(AlertActionError, match="already acknowledged"):
        await pipeline.apply_action(Acknowledge(alert_id), actor=ALEX, now=at(3))
    assert len(await store.list_audit(alert_id=alert_id)) == 1  # the refusal wrote nothing


async def test_a_snooze_silences_until_it_ends_and_the_next_evaluation_notices(
    pipeline: AlertPipeline, store: SqlStore, catalog: dict[str, Rule]
) -> None:
    alert_id = await fire_spike(pipeline, catalog)
    await pipeline.apply_action(
        Snooze(alert_id, until=at(30), note="maintenance"), actor=ALEX, now=at(1)
    )
    assert (await store.get_alert(alert_id)).status is AlertStatus.SNOOZED  # type: ignore[union-attr]

    during = await pipeline.evaluate(catalog[SPIKE], now=at(15))
    after = await pipeline.evaluate(catalog[SPIKE], now=at(45))

    assert during.result.events == []
    assert [e.kind for e in after.result.events] == [AlertEventKind.SNOOZE_EXPIRED]
    alert = await store.get_alert(alert_id)
    assert alert is not None
    assert (alert.status, alert.snoozed_until) == (AlertStatus.FIRING, None)
    kinds = {(i.event.kind, i.conversation_id) for i in await store.list_outbox(alert_id=alert_id)}
    assert (AlertEventKind.SNOOZE_EXPIRED, "ops") in kinds
    assert [e.action for e in await store.list_audit(alert_id=alert_id)] == ["snooze"]


async def test_unsnoozing_wakes_the_alert_and_ends_the_snooze(
    pipeline: AlertPipeline, store: SqlStore, catalog: dict[str, Rule]
) -> None:
    alert_id = await fire_spike(pipeline, catalog)
    await pipeline.apply_action(
        Snooze(alert_id, until=at(240), scope="dimensions"), actor=ALEX, now=at(1)
    )
    outcome = await pipeline.apply_action(Unsnooze(alert_id), actor=ALEX, now=at(2))

    assert [a.status for a in outcome.alerts] == [AlertStatus.FIRING]
    assert await store.list_mutes(now=at(3)) == []
    assert [e.action for e in await store.list_audit(alert_id=alert_id)] == ["snooze", "unsnooze"]
    with pytest.raises(AlertActionError, match="not snoozed"):
        await pipeline.apply_action(Unsnooze(alert_id), actor=ALEX, now=at(3))


async def test_a_person_resolves_an_alert_and_it_stays_quiet_until_the_condition_clears(
    pipeline: AlertPipeline, store: SqlStore, catalog: dict[str, Rule]
) -> None:
    alert_id = await fire_spike(pipeline, catalog)
    outcome = await pipeline.apply_action(
        Resolve(alert_id, note="job restarted"), actor=ALEX, now=at(2)
    )
    assert [(a.status, a.resolved_at) for a in outcome.alerts] == [(AlertStatus.RESOLVED, at(2))]
    assert [e.detail for e in outcome.events] == ["resolved by Alex"]
    with pytest.raises(AlertActionError, match="no open alert"):
        await pipeline.apply_action(Acknowledge(alert_id), actor=ALEX, now=at(3))

    # The planted failures are still inside the 24 h window: no new alert, as in Azure Monitor.
    still_breaching = await pipeline.evaluate(catalog[SPIKE], now=at(60))
    assert still_breaching.saved == []
    assert still_breaching.result.events == []
    (held,) = await store.list_dimension_states(SPIKE)
    assert held.held_until_clear

    # A day later the window is clear: the hold is dropped, so a new breach fires again.
    await pipeline.evaluate(catalog[SPIKE], now=at(25 * 60))
    assert not any(d.held_until_clear for d in await store.list_dimension_states(SPIKE))


async def test_an_action_during_an_evaluation_is_kept_the_evaluation_steps_again(
    pipeline: AlertPipeline,
    store: SqlStore,
    catalog: dict[str, Rule],
    demo: tuple[LocalWorkspace, DemoManifest],
) -> None:
    alert_id = await fire_spike(pipeline, catalog)
    racing = RacingStore(
        store,
        before_commit=lambda: pipeline.apply_action(Acknowledge(alert_id), actor=ALEX, now=at(1)),
    )
    evaluation = await AlertPipeline(store=racing, workspace=demo[0]).evaluate(
        catalog[SPIKE], now=at(2)
    )

    assert racing.commits == 2  # the first met the acknowledgement's newer version
    (alert,) = evaluation.saved
    assert (alert.status, alert.acknowledged_by, alert.last_evaluated_at) == (
        AlertStatus.ACKNOWLEDGED,
        "aad-alex",
        at(2),
    )


async def test_an_alert_id_from_a_cycle_that_never_committed_is_never_reused(
    pipeline: AlertPipeline,
    store: SqlStore,
    catalog: dict[str, Rule],
    demo: tuple[LocalWorkspace, DemoManifest],
) -> None:
    crashed = AlertPipeline(store=RacingStore(store, fail_commit=True), workspace=demo[0])
    with pytest.raises(RuntimeError, match="crash"):
        await crashed.evaluate(catalog[SPIKE], now=DEMO_NOW)
    assert await store.list_alerts() == []
    assert await store.list_outbox() == []
    handed_out = await store.last_alert_id()

    alert_id = await fire_spike(pipeline, catalog)

    assert handed_out >= 1
    assert alert_id > handed_out


class RacingStore:
    """The real store, with something happening just before the (first) commit."""

    def __init__(self, store: SqlStore, *, before_commit: Any = None, fail_commit: bool = False):
        self._store = store
        self._before_commit = before_commit
        self._fail_commit = fail_commit
        self.commits = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def commit_cycle(self, **cycle: Any) -> Any:
        self.commits += 1
        if self._fail_commit:
            raise RuntimeError("crash before the commit")
        if self._before_commit is not None:
            happening, self._before_commit = self._before_commit, None
            await happening()
        return await self._store.commit_cycle(**cycle)
