"""Teams' rate limits for the shared pacer (bot.channels.pacing).

"Optimize your bot with rate limiting in Teams"
(learn.microsoft.com/microsoftteams/platform/bots/how-to/rate-limit): per bot per thread
(a conversation), 7 operations in 1 s, 8 in 2 s and 60 in 30 s; "the global limit per app
per tenant is 50 Requests Per Second (RPS)". Beyond them Teams answers 429, which the
outbox honours (Retry-After, else its backoff).
"""

from __future__ import annotations

import asyncio
from time import monotonic
from typing import Final

from bot.channels import pacing
from bot.channels.pacing import Monotonic, Sleep, SlidingWindows, Window

__all__ = ["APP_MARGIN", "APP_WINDOWS", "CONVERSATION_WINDOWS", "Pacer", "SlidingWindows", "Window"]

#: Teams' documented per-bot, per-conversation limits.
CONVERSATION_WINDOWS: Final = (Window(7, 1.0), Window(8, 2.0), Window(60, 30.0))
#: Per app and tenant, the documented 50 a second (split between replicas: share_app).
#: Paced at the documented figure, not below it (issue 14): a fan-out to many
#: conversations is bounded by this window alone, and at 40 a second it could never come
#: within 1.1x of Teams' own bound. What keeps it under Teams' count is `APP_MARGIN`.
APP_WINDOWS: Final = (Window(50, 1.0),)
#: The app window is kept 0.05 s longer (50 in 1.05 s, 47.6 a second), for the jitter
#: between our clock and Teams' arrival times, but without the per-conversation windows'
#: 10 % (bot.channels.pacing.SAFETY_MARGIN): those protect a single thread's 7 a second,
#: where a burst of 8 is refused at once (issue 19); a rare 429 at the app's limit only
#: defers one delivery by its Retry-After, and keeping 10 % back would cost 10 % of every
#: fan-out.
APP_MARGIN: Final = (0.0, 0.05)


class Pacer(pacing.Pacer):
    """The shared pacer with Teams' windows unless told otherwise."""

    def __init__(
        self,
        *,
        conversation_windows: tuple[Window, ...] = CONVERSATION_WINDOWS,
        app_windows: tuple[Window, ...] = APP_WINDOWS,
        app_margin: tuple[float, float] = APP_MARGIN,
        max_wait: float = 1.5,
        clock: Monotonic = monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(
            conversation_windows=conversation_windows,
            app_windows=app_windows,
            app_margin=app_margin,
            max_wait=max_wait,
            clock=clock,
            sleep=sleep,
        )
