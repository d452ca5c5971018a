"""Pacing under Teams' limits, on a fake clock: 7 per second, 8 per 2 s, 60 per 30 s per
conversation, and the app-wide window."""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Awaitable

import pytest

from bot.channels.teams.pacing import CONVERSATION_WINDOWS, Pacer, SlidingWindows, Window
from tests.channels.teams.conftest import FakeClock


def within_limits(times: list[float], windows: tuple[Window, ...]) -> bool:
    """No window of any length holds more operations than its limit."""
    ordered = sorted(times)
    return all(
        sum(1 for t in ordered if start <= t < start + window.seconds) <= window.limit
        for window in windows
        for start in ordered
    )


async def test_a_burst_in_one_conversation_keeps_every_window(clock: FakeClock) -> None:
    pacer = Pacer(clock=clock, sleep=clock.sleep, max_wait=60)
    done: list[float] = []
    for _ in range(130):
        assert await pacer.acquire("19:ops") == 0.0
        done.append(clock.now)
    assert within_limits(done, CONVERSATION_WINDOWS)
    assert done[6] == done[0]  # the first 7 go at once
    # The 8th waits for the 1 s window and its safety margin (1.15 s): requests paced
    # exactly at the limit arrived as 8 in 0.994 s (issue 19), over Teams' limit.
    assert done[7] == pytest.approx(done[0] + 1.15)
    assert done[60] >= done[0] + 30  # the 61st for the 30 s window
    assert done[-1] - done[0] < 70  # and no slower than the limits require


async def test_conversations_do_not_wait_for_each_other(clock: FakeClock) -> None:
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    for _ in range(7):
        await pacer.acquire("19:a")
    assert await pacer.acquire("19:b") == 0.0
    assert clock.slept == []


async def test_the_app_window_holds_across_conversations(clock: FakeClock) -> None:
    pacer = Pacer(clock=clock, sleep=clock.sleep, app_windows=(Window(3, 1.0),))
    for name in ("a", "b", "c"):
        await pacer.acquire(name)
    assert await pacer.acquire("d") == 0.0
    # The app window keeps only the 0.05 s margin for jitter, not the conversations'
    # 10 % (bot.channels.teams.pacing.APP_MARGIN): 3 in 1.05 s.
    assert clock.slept == [pytest.approx(1.05)]


async def test_the_app_window_is_teams_documented_50_a_second(clock: FakeClock) -> None:
    pacer = Pacer(clock=clock, sleep=clock.sleep, max_wait=60)
    done: list[float] = []
    for n in range(200):
        assert await pacer.acquire(f"19:c{n}") == 0.0
        done.append(clock.now)
    assert within_limits(done, (Window(50, 1.0),))
    # 50 in every 1.05 s: 200 in a little over 3 s, none faster than Teams counts.
    assert done[50] == pytest.approx(done[0] + 1.05)
    assert done[-1] - done[0] == pytest.approx(3 * 1.05)


async def test_a_long_wait_is_returned_and_takes_no_slot(clock: FakeClock) -> None:
    pacer = Pacer(clock=clock, sleep=clock.sleep, max_wait=0.5)
    for _ in range(7):
        await pacer.acquire("19:ops")
    assert await pacer.acquire("19:ops") == pytest.approx(1.15)
    assert await pacer.acquire("19:ops", max_wait=2) == 0.0  # the slot was still free
    assert clock.slept == [pytest.approx(1.15)]


async def test_arrivals_jittered_by_travel_time_stay_within_the_limits(clock: FakeClock) -> None:
    pacer = Pacer(clock=clock, sleep=clock.sleep, max_wait=60)
    sent: list[float] = []
    for _ in range(70):
        await pacer.acquire("19:ops")
        sent.append(clock.now)
    # Each request travels 20-80 ms: the platform sees these arrival times.
    arrivals = [t + (0.02 if n % 2 else 0.08) for n, t in enumerate(sent)]
    assert within_limits(arrivals, CONVERSATION_WINDOWS)


async def test_concurrent_callers_never_share_a_slot() -> None:
    """Callers that all ask at once are booked into distinct slots within the limits."""
    waits: list[float] = []

    async def note(seconds: float) -> None:  # the clock stands still: only bookings count
        waits.append(seconds)

    pacer = Pacer(clock=lambda: 1000.0, sleep=note, max_wait=60)
    await asyncio.gather(*(pacer.acquire("19:ops") for _ in range(20)))
    booked = [1000.0] * (20 - len(waits)) + [1000.0 + wait for wait in waits]
    assert len(waits) == 13
    assert within_limits(booked, CONVERSATION_WINDOWS)


def test_memory_is_bounded_by_recent_conversations() -> None:
    windows = SlidingWindows(CONVERSATION_WINDOWS)
    for n in range(1000):
        windows.record(f"19:c{n}", at=float(n))
    windows.wait("19:c999", now=1000.0)
    for n in range(1000):
        windows.wait(f"19:c{n}", now=5000.0)
    assert len(windows) == 0


class FrozenClock:
    """Virtual time for concurrent sleepers; the process is held up (runs nothing) from
    `frozen_at` for `frozen_for` seconds, so every sleeper due meanwhile wakes at its end."""

    def __init__(self, frozen_at: float, frozen_for: float) -> None:
        self.now = 0.0
        self.frozen = (frozen_at, frozen_at + frozen_for)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, id(future), future))
        await future

    async def run(self, *operations: Awaitable[None]) -> None:
        tasks = [asyncio.ensure_future(operation) for operation in operations]
        while not all(task.done() for task in tasks):
            for _ in range(10):
                await asyncio.sleep(0)  # let the woken run up to their next sleep
            if not self._sleepers:
                continue
            wake = self._sleepers[0][0]
            start, end = self.frozen
            self.now = end if start <= wake < end else wake
            while self._sleepers and self._sleepers[0][0] <= self.now:
                heapq.heappop(self._sleepers)[2].set_result(None)
        await asyncio.gather(*tasks)


async def test_operations_woken_late_are_counted_when_they_go() -> None:
    """Operations wait their turn in the app's window; the process is held up for 0.3 s
    and those due meanwhile wake together at its end. Counted at their booked slots they
    would all go at once, more in a second than the window allows; each takes a slot as
    of when it woke instead."""
    clock = FrozenClock(frozen_at=1.0, frozen_for=0.3)
    window = (Window(5, 1.0),)
    pacer = Pacer(clock=clock, sleep=clock.sleep, app_windows=window, app_margin=(0.0, 0.0))
    sent: list[float] = []

    async def operation(name: str) -> None:
        assert await pacer.acquire(name, max_wait=60) == 0.0
        sent.append(clock.now)

    await clock.run(*(operation(f"19:c{n}") for n in range(20)))
    assert len(sent) == 20
    assert within_limits(sent, window), sent
