"""Alerts, the engine's memory and mutes: round trips, ids, optimistic concurrency, atomicity."""

from __future__ import annotations

import asyncio
from datetime import timedelta, timezone

import pytest

from bot.models import (
    AlertEventKind,
    AlertStatus,
    AuditEntry,
    DimensionState,
    Mute,
    PeriodOutcome,
    RuleHealth,
    Transition,
)
from bot.store import ConflictError, StoreError
from bot.store.sql import SqlOperations, SqlStore
from tests.store.factories import NOW, RULE, alert, delivery, event, minutes

CEST = timezone(timedelta(hours=2))


def _health(**changes: object) -> RuleHealth:
    return RuleHealth.model_validate(
        {"rule_id": RULE, "last_evaluated_at": NOW, "last_success_at": NOW, **changes}
    )


def _state(job: str, *breached: bool) -> DimensionState:
    recent = [PeriodOutcome(at=NOW - minutes(5 * i), breached=b) for i, b in enumerate(breached)]
    return DimensionState(
        fingerprint=alert(0, job=job).fingerprint,
        rule_id=RULE,
        dimensions={"JobId": job},
        recent=recent,
    )


async def test_alert_ids_are_short_numbers_handed_out_once(store: SqlStore) -> None:
    assert await store.last_alert_id() == 0
    assert [await store.next_alert_id() for _ in range(3)] == [1, 2, 3]
    concurrent = await asyncio.gather(*(store.next_alert_id() for _ in range(10)))
    assert sorted(concurrent) == list(range(4, 14))
    assert await store.last_alert_id() == 13


async def test_ids_numbered_elsewhere_are_never_handed_out_again(store: SqlStore) -> None:
    await store.save_alert(alert(41, job="numbered-by-the-engine"))
    assert await store.last_alert_id() == 41
    assert await store.next_alert_id() == 42
    await store.save_alert(alert(50, job="again"))
    assert await store.next_alert_id() == 51


async def test_an_alert_round_trips_every_field(store: SqlStore) -> None:
    original = alert(
        await store.next_alert_id(),
        status=AlertStatus.SNOOZED,
        value=0.1 + 0.2,
        threshold=-1.5,
        opened_at=NOW.astimezone(CEST),  # any offset in, UTC out
        last_evaluated_at=NOW + timedelta(microseconds=123456),
        last_notified_at=NOW + minutes(1),
        notify_count=2,
        resolved_at=None,
        snoozed_until=NOW + timedelta(hours=4),
        acknowledged_by="aad-alex",
        acknowledged_at=NOW + minutes(2),
        evidence=[{"JobId": "job-1", "Count": 3, "Ratio": 0.5, "Note": "Zoë’s “job”", "X": None}],
        history=[
            Transition(at=NOW, from_status=None, to_status=AlertStatus.FIRING),
            Transition(
                at=NOW + minutes(3),
                from_status=AlertStatus.FIRING,
                to_status=AlertStatus.SNOOZED,
                actor="aad-alex",
                actor_name="Alex Wilber",
                note="maintenance window",
            ),
        ],
    )
    saved = await store.save_alert(original)
    loaded = await store.get_alert(original.id)
    assert saved == original.model_copy(update={"version": 1})
    assert loaded == saved
    assert loaded.opened_at.tzinfo is not None
    assert loaded.opened_at.utcoffset() == timedelta(0)
    assert await store.get_alert(999) is None


async def test_alerts_are_listed_newest_first_open_or_all_by_rule(store: SqlStore) -> None:
    first = await store.save_alert(alert(1, job="a"))
    resolved = alert(2, job="b", status=AlertStatus.RESOLVED, resolved_at=NOW)
    await store.save_alert(resolved)
    other = await store.save_alert(alert(3, rule_id="pim-spike", job="a"))
    assert [a.id for a in await store.list_alerts()] == [3, 1]
    assert [a.id for a in await store.list_alerts(open_only=False)] == [3, 2, 1]
    assert await store.list_alerts(rule_id=RULE) == [first]
    assert await store.list_alerts(rule_id="pim-spike", open_only=False) == [other]
    assert [a.id for a in await store.list_alerts(open_only=False, limit=1)] == [3]


