"""A real aiohttp application served on loopback from a thread of its own, as `alertbot
serve` serves it (bot.edge's server options), so a test's blocking client measures the
server's event loop from outside it: a stall in the bot shows up as a slow answer."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

from aiohttp import web

from bot.edge import EdgeLimits, server_options


@contextmanager
def served(
    app: web.Application, limits: EdgeLimits
) -> Iterator[tuple[int, asyncio.AbstractEventLoop]]:
    """(port, the server's loop) while `app` is served on 127.0.0.1."""
    loop = asyncio.new_event_loop()
    started: Future[tuple[web.AppRunner, int]] = Future()

    async def start() -> None:
        runner = web.AppRunner(app, **server_options(limits))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port: int = runner.addresses[0][1]
        started.set_result((runner, port))

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(start())
        except BaseException as error:
            started.set_exception(error)
            return
        loop.run_forever()

    thread = threading.Thread(target=run, name="served-app", daemon=True)
    thread.start()
    runner, port = started.result(timeout=120)
    try:
        yield port, loop
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()


def call(loop: asyncio.AbstractEventLoop, coroutine: Any, timeout: float = 30) -> Any:
    """Run `coroutine` in the server's loop and wait for its result."""
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=timeout)
