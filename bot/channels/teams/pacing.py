"""Teams' rate limits for the shared pacer (bot.channels.pacing).

Teams allows a bot, per conversation, 7 operations a second, 8 in 2 s and 60 in 30 s (and
about 50 a second per app and tenant); beyond that it answers 429.
"""

from __future__ import annotations

import asyncio
from time import monotonic
from typing import Final

from bot.channels import pacing
from bot.channels.pacing import Monotonic, Sleep, SlidingWindows, Window

__all__ = ["APP_WINDOWS", "CONVERSATION_WINDOWS", "Pacer", "SlidingWindows", "Window"]

#: Teams' documented per-bot, per-conversation limits.
CONVERSATION_WINDOWS: Final = (Window(7, 1.0), Window(8, 2.0), Window(60, 30.0))
#: Per app: Teams allows about 50 a second per tenant; we keep a margin.
APP_WINDOWS: Final = (Window(40, 1.0),)


class Pacer(pacing.Pacer):
    """The shared pacer with Teams' windows unless told otherwise."""

    def __init__(
        self,
        *,
        conversation_windows: tuple[Window, ...] = CONVERSATION_WINDOWS,
        app_windows: tuple[Window, ...] = APP_WINDOWS,
        max_wait: float = 1.5,
        clock: Monotonic = monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(
            conversation_windows=conversation_windows,
            app_windows=app_windows,
            max_wait=max_wait,
            clock=clock,
            sleep=sleep,
        )
