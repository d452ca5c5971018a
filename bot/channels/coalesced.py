"""Reads that deliveries running at once make together: one query for many keys.

The outbox starts many conversations' deliveries in the same turn of the event loop (a
fan-out: one per subscribed conversation), and each first reads its conversation, its
pacing and its alert. `Coalesced.get` gathers the keys asked for in one turn of the loop
and reads them with one query (the store's `get_conversations`, ...), so N deliveries
make one round trip instead of N. Nothing is kept: every value is read when it is asked
for, as a read of its own would be, so none is stale.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

ReadMany = Callable[[Sequence[K]], Awaitable[Mapping[K, V]]]


class Coalesced(Generic[K, V]):
    """`get(key)` through `read_many(keys)`, with every key asked for in the same turn."""

    def __init__(self, read_many: ReadMany[K, V]) -> None:
        self._read_many = read_many
        self._waiting: dict[K, list[asyncio.Future[V | None]]] = {}
        self._reads: set[asyncio.Task[None]] = set()
        #: Queries made (for tests: N gets in one turn make one).
        self.queries = 0

    async def get(self, key: K) -> V | None:
        """The value of `key`, or None if there is none; a failed read raises here."""
        loop = asyncio.get_running_loop()
        if not self._waiting:
            loop.call_soon(self._flush)  # after the deliveries already ready to run
        future: asyncio.Future[V | None] = loop.create_future()
        self._waiting.setdefault(key, []).append(future)
        return await future

    def _flush(self) -> None:
        waiting, self._waiting = self._waiting, {}
        task = asyncio.create_task(self._read(waiting))
        self._reads.add(task)
        task.add_done_callback(self._reads.discard)

    async def _read(self, waiting: dict[K, list[asyncio.Future[V | None]]]) -> None:
        self.queries += 1
        try:
            found = await self._read_many(list(waiting))
        except BaseException as error:  # every caller sees the failure, as its own read would
            for futures in waiting.values():
                for future in futures:
                    if future.done():
                        continue
                    if isinstance(error, Exception):
                        future.set_exception(error)
                    else:
                        future.cancel()
            if not isinstance(error, Exception):
                raise
            return
        for key, futures in waiting.items():
            for future in futures:
                if not future.done():  # a caller cancelled meanwhile
                    future.set_result(found.get(key))
