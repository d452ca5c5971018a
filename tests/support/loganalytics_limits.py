"""Log Analytics' per-user query limits, as the local server enforces them when asked.

As documented in "User query throttling" (Azure Monitor service limits,
https://learn.microsoft.com/azure/azure-monitor/service-limits#log-queries-and-language):
a user runs at most 5 queries at once and any other waits in a queue; a query that waits
more than 3 minutes, or finds 200 already waiting, is refused with 429; and a user submits
at most 200 queries per 30 seconds. The azure-monitor-query SDK documents that a query
throttled inside a batch comes back as that item's error with code ThrottledError, so a
$batch's queries are counted and refused one by one (`batch_counts="items"`); the other
reading of the Query API table ("200 requests per 30 seconds") is `batch_counts="request"`.
Limits are per principal (the bearer token).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Limits:
    concurrent: int = 5
    queue: int = 200
    queue_timeout: float = 180.0
    rate: int = 200
    window: float = 30.0
    batch_counts: Literal["items", "request"] = "items"


class LimitExceededError(Exception):
    """Answer 429 with this Retry-After."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class LimitStats:
    """What the limits saw: the peaks and how many answers were 429."""

    throttled: int = 0
    peak_running: int = 0
    peak_requests: int = 0
    queries: int = 0


@dataclass
class _Principal:
    running: int = 0
    waiting: int = 0
    requests: int = 0
    admitted: deque[float] = field(default_factory=deque)
    freed: asyncio.Condition = field(default_factory=asyncio.Condition)


class QueryGate:
    """The limits of every principal, and what they saw."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.stats = LimitStats()
        self._principals: dict[str, _Principal] = {}

    @asynccontextmanager
    async def request(self, principal: str) -> AsyncIterator[None]:
        """An HTTP request in flight (counted for the peak, not limited)."""
        state = self._state(principal)
        state.requests += 1
        self.stats.peak_requests = max(self.stats.peak_requests, state.requests)
        try:
            yield
        finally:
            state.requests -= 1

    def count(self, principal: str) -> None:
        """One more query (or $batch) against the rate; LimitExceededError when over it."""
        state, now = self._state(principal), time.monotonic()
        while state.admitted and state.admitted[0] <= now - self.limits.window:
            state.admitted.popleft()
        if len(state.admitted) >= self.limits.rate:
            wait = math.ceil(state.admitted[0] + self.limits.window - now)
            raise self._throttled(
                f"Rate limit of {self.limits.rate} queries per {self.limits.window:g} s exceeded.",
                max(1, wait),
            )
        state.admitted.append(now)
        self.stats.queries += 1

    @asynccontextmanager
    async def run(self, principal: str) -> AsyncIterator[None]:
        """One query running: wait in the queue for one of the places, or LimitExceededError."""
        state = self._state(principal)
        if state.running < self.limits.concurrent:
            state.running += 1  # taken at once (no await) so the next arrival sees it
        else:
            await self._queue(state)
        self.stats.peak_running = max(self.stats.peak_running, state.running)
        try:
            yield
        finally:
            state.running -= 1
            async with state.freed:
                state.freed.notify()

    async def _queue(self, state: _Principal) -> None:
        if state.waiting >= self.limits.queue:
            raise self._throttled("Too many queries are waiting in the queue.", 1)
        state.waiting += 1

        async def take_a_place() -> None:
            async with state.freed:
                await state.freed.wait_for(lambda: state.running < self.limits.concurrent)
                state.running += 1

        try:
            await asyncio.wait_for(take_a_place(), self.limits.queue_timeout)
        except TimeoutError:
            raise self._throttled("The query waited too long in the queue.", 1) from None
        finally:
            state.waiting -= 1

    def _throttled(self, message: str, retry_after: float) -> LimitExceededError:
        self.stats.throttled += 1
        return LimitExceededError(message, retry_after)

    def _state(self, principal: str) -> _Principal:
        return self._principals.setdefault(principal, _Principal())
