"""Reads made together (bot.channels.coalesced): one query for the keys asked for in one
turn of the event loop, each value read when asked for, failures seen by every caller."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import pytest

from bot.channels.coalesced import Coalesced


class Table:
    """A read_many that records each query's keys."""

    def __init__(self, rows: dict[str, int]) -> None:
        self.rows = rows
        self.queries: list[list[str]] = []
        self.failure: Exception | None = None

    async def read_many(self, keys: Sequence[str]) -> Mapping[str, int]:
        self.queries.append(sorted(keys))
        await asyncio.sleep(0)
        if self.failure is not None:
            raise self.failure
        return {key: self.rows[key] for key in keys if key in self.rows}


async def test_gets_started_together_make_one_query() -> None:
    table = Table({"a": 1, "b": 2, "c": 3})
    reads = Coalesced(table.read_many)
    found = await asyncio.gather(*(reads.get(key) for key in ("a", "b", "a", "c", "zz")))
    assert found == [1, 2, 1, 3, None]
    assert table.queries == [["a", "b", "c", "zz"]]


async def test_each_get_reads_what_is_stored_when_it_asks() -> None:
    table = Table({"a": 1})
    reads = Coalesced(table.read_many)
    assert await reads.get("a") == 1
    table.rows["a"] = 2  # changed since: nothing is kept
    assert await reads.get("a") == 2
    assert table.queries == [["a"], ["a"]]


async def test_tasks_started_in_one_turn_share_the_query_at_each_step() -> None:
    table = Table({f"k{n}": n for n in range(20)})
    first, second = Coalesced(table.read_many), Coalesced(table.read_many)

    async def delivery(n: int) -> tuple[int | None, int | None]:
        return await first.get(f"k{n}"), await second.get(f"k{19 - n}")

    tasks = [asyncio.create_task(delivery(n)) for n in range(20)]
    assert await asyncio.gather(*tasks) == [(n, 19 - n) for n in range(20)]
    assert (first.queries, second.queries, len(table.queries)) == (1, 1, 2)


async def test_a_failed_read_fails_every_get_that_shared_it() -> None:
    table = Table({"a": 1})
    table.failure = ConnectionError("store down")
    reads = Coalesced(table.read_many)
    results = await asyncio.gather(reads.get("a"), reads.get("b"), return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError, ConnectionError]
    table.failure = None
    assert await reads.get("a") == 1  # the next read is a new query


async def test_a_cancelled_get_does_not_disturb_the_others() -> None:
    table = Table({"a": 1, "b": 2})
    reads = Coalesced(table.read_many)
    cancelled = asyncio.create_task(reads.get("a"))
    kept = asyncio.create_task(reads.get("b"))
    await asyncio.sleep(0)
    cancelled.cancel()
    assert await kept == 2
    with pytest.raises(asyncio.CancelledError):
        await cancelled
