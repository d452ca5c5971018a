"""QueryLimiter on a fake clock: the rate window counts from each answer, 429s hold everything."""

from __future__ import annotations

import asyncio

from bot.workspace.query_limiter import QueryLimiter


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def limiter(time: FakeTime, **options: float) -> QueryLimiter:
    return QueryLimiter(clock=time.clock, sleep=time.sleep, **options)  # type: ignore[arg-type]


async def test_queries_over_the_rate_wait_until_the_oldest_answers_leave_the_window() -> None:
    time = FakeTime()
    limits = limiter(time, rate=10, window=30.0)

    async with limits.request(6):
        time.now = 2.0  # answered at 2 s: counts until 32 s
    async with limits.request(4):
        pass
    async with limits.request(3):
        pass

    assert time.slept == [30.0]  # from 2 s to 32 s, when the first 6 leave


async def test_a_batch_counts_each_of_its_queries() -> None:
    time = FakeTime()
    limits = limiter(time, rate=200, window=30.0)

    for _ in range(20):
        async with limits.request(10):
            pass
    async with limits.request(1):
        pass

    assert time.slept == [30.0]


async def test_retry_after_holds_every_request() -> None:
    time = FakeTime()
    limits = limiter(time, rate=200, window=30.0)
    limits.hold(7.0)

    async with limits.place():
        pass

    assert time.slept == [7.0]


async def test_no_more_than_max_concurrent_at_once() -> None:
    limits = QueryLimiter(max_concurrent=5, rate=None)
    release = asyncio.Event()

    async def one() -> None:
        async with limits.request():
            await release.wait()

    tasks = [asyncio.create_task(one()) for _ in range(12)]
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(*tasks)

    assert limits.max_in_flight == 5
