"""The per-principal budget every Log Analytics request spends: concurrency, query rate, 429 holds.

Log Analytics limits each user or service principal ("User query throttling" in Azure
Monitor service limits, https://learn.microsoft.com/azure/azure-monitor/service-limits):

    Concurrent queries    5     more wait in the service's queue (at most 200, at most 3 min)
    Query rate            200 queries per 30 s, over all workspaces

The rate is counted in queries: a $batch of N queries spends N (the service-limits page
says "queries per 30 seconds"; its Query API table says "requests", and we take the
stricter reading, so a batch never earns a 429 the single path would not). Concurrency is
counted in HTTP requests: the queries of one batch wait in the service's own queue, which
holds 200, far more than `max_concurrent` batches of `AzureWorkspace`'s batch size.

One QueryLimiter is shared by every request of one AzureWorkspace (evaluation and chat), so
a burst waits here instead of being refused there. A 429 that comes anyway `hold`s every
request until its Retry-After has passed.

The service counts a query when it arrives, which is some time after we send it; so a
request's queries count here from when it is sent until `window` seconds after its answer
came back, never expiring here before they do there.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Final

#: The documented per-principal limits (see the module docstring).
MAX_CONCURRENT: Final = 5
QUERIES_PER_WINDOW: Final = 200
WINDOW_SECONDS: Final = 30.0

Sleep = Callable[[float], Awaitable[None]]


class QueryLimiter:
    """Admits requests within `max_concurrent` at once and `rate` queries per `window` s
    (`rate=None`: no rate limit). Waiters are served first come, first served."""

    def __init__(
        self,
        *,
        max_concurrent: int = MAX_CONCURRENT,
        rate: int | None = QUERIES_PER_WINDOW,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if max_concurrent < 1 or (rate is not None and rate < 1) or window <= 0:
            raise ValueError("max_concurrent and rate must be at least 1, window positive")
        self._slots = asyncio.Semaphore(max_concurrent)
        self._rate = rate
        self._window = window
        self._clock = clock
        self._sleep = sleep
        self._spent: list[list[float]] = []  # [answered at (inf: in flight), queries]
        self._spending = asyncio.Lock()  # one waiter at a time keeps the order fair
        self._held_until = 0.0
        self.max_in_flight = 0  # the most requests ever admitted at once (for benchmarks)
        self._in_flight = 0

    @asynccontextmanager
    async def request(self, queries: int = 1) -> AsyncIterator[None]:
        """Hold one of the concurrent places, with `queries` spent from the rate, for the block."""
        async with self.place(), self.spending(queries):
            yield

    @asynccontextmanager
    async def place(self) -> AsyncIterator[None]:
        """One of the `max_concurrent` places, for the block (the rate is spent apart)."""
        async with self._slots:
            await self._wait_for_hold()
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            try:
                yield
            finally:
                self._in_flight -= 1

    @asynccontextmanager
    async def spending(self, queries: int) -> AsyncIterator[None]:
        """Wait until `queries` more fit in the rate window; they count from now until
        `window` s after the block (the request) ends."""
        entry = [math.inf, float(queries)]
        async with self._spending:
            await self._wait_for_hold()
            if self._rate is not None:
                wanted = min(queries, self._rate)  # a batch over the rate waits for all of it
                while (wait := self._wait_for_room(wanted)) > 0:
                    await self._sleep(wait)
                self._spent.append(entry)
        try:
            yield
        finally:
            entry[0] = self._clock()

    def hold(self, seconds: float) -> None:
        """The service said 429 with Retry-After: admit nothing new for `seconds`."""
        self._held_until = max(self._held_until, self._clock() + max(0.0, seconds))

    def _wait_for_room(self, wanted: int) -> float:
        now = self._clock()
        self._spent = [entry for entry in self._spent if entry[0] > now - self._window]
        assert self._rate is not None
        used = sum(queries for _, queries in self._spent)
        if used + wanted <= self._rate:
            return 0.0
        # Wait until enough of the oldest answered spending leaves the window.
        freed = 0.0
        for when, queries in sorted(self._spent):
            if math.isinf(when):
                break
            freed += queries
            if used - freed + wanted <= self._rate:
                return when + self._window - now
        return min(self._window, 0.05) if self._spent else self._window  # wait for answers

    async def _wait_for_hold(self) -> None:
        while (wait := self._held_until - self._clock()) > 0:
            await self._sleep(wait)
