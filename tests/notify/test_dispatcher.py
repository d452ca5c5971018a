"""The outbox dispatcher over a real SQLite store: sent, retried with backoff, given up, leased."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.models import AlertEvent, AlertEventKind, ChannelKind, OutboxItem, OutboxStatus
from bot.notify import (
    DeliveryResult,
    FileNotifier,
    OutboxDispatcher,
    RecordingNotifier,
    RetryPolicy,
)
from bot.store import new_outbox_item
from bot.store.sql import SqlStore, open_store

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)
S = timedelta(seconds=1)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    opened = await open_store(f"sqlite+aiosqlite:///{tmp_path}/alertbot.db")
    yield opened
    await opened.close()


async def enqueue(store: SqlStore, *conversations: str) -> list[OutboxItem]:
    event = AlertEvent(kind=AlertEventKind.EVALUATION_ERROR, at=T0, rule_id="r", detail="boom")
    items = [
        new_outbox_item(event, conversation_id=c, channel=ChannelKind.TEAMS, not_before=T0)
        for c in conversations
    ]
    return await store.enqueue(items)


def dispatcher(
    store: SqlStore, notifier: RecordingNotifier, clock: Clock, **options: object
) -> OutboxDispatcher:
    return OutboxDispatcher(
        store=store,
        notifier=notifier,
        clock=clock,
        policy=RetryPolicy(max_attempts=3, base=10 * S, cap=60 * S),
        rand=lambda: 0.0,
        **options,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("attempts", "requested", "rand", "expected"),
    [
        (1, None, 0.0, 5 * S),  # half of the base ...
        (1, None, 0.999999, 10 * S),  # ... up to all of it
        (2, None, 0.0, 10 * S),  # doubling
        (3, None, 0.0, 20 * S),
        (3, 120.0, 0.0, 120 * S),  # the channel's Retry-After wins when longer
        (3, 1.0, 0.0, 20 * S),
        (9, None, 0.0, 30 * S),  # capped at 60 s (then jittered)
        (10, None, 0.0, None),  # max_attempts reached: give up
    ],
)
def test_retry_policy(
    attempts: int, requested: float | None, rand: float, expected: timedelta | None
) -> None:
    policy = RetryPolicy(max_attempts=10, base=10 * S, cap=60 * S)
    retry_at = policy.next_attempt(attempts=attempts, requested=requested, now=T0, rand=rand)
    if expected is None:
        assert retry_at is None
    else:
        assert retry_at is not None
        assert retry_at - T0 == pytest.approx(expected, abs=timedelta(microseconds=10))


async def test_a_delivery_is_marked_sent_with_its_message(store: SqlStore) -> None:
    (item,) = await enqueue(store, "ops")
    notifier = RecordingNotifier()
    assert await dispatcher(store, notifier, Clock()).dispatch_due() == 1

    (stored,) = await store.list_outbox()
    assert (stored.status, stored.message_id, stored.attempts) == (
        OutboxStatus.SENT,
        f"msg-{item.id}",
        1,
    )
    assert [i.id for i in notifier.delivered] == [item.id]


async def test_a_retry_waits_for_the_backoff_or_the_channels_retry_after(store: SqlStore) -> None:
    await enqueue(store, "ops", "sec")
    clock = Clock()
    notifier = RecordingNotifier(
        [DeliveryResult.retry_after(30, reason="429"), ConnectionResetError("reset")]
    )
    running = dispatcher(store, notifier, clock)
    await running.dispatch_due()

    ops, sec = await store.list_outbox()
    assert (ops.status, ops.last_error, ops.next_attempt_at) == (
        OutboxStatus.PENDING,
        "429",
        T0 + 30 * S,
    )
    assert (sec.last_error, sec.next_attempt_at) == ("ConnectionResetError: reset", T0 + 5 * S)
    clock.now = T0 + 10 * S
    assert await running.dispatch_due() == 1  # sec only
    clock.now = T0 + 30 * S
    assert await running.dispatch_due() == 1  # then ops
    assert {i.status for i in await store.list_outbox()} == {OutboxStatus.SENT}


async def test_a_permanent_failure_is_not_retried_and_retries_end(store: SqlStore) -> None:
    await enqueue(store, "gone", "flaky")
    clock = Clock()
    retry = DeliveryResult.retry_after(None, reason="503")
    notifier = RecordingNotifier(
        [DeliveryResult.permanent_failure("403 BotNotInConversationRoster"), retry, retry, retry]
    )
    running = dispatcher(store, notifier, clock)
    for _ in range(4):
        await running.dispatch_due()
        clock.now += timedelta(minutes=5)

    gone, flaky = await store.list_outbox()
    assert (gone.status, gone.attempts) == (OutboxStatus.FAILED, 1)
    assert (flaky.status, flaky.attempts, flaky.last_error) == (OutboxStatus.FAILED, 3, "503")
    assert notifier.delivered == []


async def test_what_a_dead_worker_claimed_is_delivered_once_its_lease_expires(
    store: SqlStore,
) -> None:
    await enqueue(store, "ops")
    await store.claim_due(worker="dead", now=T0, lease=60 * S)
    clock = Clock()
    notifier = RecordingNotifier()
    running = dispatcher(store, notifier, clock)

    assert await running.dispatch_due() == 0
    clock.now = T0 + 61 * S
    assert await running.dispatch_due() == 1
    (item,) = await store.list_outbox()
    assert (item.status, item.attempts) == (OutboxStatus.SENT, 2)


async def test_the_running_dispatcher_delivers_when_woken(store: SqlStore) -> None:
    notifier = RecordingNotifier()
    running = dispatcher(store, notifier, Clock(), poll_interval=30.0)
    running.start()
    try:
        await asyncio.sleep(0.1)
        await enqueue(store, "ops")
        running.wake()
        for _ in range(50):
            if notifier.delivered:
                break
            await asyncio.sleep(0.02)
    finally:
        await running.stop()
    assert not running.running
    assert [i.conversation_id for i in notifier.delivered] == ["ops"]


async def test_the_file_notifier_writes_one_json_line_per_delivery(
    store: SqlStore, tmp_path: Path
) -> None:
    (item,) = await enqueue(store, "ops")
    path = tmp_path / "out" / "deliveries.jsonl"
    result = await FileNotifier(path).deliver(item)
    await FileNotifier(path).deliver(item)

    assert result == DeliveryResult.sent(f"file:{item.id}")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 2
    assert lines[0]["key"] == item.idempotency_key
    assert (lines[0]["conversation_id"], lines[0]["kind"]) == ("ops", "evaluation_error")


async def test_each_item_of_a_turn_is_marked_sent_before_the_next_is_tried(
    store: SqlStore,
) -> None:
    """The turn's last item is marked sent with the release (one write); every earlier
    one before the next goes, so a crash never leaves a delivered item unmarked behind
    a later delivery."""
    event = AlertEvent(kind=AlertEventKind.EVALUATION_ERROR, rule_id="r", at=T0, detail="d")
    items = await store.enqueue(
        [
            new_outbox_item(
                event.model_copy(update={"at": T0 + n * S}),
                conversation_id="ops",
                channel=ChannelKind.TEAMS,
                not_before=T0,
            )
            for n in range(3)
        ]
    )
    seen: list[list[OutboxStatus]] = []

    class Watching(RecordingNotifier):
        async def deliver(self, item: OutboxItem) -> DeliveryResult:
            seen.append([stored.status for stored in await store.list_outbox()])
            return await super().deliver(item)

    notifier = Watching()
    releases: list[dict[str, object]] = []
    release = store.release_conversation

    async def spy(conversation_id: str, **options: Any) -> bool:
        releases.append(options)
        return await release(conversation_id, **options)

    store.release_conversation = spy  # type: ignore[method-assign]
    assert await dispatcher(store, notifier, Clock()).dispatch_due() == 3
    sent, pending = OutboxStatus.SENT, OutboxStatus.PENDING
    assert seen == [[pending] * 3, [sent, pending, pending], [sent, sent, pending]]
    assert [i.id for i in notifier.delivered] == [i.id for i in items]  # in order
    assert [s.status for s in await store.list_outbox()] == [sent] * 3
    [released] = releases
    assert released["sent"] == (items[-1].id, f"msg-{items[-1].id}")
    assert released["unsent"] == []
    # The conversation is free again: another worker may claim it at once.
    later = event.model_copy(update={"at": T0 + 10 * S})
    await store.enqueue(
        [new_outbox_item(later, conversation_id="ops", channel=ChannelKind.TEAMS, not_before=T0)]
    )
    assert await store.claim_conversations(
        worker="other", now=T0, lease=S, conversations=1, per_conversation=1
    )


async def test_a_turn_that_ends_in_a_retry_marks_nothing_sent_with_the_release(
    store: SqlStore,
) -> None:
    await enqueue(store, "ops")
    notifier = RecordingNotifier([DeliveryResult.retry_after(30, reason="429")])
    assert await dispatcher(store, notifier, Clock()).dispatch_due() == 1
    [stored] = await store.list_outbox()
    assert stored.status is OutboxStatus.PENDING
    assert stored.next_attempt_at >= T0 + 30 * S
