"""Deliver the outbox: claim conversations under a lease, deliver their due items, record outcomes.

Per conversation: a worker (a replica) leases a conversation with due items, so one
place at a time delivers to it, its items in enqueue order; the first that must wait
(a retry, pacing) ends the turn and the rest go back untried. Different conversations
are delivered concurrently, up to `concurrency` at once (the channels' pacers keep the
app within its rate limit), so a fan-out to many conversations is not serial.

At least once: an item is marked sent only after the notifier said so, so a crash between
the two delivers it again once its lease expires (the idempotency key lets the channel
show it once). A turn's last item is marked sent in the same write that releases the
conversation (a fan-out's turns are one item each: one write, not two). Failures worth
retrying wait an exponential backoff with jitter, or longer if the channel said how long
(Retry-After); after `max_attempts` the item is given up.

Time is the injected clock's, the same one the engine evaluates with, since the store
compares it with the times the engine wrote (`next_attempt_at`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.logs import log_context
from bot.models import Clock, OutboxItem
from bot.notify.base import DeliveryResult, Notifier, describe_event
from bot.store.base import OutboxOperations

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When to try a failed delivery again, and when to give up."""

    max_attempts: int = 8
    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(minutes=15)

    def next_attempt(
        self, *, attempts: int, requested: float | None, now: datetime, rand: float
    ) -> datetime | None:
        """After `attempts` attempts, the time of the next one, or None to give up.

        Pure: `rand` in [0, 1) spreads retries between half and all of the backoff, so
        deliveries that failed together do not retry together; a channel's own wait
        (`requested` seconds) is honoured even when longer than the cap.
        """
        if attempts >= self.max_attempts:
            return None
        doublings = min(max(attempts - 1, 0), 30)  # 2**30 periods is beyond any cap
        backoff = min(self.cap, self.base * (1 << doublings))
        delay = backoff * (0.5 + rand / 2)
        if requested is not None:
            delay = max(delay, timedelta(seconds=requested))
        return now + delay


