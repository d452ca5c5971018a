"""Coalescing: queries that arrive together leave together, each caller awaiting its own answer.

The first query to arrive opens a short window (`window` seconds); every query that arrives
before it closes, or until `max_batch` have gathered, goes out in one `send`. While the
requests already sent fill the limiter, queries keep gathering, so batches grow with load
and never wait longer than the window when the workspace is idle (group commit).

A sender gets the gathered queries and sets each one's future (a result or an exception),
or hands one back with `retry` (after a 429); one it does neither for gets a RuntimeError,
so no caller waits for ever. If `place()` itself fails, the batch it would have admitted
gets that error and the queries behind it are still sent.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from bot.workspace.base import QueryResult, TimeSpan


@dataclass(eq=False)
class PendingQuery:
    kql: str
    timespan: TimeSpan
    future: asyncio.Future[QueryResult] = field(repr=False)
    attempts: int = 0


Send = Callable[[Sequence[PendingQuery]], Awaitable[None]]
Place = Callable[[], AbstractAsyncContextManager[None]]


class Coalescer:
    """Gathers queries into batches of at most `max_batch` and hands each batch to `send`
    once `place()` (the limiter's concurrency) admits it."""

    def __init__(self, *, send: Send, place: Place, max_batch: int, window: float) -> None:
        if max_batch < 1 or window < 0:
            raise ValueError("max_batch must be at least 1 and window not negative")
        self._send = send
        self._place = place
        self._max_batch = max_batch
        self._window = window
        self._pending: list[PendingQuery] = []
        self._waiting = 0  # drains started that have not yet taken their batch
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def query(self, kql: str, *, timespan: TimeSpan) -> QueryResult:
        future: asyncio.Future[QueryResult] = asyncio.get_running_loop().create_future()
        self.submit(PendingQuery(kql, timespan, future))
        return await future

    def submit(self, item: PendingQuery) -> None:
        """Queue `item` for the next batch."""
        self._pending.append(item)
        self._kick()

    def retry(self, item: PendingQuery) -> None:
        """Send `item` again in a later batch (the batch it was in no longer answers for it)."""
        item.attempts += 1
        self.submit(item)

    async def close(self) -> None:
        """Stop: fail what has not been sent, and cancel the batches in flight."""
        if self._timer is not None:
            self._timer.cancel()
        for item in self._pending:
            if not item.future.done():
                item.future.set_exception(RuntimeError("the workspace was closed"))
        self._pending.clear()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _kick(self) -> None:
        """Enough drains for every full batch now; the window's timer for the rest."""
        while self._waiting < len(self._pending) // self._max_batch:
            self._start_drain()
        needed = math.ceil(len(self._pending) / self._max_batch)
        if needed > self._waiting and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._window, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if math.ceil(len(self._pending) / self._max_batch) > self._waiting:
            self._start_drain()

    def _start_drain(self) -> None:
        self._waiting += 1
        task = asyncio.get_running_loop().create_task(self._drain())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self) -> None:
        taken: list[tuple[PendingQuery, int]] = []
        admitted = False
        try:
            async with self._place():
                admitted = True
                taken = self._take()
                if taken:
                    await self._send([item for item, _ in taken])
        except BaseException as error:
            if not admitted and isinstance(error, Exception):
                # The limiter refused this drain: the batch it was for gets the refusal
                # (another drain could be refused alike), and the rest get drains.
                taken = self._take()
            elif not admitted:
                self._waiting -= 1  # cancelled while waiting: close() fails the pending
            self._fail(taken, error)
            if not isinstance(error, Exception):
                raise
        finally:
            self._fail(taken, RuntimeError("the batch sent no answer for it"))

    def _take(self) -> list[tuple[PendingQuery, int]]:
        """This drain's batch, out of the pending queries; drains for the rest."""
        self._waiting -= 1
        batch = self._pending[: self._max_batch]
        del self._pending[: len(batch)]
        self._kick()
        return [(item, item.attempts) for item in batch]

    @staticmethod
    def _fail(taken: Sequence[tuple[PendingQuery, int]], error: BaseException) -> None:
        """Fail the unanswered queries this batch still answers for (not those retried)."""
        for item, attempts in taken:
            if item.attempts == attempts and not item.future.done():
                item.future.set_exception(error)
