"""Azure Monitor alerts into the store and the outbox, on SQLite and PostgreSQL: one alert
per Azure alert, once per notification however often Azure retries, resolved by its
Resolved notification, and an Acknowledge or Resolve in chat queued for write-back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.alerts.handling import Acknowledge, Actor, Resolve
from bot.alerts.intake import ExternalIntake
from bot.alerts.pipeline import AlertPipeline
from bot.alerts.reload import RuleBook
from bot.alerts.rule_model import Rule
from bot.azure_monitor.common_schema import parse_alert, to_signal
from bot.models import AlertEventKind, AlertInstance, AlertStatus, WritebackStatus
from bot.store.sql import SqlStore
from tests.support.alerting import DEMO_NOW, opened_store, subscribe

DATA = Path(__file__).parent / "data"
NOW = DEMO_NOW


def signal(name: str):  # type: ignore[no-untyped-def]
    return to_signal(parse_alert(json.loads((DATA / name).read_text())))


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStore]:
    async with opened_store(request.param, tmp_path) as opened:
        yield opened


async def test_fired_then_retried_then_resolved(store: SqlStore) -> None:
    await subscribe(store, "19:provisioning@thread.tacv2", "Provisioning")
    await subscribe(store, "19:security@thread.tacv2", "Access Reviews")  # not this one
    book = RuleBook([], loaded_at=NOW)
    intake = ExternalIntake(store=store, on_rule=book.add_external)

    fired = await intake.receive(signal("log-alert-fired.json"), now=NOW)
    again = await intake.receive(signal("log-alert-fired.json"), now=NOW + timedelta(seconds=5))
    resolved = await intake.receive(signal("log-alert-resolved.json"), now=NOW + timedelta(hours=2))
    late = await intake.receive(signal("log-alert-resolved.json"), now=NOW + timedelta(hours=3))

    assert fired.alert is not None
    assert fired.alert.status is AlertStatus.FIRING
    assert [i.conversation_id for i in fired.outbox] == ["19:provisioning@thread.tacv2"]
    assert (again.duplicate, again.outbox) == (True, ())
    assert late.duplicate
    assert resolved.alert is not None
    assert resolved.alert.id == fired.alert.id
    assert resolved.alert.status is AlertStatus.RESOLVED
    kinds = [item.event.kind for item in await store.list_outbox()]
    assert kinds == [AlertEventKind.FIRED, AlertEventKind.RESOLVED]
    assert book.get(fired.rule.id) == fired.rule  # the card and commands can show it
    stored = await store.get_external_rule(fired.rule.id)
    assert stored is not None
    assert Rule.model_validate(stored) == fired.rule
    link = await store.get_external_link(fired.alert.id)
    assert link is not None
    assert link.external_id == signal("log-alert-fired.json").external_id


async def test_concurrent_retries_open_one_alert(store: SqlStore) -> None:
    await subscribe(store, "19:provisioning@thread.tacv2", "all")
    intake = ExternalIntake(store=store)
    outcomes = await asyncio.gather(
        *(intake.receive(signal("log-alert-fired.json"), now=NOW) for _ in range(5)),
        return_exceptions=True,
    )
    accepted = [o for o in outcomes if not isinstance(o, BaseException) and not o.duplicate]
    assert len(accepted) == 1
    assert len(await store.list_alerts(open_only=True)) == 1
    assert len(await store.list_outbox()) == 1


async def test_a_resolved_alert_that_was_never_seen_changes_nothing(store: SqlStore) -> None:
    outcome = await ExternalIntake(store=store).receive(signal("log-alert-resolved.json"), now=NOW)
    assert outcome.alert is None
    assert not outcome.duplicate
    assert await store.list_alerts(open_only=False) == []


@pytest.mark.parametrize(("action", "state"), [(Acknowledge, "Acknowledged"), (Resolve, "Closed")])
async def test_chat_actions_queue_a_write_back(store: SqlStore, action: type, state: str) -> None:
    fired = await ExternalIntake(store=store).receive(signal("log-alert-fired.json"), now=NOW)
    assert fired.alert is not None
    pipeline = AlertPipeline(store=store, workspace=None, write_back=True)  # type: ignore[arg-type]
    await pipeline.apply_action(
        action(fired.alert.id), actor=Actor("admin-1", "Alex Wilber"), now=NOW
    )
    (queued,) = await store.claim_writebacks(
        now=NOW, owner="test", lease=timedelta(minutes=1), limit=5
    )
    assert (queued.new_state, queued.actor, queued.status) == (
        state,
        "Alex Wilber",
        WritebackStatus.PENDING,
    )
    assert queued.external_id == signal("log-alert-fired.json").external_id


async def test_without_write_back_nothing_is_queued(store: SqlStore) -> None:
    fired = await ExternalIntake(store=store).receive(signal("log-alert-fired.json"), now=NOW)
    assert fired.alert is not None
    pipeline = AlertPipeline(store=store, workspace=None)  # type: ignore[arg-type]
    await pipeline.apply_action(Acknowledge(fired.alert.id), actor=Actor("admin-1"), now=NOW)
    assert await store.claim_writebacks(now=NOW, owner="t", lease=timedelta(1), limit=5) == []


async def test_alerts_of_rule_files_are_never_written_back(store: SqlStore) -> None:
    """Only alerts linked to an external id have somewhere to write back to."""
    alert = AlertInstance(
        id=await store.next_alert_id(),
        fingerprint="f" * 16,
        rule_id="access-review-deleted",
        status=AlertStatus.FIRING,
        value=1,
        threshold=0,
        opened_at=NOW,
        last_evaluated_at=NOW,
    )
    await store.save_alert(alert)
    pipeline = AlertPipeline(store=store, workspace=None, write_back=True)  # type: ignore[arg-type]
    await pipeline.apply_action(Acknowledge(alert.id), actor=Actor("admin-1"), now=NOW)
    assert await store.claim_writebacks(now=NOW, owner="t", lease=timedelta(1), limit=5) == []