def worker_name() -> str:
    """Unique per process: a lease names who holds it."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class OutboxDispatcher:
    """Delivers due outbox items until stopped; `wake()` after enqueueing skips the wait."""

    def __init__(
        self,
        *,
        store: OutboxOperations,
        notifier: Notifier,
        clock: Clock,
        policy: RetryPolicy | None = None,
        lease: timedelta = timedelta(minutes=2),
        batch_size: int = 10,
        poll_interval: float = 1.0,
        rand: Callable[[], float] = random.random,
        concurrency: int = 16,
        worker: str | None = None,
    ) -> None:
        self._concurrency = concurrency
        self._turns: set[asyncio.Task[int]] = set()
        self._store = store
        self._notifier = notifier
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self._lease = lease
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._rand = rand
        # A whole batch is delivered within its lease, so no one else claims it meanwhile.
        self._delivery_timeout = lease.total_seconds() / batch_size
        self.worker = worker or worker_name()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="outbox-dispatcher")

    async def stop(self) -> None:
        """Finish the delivery in hand (within its timeout), then stop."""
        if self._task is None:
            return
        self._stopping.set()
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self._delivery_timeout + 5)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    def wake(self) -> None:
        self._wake.set()

    async def dispatch_due(self) -> int:
        """One round: claim what is due now and deliver it. Returns how many were claimed."""
        turns = [asyncio.create_task(self._turn(batch)) for batch in await self._claim()]
        return sum(await asyncio.gather(*turns))

    async def _claim(self, conversations: int | None = None) -> list[list[OutboxItem]]:
        return await self._store.claim_conversations(
            worker=self.worker,
            now=self._clock(),
            lease=self._lease,
            conversations=conversations or self._concurrency,
            per_conversation=self._batch_size,
        )

    async def _turn(self, batch: list[OutboxItem]) -> int:
        """Deliver one conversation's claimed items in order, then release it.

        The turn's last item, when sent, is marked sent in the release's transaction (one
        write, not two: a fan-out's turns are one item each); every earlier one is marked
        sent before the next is tried, so a crash never leaves a delivered item unmarked
        while a later one goes out."""
        unsent = [item.id for item in batch]
        sent: tuple[int, str | None] | None = None
        try:
            with log_context(conversation_id=batch[0].conversation_id):
                for item in batch:
                    with log_context(alert_id=_alert_id(item), rule_id=item.event.rule_id):
                        result = await self._deliver(item)
                        unsent.remove(item.id)
                        if result.outcome == "sent" and not unsent:
                            sent = (item.id, result.message_id)
                        else:
                            await self._record(item, result)
                    if result.outcome == "retry":
                        break  # the rest wait their turn: order within a conversation holds
        finally:
            await self._store.release_conversation(
                batch[0].conversation_id,
                worker=self.worker,
                now=self._clock(),
                unsent=unsent,
                sent=sent,
            )
        return len(batch)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            free = self._concurrency - len(self._turns)
            claimed = 0
            # Claim in batches (one query for many conversations), not one per finished turn.
            if free > 0 and (free >= self._concurrency // 2 or not self._turns):
                try:
                    batches = await self._claim(free)
                except Exception:  # the edge's one catch-all: e.g. the store is down
                    log.exception("outbox: a dispatch round failed; trying again shortly")
                    batches = []
                claimed = len(batches)
                for batch in batches:
                    self._start_turn(batch)
            if claimed < free or len(self._turns) >= self._concurrency // 2:
                await self._idle()
        if self._turns:
            await asyncio.gather(*self._turns, return_exceptions=True)

    def _start_turn(self, batch: list[OutboxItem]) -> None:
        task = asyncio.create_task(self._turn(batch), name=f"outbox:{batch[0].conversation_id}")
        self._turns.add(task)
        task.add_done_callback(self._turn_done)

    def _turn_done(self, task: asyncio.Task[int]) -> None:
        self._turns.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox: a delivery turn failed", exc_info=task.exception())
        self._wake.set()  # room for another conversation

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._poll_interval)
        self._wake.clear()

    async def _deliver(self, item: OutboxItem) -> DeliveryResult:
        try:
            async with asyncio.timeout(self._delivery_timeout):
                return await self._notifier.deliver(item)
        except Exception as error:  # a notifier that raised: worth another try
            log.warning(
                "outbox: delivery %d to %s raised", item.id, item.conversation_id, exc_info=True
            )
            reason = f"{type(error).__name__}: {error}".rstrip(": ")
            return DeliveryResult.retry_after(None, reason=reason)

    async def _record(self, item: OutboxItem, result: DeliveryResult) -> None:
        if result.outcome == "sent":
            await self._store.mark_sent(item.id, message_id=result.message_id)
            return
        retry_at = None
        if result.outcome == "retry":
            retry_at = self._policy.next_attempt(
                attempts=item.attempts,
                requested=result.delay_seconds,
                now=self._clock(),
                rand=self._rand(),
            )
        error = result.reason or result.outcome
        held = await self._store.mark_failed(
            item.id, worker=self.worker, error=error, retry_at=retry_at
        )
        _log_failure(item, error, retry_at, held, self._policy.max_attempts)


def _alert_id(item: OutboxItem) -> int | None:
    return None if item.event.alert is None else item.event.alert.id


def _log_failure(
    item: OutboxItem, error: str, retry_at: datetime | None, held: bool, max_attempts: int
) -> None:
    what = f"delivery {item.id} to {item.conversation_id} ({describe_event(item.event)})"
    if not held:
        log.warning("outbox: %s failed (%s), but its lease had expired", what, error)
    elif retry_at is None:
        log.error("outbox: gave up %s after %d attempts: %s", what, item.attempts, error)
    else:
        log.warning(
            "outbox: %s failed (attempt %d of %d): %s; next try at %s",
            what,
            item.attempts,
            max_attempts,
            error,
            retry_at.isoformat(),
        )