async def test_two_people_pressing_buttons_at_once_cannot_lose_an_update(store: SqlStore) -> None:
    await store.save_alert(alert(1))
    seen_by_alex = await store.get_alert(1)
    seen_by_megan = await store.get_alert(1)
    assert seen_by_alex is not None
    assert seen_by_megan is not None
    acked = seen_by_alex.model_copy(
        update={"status": AlertStatus.ACKNOWLEDGED, "acknowledged_by": "alex"}
    )
    assert (await store.save_alert(acked)).version == 2
    snoozed = seen_by_megan.model_copy(update={"status": AlertStatus.SNOOZED})
    with pytest.raises(ConflictError, match="alert 1 was changed by someone else"):
        await store.save_alert(snoozed)
    stored = await store.get_alert(1)
    assert stored is not None
    assert (stored.status, stored.acknowledged_by, stored.version) == ("acknowledged", "alex", 2)


async def test_an_alert_id_or_an_open_fingerprint_cannot_be_taken_twice(store: SqlStore) -> None:
    await store.save_alert(alert(1, job="a"))
    with pytest.raises(ConflictError):
        await store.save_alert(alert(1, job="b"))
    with pytest.raises(ConflictError, match="fingerprint already has an open alert"):
        await store.save_alert(alert(2, job="a"))
    # Once resolved, the same problem may open a new instance.
    current = await store.get_alert(1)
    assert current is not None
    await store.save_alert(current.model_copy(update={"status": AlertStatus.RESOLVED}))
    assert (await store.save_alert(alert(2, job="a"))).version == 1


async def test_a_cycle_is_written_whole_and_loaded_back(store: SqlStore) -> None:
    existing = await store.save_alert(alert(await store.next_alert_id(), job="old"))
    resolved = existing.model_copy(update={"status": AlertStatus.RESOLVED, "resolved_at": NOW})
    reopened = alert(await store.next_alert_id(), job="old", opened_at=NOW)
    fresh = alert(await store.next_alert_id(), job="new")
    mute = await store.add_mute(
        Mute(
            id=0,
            rule_id=RULE,
            matchers={"JobId": "new"},
            until=NOW + minutes(30),
            created_by="alex",
            created_at=NOW,
        )
    )
    await store.add_mute(
        Mute(id=0, rule_id=RULE, until=NOW - minutes(1), created_by="alex", created_at=NOW)
    )
    outbox = [delivery(event(AlertEventKind.FIRED, fresh)), delivery(event(subject=reopened))]

    saved = await store.commit_cycle(
        rule_id=RULE,
        alerts=[reopened, fresh, resolved],  # the insert of "old" must wait for the update
        dimension_states=[_state("old", True), _state("new", True, False)],
        health=_health(consecutive_errors=0),
        outbox=outbox,
    )

    assert [(a.id, a.version) for a in saved] == [(reopened.id, 1), (fresh.id, 1), (1, 2)]
    state = await store.load_rule_state(RULE, now=NOW)
    assert state.open_alerts == [saved[1], saved[0]]
    assert state.dimension_states == sorted(
        [_state("old", True), _state("new", True, False)], key=lambda s: s.fingerprint
    )
    assert state.health == _health(consecutive_errors=0)
    assert state.mutes == [mute]
    assert [item.event for item in await store.list_outbox()] == [item.event for item in outbox]


async def test_a_cycle_with_a_stale_alert_writes_nothing(store: SqlStore) -> None:
    await store.save_alert(alert(1, job="a"))
    stale = await store.get_alert(1)
    assert stale is not None
    await store.save_alert(stale.model_copy(update={"acknowledged_by": "alex"}))
    before = await store.load_rule_state(RULE, now=NOW)

    with pytest.raises(ConflictError):
        await store.commit_cycle(
            rule_id=RULE,
            alerts=[alert(2, job="b"), stale.model_copy(update={"value": 9.0})],
            dimension_states=[_state("a", True)],
            health=_health(),
            outbox=[delivery(event(subject=stale))],
        )

    assert await store.load_rule_state(RULE, now=NOW) == before
    assert await store.get_alert(2) is None
    assert await store.list_outbox() == []


