"""The fake Bot Connector with Teams' latency and rate limits, for fan-out tests and benchmarks.

Teams' documented limits ("Optimize your bot with rate limiting in Teams",
learn.microsoft.com/microsoftteams/platform/bots/how-to/rate-limit): per bot per thread
(a conversation), 7 operations in 1 s, 8 in 2 s and 60 in 30 s; "the global limit per app
per tenant is 50 requests per second (RPS)". A request over any of them is answered 429
Too Many Requests (with Retry-After, as this fake does; Teams asks for backoff) and does
nothing; refused requests do not count against the windows. Every answer comes after
`latency` seconds, the Bot Connector's time to answer. `refused` counts the 429s.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

from aiohttp import web

from tests.channels.teams.fake_connector import THREAD, FakeConnector

#: (operations, seconds) per conversation, as documented.
CONVERSATION_LIMITS = ((7, 1.0), (8, 2.0), (60, 30.0))
#: Per app and tenant, as documented.
APP_LIMIT = (50, 1.0)


class LimitedConnector(FakeConnector):
    """FakeConnector answering after `latency` s, and 429 over Teams' limits."""

    def __init__(
        self,
        *,
        latency: float = 0.1,
        app_limit: tuple[int, float] = APP_LIMIT,
        retry_after: str = "1",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.latency = latency
        self.app_limit = app_limit
        self.retry_after = retry_after
        self.refused = 0
        self._clock = clock
        self._app: deque[float] = deque()
        self._conversations: dict[str, deque[float]] = {}
        #: When each accepted request was answered (clock times), in order.
        self.answered_at: list[float] = []

    def app(self) -> web.Application:
        app = super().app()
        app.middlewares.append(self._limited)
        return app

    @web.middleware
    async def _limited(self, request: web.Request, handler: web.Handler) -> web.StreamResponse:
        conversation = await _conversation_of(request)
        if not self._admit(conversation, self._clock()):
            self.refused += 1
            await asyncio.sleep(self.latency)
            body = {"error": {"code": "TooManyRequests", "message": "rate limited"}}
            return web.json_response(body, status=429, headers={"Retry-After": self.retry_after})
        response = await handler(request)
        await asyncio.sleep(self.latency)
        self.answered_at.append(self._clock())
        return response

    def _admit(self, conversation: str, now: float) -> bool:
        """Whether a request now keeps within every window; if so it is counted."""
        times = self._conversations.setdefault(conversation, deque())
        longest = max(seconds for _, seconds in CONVERSATION_LIMITS)
        while times and times[0] <= now - longest:
            times.popleft()
        limit, seconds = self.app_limit
        while self._app and self._app[0] <= now - seconds:
            self._app.popleft()
        if len(self._app) >= limit:
            return False
        for operations, window in CONVERSATION_LIMITS:
            if sum(1 for at in times if at > now - window) >= operations:
                return False
        times.append(now)
        self._app.append(now)
        return True


async def _conversation_of(request: web.Request) -> str:
    """The conversation a request acts in: a new channel thread counts against its channel
    (the strictest reading), a reply in a thread against the thread's channel."""
    found = request.match_info.get("cid")
    if found is None:  # POST /v3/conversations: the channel is in the body (read once, cached)
        body = await request.json()
        found = str(((body.get("channelData") or {}).get("channel") or {}).get("id", "*"))
    return found.split(THREAD)[0]
