"""Evaluation slots: the same times on every replica, as tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.alerts.slots import next_slot, slot_at, slot_offset

S, M, H = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)
T = datetime(2026, 3, 2, 12, tzinfo=UTC)  # a whole hour since the slots' epoch


@pytest.mark.parametrize(
    ("now", "frequency", "offset", "expected"),
    [
        (T, 5 * M, 0 * S, T),
        (T + 4 * M + 59 * S, 5 * M, 0 * S, T),
        (T + 5 * M, 5 * M, 0 * S, T + 5 * M),
        # The offset moves every slot; a time before it belongs to the previous period.
        (T + 20 * S, 5 * M, 30 * S, T - 4 * M - 30 * S),
        (T + 30 * S, 5 * M, 30 * S, T + 30 * S),
        (T + 59 * M, H, 0 * S, T),
        (T + 12 * S + timedelta(microseconds=5), 15 * S, 0 * S, T),
    ],
)
def test_a_time_belongs_to_the_latest_slot_at_or_before_it(
    now: datetime, frequency: timedelta, offset: timedelta, expected: datetime
) -> None:
    assert slot_at(now, frequency=frequency, offset=offset) == expected
    assert next_slot(now, frequency=frequency, offset=offset) == expected + frequency


def test_replicas_starting_at_different_moments_agree_on_every_slot() -> None:
    frequency = 5 * M
    offset = slot_offset("rule-a", frequency=frequency, spread=M)
    fired = [T + delay for delay in (0.2 * S, 7 * S, 41 * S)]  # three replicas' timers
    slots = {slot_at(when + offset, frequency=frequency, offset=offset) for when in fired}
    assert slots == {T + offset}


@pytest.mark.parametrize(
    ("frequency", "spread"), [(5 * M, M), (30 * S, M), (H, 10 * M), (5 * M, 0 * S)]
)
def test_a_rules_offset_is_fixed_by_its_id_and_within_the_spread(
    frequency: timedelta, spread: timedelta
) -> None:
    offsets = {
        rule_id: slot_offset(rule_id, frequency=frequency, spread=spread)
        for rule_id in ("a", "b", "provisioning-failure-spike", "pim-activation")
    }
    again = {
        rule_id: slot_offset(rule_id, frequency=frequency, spread=spread) for rule_id in offsets
    }
    assert offsets == again
    assert all(timedelta(0) <= o < max(min(frequency, spread), S) for o in offsets.values())
    if spread > timedelta(0):
        assert len(set(offsets.values())) > 1  # rules spread out


def test_a_frequency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        slot_at(T, frequency=timedelta(0), offset=timedelta(0))