async def test_a_crash_mid_cycle_writes_nothing(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def crash(self: SqlOperations, health: RuleHealth) -> None:
        raise RuntimeError("process killed between writes")

    # The alerts and the dimension states are written before the health: then it dies.
    monkeypatch.setattr(SqlOperations, "save_rule_health", crash)
    fresh = alert(await store.next_alert_id())
    with pytest.raises(RuntimeError):
        await store.commit_cycle(
            rule_id=RULE,
            alerts=[fresh],
            dimension_states=[_state("job-1", True)],
            health=_health(),
            outbox=[delivery(event(subject=fresh))],
        )
    monkeypatch.undo()

    state = await store.load_rule_state(RULE, now=NOW)
    assert (state.open_alerts, state.dimension_states, state.health) == ([], [], None)
    assert await store.list_outbox() == []


async def test_a_transaction_that_raises_leaves_no_trace(store: SqlStore) -> None:
    await store.save_alert(alert(1))
    current = await store.get_alert(1)
    assert current is not None

    async def acknowledge_then_fail() -> None:
        async with store.transaction() as tx:
            await tx.save_alert(current.model_copy(update={"status": AlertStatus.ACKNOWLEDGED}))
            await tx.append_audit(AuditEntry(at=NOW, actor="alex", action="ack", alert_id=1))
            seen_inside = await tx.get_alert(1)
            assert seen_inside is not None
            assert seen_inside.status == AlertStatus.ACKNOWLEDGED
            raise RuntimeError("card update failed")

    with pytest.raises(RuntimeError, match="card update failed"):
        await acknowledge_then_fail()
    assert await store.get_alert(1) == current
    assert await store.list_audit(alert_id=1) == []


async def test_a_cycle_must_be_one_rules(store: SqlStore) -> None:
    with pytest.raises(ValueError, match="another rule"):
        await store.commit_cycle(
            rule_id=RULE,
            alerts=[alert(1, rule_id="pim-spike")],
            dimension_states=[],
            health=_health(),
            outbox=[],
        )


async def test_dimension_states_are_replaced_and_health_is_upserted(store: SqlStore) -> None:
    await store.replace_dimension_states(RULE, [_state("a", True), _state("b", False)])
    await store.replace_dimension_states(RULE, [_state("b", True)])
    assert await store.list_dimension_states(RULE) == [_state("b", True)]
    await store.save_rule_health(_health(last_error="timeout", consecutive_errors=2))
    await store.save_rule_health(_health(consecutive_errors=0))
    other = RuleHealth(rule_id="a-rule")
    await store.save_rule_health(other)
    assert await store.list_rule_health() == [other, _health(consecutive_errors=0)]
    assert await store.get_rule_health("missing") is None


async def test_mutes_are_listed_while_active_and_expire(store: SqlStore) -> None:
    await store.save_alert(alert(7))
    by_alert = Mute(
        id=0,
        rule_id=RULE,
        alert_id=7,
        until=NOW + minutes(60),
        created_by="alex",
        created_at=NOW,
        reason="known issue",
    )
    by_dimension = Mute(
        id=0,
        rule_id=RULE,
        matchers={"JobId": "job-2"},
        until=NOW + minutes(10),
        created_by="megan",
        created_at=NOW.astimezone(CEST),
    )
    first, second = await store.add_mute(by_alert), await store.add_mute(by_dimension)
    assert second.id > first.id > 0
    assert await store.list_mutes(now=NOW) == [first, second]
    assert await store.list_mutes(now=NOW + minutes(10)) == [first]
    assert await store.list_mutes(now=NOW, rule_id="other") == []
    assert await store.expire_mutes(now=NOW + minutes(10)) == [second]
    assert await store.delete_mute(first.id) is True
    assert await store.delete_mute(first.id) is False
    assert await store.list_mutes(now=NOW) == []
    with pytest.raises(StoreError, match="no alert 99"):
        await store.add_mute(by_alert.model_copy(update={"alert_id": 99}))
