"""Pacing under a chat platform's rate limits: sliding windows per conversation and per app.

Each channel gives its own windows (Teams: bot.channels.teams.pacing; Slack: about one
message a second per channel, with short bursts); beyond them the platform answers 429.
`Pacer` keeps, in memory, when each recent operation happened, says how long the next
one must wait, and waits for it when that is short. A longer wait is returned to the
caller, which defers the delivery (the outbox tries it again then) instead of holding up
other conversations.

Every window is kept with a safety margin (`SAFETY_MARGIN`): the platform counts when
requests arrive, and a request's travel time varies, so requests paced exactly at the
limit arrive over it now and then (8 in 0.994 s against Teams' 7 a second, issue 19).

With several replicas, a conversation's recent operations travel with its lease
(`recent`, `resume`: bot.channels.pacing_state keeps them in the database), and each
replica keeps to its share of the app's windows (`share_app`).

Time is a monotonic clock in seconds, injected with the sleep that goes with it, so
tests run on a fake clock without sleeping.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from time import monotonic
from typing import Final

Monotonic = Callable[[], float]

#: Each window is treated as this much longer (a fraction, plus seconds): 7 per second
#: become 7 per 1.15 s.
SAFETY_MARGIN: Final = (0.1, 0.05)
Sleep = Callable[[float], Awaitable[None]]
#: A wait that ends more than this late (seconds) was held up: its slot is taken again.
LATE: Final = 0.02
#: Slots taken again at most this often for one operation.
LATE_RETRIES: Final = 3


@dataclass(frozen=True, slots=True)
class Window:
    """At most `limit` operations in any `seconds`."""

    limit: int
    seconds: float

    def with_margin(self, margin: tuple[float, float] = SAFETY_MARGIN) -> Window:
        fraction, seconds = margin
        return Window(self.limit, self.seconds * (1 + fraction) + seconds)

    def shared(self, by: int) -> Window:
        """This window's share for one of `by` processes (at least one operation)."""
        return Window(max(1, self.limit // by), self.seconds)


class SlidingWindows:
    """When each key acted (or will: slots may be booked ahead), enough to honour every
    window. Pure: times are given."""

    def __init__(
        self, windows: tuple[Window, ...], *, margin: tuple[float, float] = SAFETY_MARGIN
    ) -> None:
        self._windows = tuple(window.with_margin(margin) for window in windows)
        self._longest = max(window.seconds for window in self._windows)
        self._keep = max(window.limit for window in self._windows)
        self._times: dict[str, list[float]] = {}

    def wait(self, key: str, now: float) -> float:
        """Seconds from `now` until `key` may act again without breaking a window."""
        times = self._prune(key, now)
        wait = 0.0
        for window in self._windows:
            if len(times) >= window.limit:
                # The operation `limit` back must leave the window first.
                oldest = times[len(times) - window.limit]
                wait = max(wait, oldest + window.seconds - now)
        return wait

    def record(self, key: str, at: float) -> None:
        times = self._times.setdefault(key, [])
        bisect.insort(times, at)
        del times[: -self._keep]

    def discard(self, key: str, at: float) -> None:
        """Forget one operation of `key` booked at `at` (a slot given back)."""
        times = self._times.get(key, [])
        index = bisect.bisect_left(times, at)
        if index < len(times) and times[index] == at:
            del times[index]

    def times(self, key: str, now: float) -> list[float]:
        """When `key` acted (or is booked to) within the longest window before `now`."""
        return list(self._prune(key, now))

    def __contains__(self, key: str) -> bool:
        return key in self._times

    def __len__(self) -> int:
        return len(self._times)

    def _prune(self, key: str, now: float) -> list[float]:
        times = self._times.get(key, [])
        gone = bisect.bisect_right(times, now - self._longest)
        del times[:gone]
        if not times:  # memory stays bounded by the conversations active lately
            self._times.pop(key, None)
        return times


class Pacer:
    """Paces operations per conversation and for the app; see the module docstring."""

    _APP: Final = "*"

    def __init__(
        self,
        *,
        conversation_windows: tuple[Window, ...],
        app_windows: tuple[Window, ...],
        app_margin: tuple[float, float] = SAFETY_MARGIN,
        max_wait: float = 1.5,
        clock: Monotonic = monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._conversations = SlidingWindows(conversation_windows)
        self._app_windows = app_windows
        self._app_margin = app_margin
        self._app = SlidingWindows(app_windows, margin=app_margin)
        self.app_share = 1
        self.max_wait = max_wait
        self._clock = clock
        self._sleep = sleep

    async def acquire(self, conversation_id: str, *, max_wait: float | None = None) -> float:
        """Take a slot for one operation in `conversation_id`: 0.0 once it is due (after
        waiting up to `max_wait` seconds), else the seconds to wait, nothing taken.

        A wait that ends late (the process was held up: a loaded machine) gives its slot
        back and takes one as of when it woke: every operation woken late with it would
        otherwise go out at once, more in a window than the platform allows, though each
        was booked in its own slot (429s at Teams' 50 a second per app, issue 14)."""
        limit = self.max_wait if max_wait is None else max_wait
        started = self._clock()
        for _ in range(LATE_RETRIES):
            # Decided and booked without an await in between: no task can take the slot.
            now = self._clock()
            wait = max(
                self._conversations.wait(conversation_id, now),
                self._app.wait(self._APP, now),
                0.0,
            )
            if wait > limit - (now - started):
                return wait
            at = now + wait
            self._conversations.record(conversation_id, at)
            self._app.record(self._APP, at)
            if wait <= 0:
                return 0.0
            await self._sleep(wait)
            if self._clock() - at <= LATE:
                return 0.0
            self._conversations.discard(conversation_id, at)
            self._app.discard(self._APP, at)
        # Late again and again: go now, counted as now, rather than defer for the clock.
        now = self._clock()
        self._conversations.record(conversation_id, now)
        self._app.record(self._APP, now)
        return 0.0

    def tracks(self, conversation_id: str) -> bool:
        """Whether this process acted in the conversation within the longest window."""
        self._conversations.wait(conversation_id, self._clock())  # prunes what has expired
        return conversation_id in self._conversations

    def recent(self, conversation_id: str) -> list[float]:
        """The conversation's operations still inside a window (clock times)."""
        return self._conversations.times(conversation_id, self._clock())

    def resume(self, conversation_id: str, times: list[float]) -> None:
        """Count operations another process made in the conversation (clock times)."""
        known = set(self._conversations.times(conversation_id, self._clock()))
        for at in times:
            if at not in known:
                self._conversations.record(conversation_id, at)

    def share_app(self, by: int) -> None:
        """Keep to one `by`-th of the app's windows (`by` replicas share them)."""
        by = max(by, 1)
        if by == self.app_share:
            return
        app = SlidingWindows(
            tuple(window.shared(by) for window in self._app_windows), margin=self._app_margin
        )
        for at in self._app.times(self._APP, self._clock()):
            app.record(self._APP, at)
        self._app, self.app_share = app, by

    @property
    def tracked_conversations(self) -> int:
        return len(self._conversations)
