"""Evaluation slots: the scheduled times a rule is evaluated at, the same on every replica.

A rule of frequency F is evaluated at `offset + k * F` (k whole), not at whatever moment a
process's timer fired. Every replica therefore computes the same evaluation time, hence
the same events and idempotency keys, and the store can let exactly one evaluation of
each (rule, slot) commit (bot.store: the `evaluations` claim row).

The offset spreads rules over the period (at most `spread`) so that rules of the same
frequency do not all query at once; it comes from a digest of the rule id, so every
replica agrees on it without talking. Pure: times are given.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

#: Slots are counted from here (any fixed instant would do; it must never change).
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def slot_offset(rule_id: str, *, frequency: timedelta, spread: timedelta) -> timedelta:
    """Where in its period a rule's slots fall: the same for `rule_id` everywhere,
    in [0, min(frequency, spread)), whole milliseconds."""
    width_ms = int(min(frequency, spread) / timedelta(milliseconds=1))
    if width_ms <= 0:
        return timedelta(0)
    fraction = int.from_bytes(hashlib.sha256(rule_id.encode()).digest()[:8], "big")
    return timedelta(milliseconds=fraction % width_ms)


def slot_at(now: datetime, *, frequency: timedelta, offset: timedelta) -> datetime:
    """The latest slot at or before `now`: floor((now - offset) / frequency) slots on."""
    if frequency <= timedelta(0):
        raise ValueError(f"a rule's frequency must be positive, not {frequency}")
    elapsed = now - EPOCH - offset
    return EPOCH + offset + frequency * (elapsed // frequency)


def next_slot(now: datetime, *, frequency: timedelta, offset: timedelta) -> datetime:
    """The first slot after `now`."""
    return slot_at(now, frequency=frequency, offset=offset) + frequency
