"""The coalescer (bot.workspace.coalescer): batches by window and size, retries, and no
query left waiting when the limiter refuses a batch."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import pytest

from bot.workspace.base import QueryResult, TimeSpan
from bot.workspace.coalescer import Coalescer, PendingQuery

SPAN: TimeSpan = timedelta(hours=1)


def _result(kql: str) -> QueryResult:
    return QueryResult(columns=[], rows=[[kql]], elapsed_ms=1.0)


class Recorder:
    def __init__(self, *, refuse: int = 0) -> None:
        self.batches: list[list[str]] = []
        self.refuse = refuse
        self.retried: set[str] = set()
        self.coalescer: Coalescer | None = None

    async def send(self, batch: Sequence[PendingQuery]) -> None:
        self.batches.append([item.kql for item in batch])
        for item in batch:
            if item.kql.startswith("throttled") and item.kql not in self.retried:
                self.retried.add(item.kql)
                assert self.coalescer is not None
                self.coalescer.retry(item)
            elif item.kql != "forgotten":
                item.future.set_result(_result(item.kql))

    @contextlib.asynccontextmanager
    async def place(self) -> AsyncIterator[None]:
        if self.refuse:
            self.refuse -= 1
            raise ConnectionError("limiter unavailable")
        yield


def _coalescer(recorder: Recorder, *, max_batch: int = 3, window: float = 0.01) -> Coalescer:
    recorder.coalescer = Coalescer(
        send=recorder.send, place=recorder.place, max_batch=max_batch, window=window
    )
    return recorder.coalescer


async def test_queries_arriving_together_leave_in_batches_of_at_most_max_batch() -> None:
    recorder = Recorder()
    coalescer = _coalescer(recorder)
    await asyncio.gather(*(coalescer.query(f"q{n}", timespan=SPAN) for n in range(7)))
    assert sorted(len(batch) for batch in recorder.batches) == [1, 3, 3]
    assert sorted(kql for batch in recorder.batches for kql in batch) == [f"q{n}" for n in range(7)]


async def test_a_retried_query_goes_in_a_later_batch_and_one_left_unanswered_fails() -> None:
    recorder = Recorder()
    coalescer = _coalescer(recorder)
    answers = await asyncio.gather(
        coalescer.query("throttled-1", timespan=SPAN),
        coalescer.query("forgotten", timespan=SPAN),
        return_exceptions=True,
    )
    assert isinstance(answers[0], QueryResult)
    assert isinstance(answers[1], RuntimeError)
    assert recorder.batches[-1] == ["throttled-1"]


@pytest.mark.parametrize("queries", [1, 3, 7])
async def test_a_refused_batch_fails_its_queries_and_the_rest_are_still_sent(
    queries: int,
) -> None:
    recorder = Recorder(refuse=1)
    coalescer = _coalescer(recorder)
    answers = await asyncio.wait_for(
        asyncio.gather(
            *(coalescer.query(f"q{n}", timespan=SPAN) for n in range(queries)),
            return_exceptions=True,
        ),
        timeout=5,
    )
    refused = [a for a in answers if isinstance(a, ConnectionError)]
    assert len(refused) == min(queries, 3)
    assert sum(isinstance(a, QueryResult) for a in answers) == queries - len(refused)
    # and the coalescer still works afterwards
    assert isinstance(await coalescer.query("later", timespan=SPAN), QueryResult)
    await coalescer.close()


async def test_close_fails_what_was_not_sent() -> None:
    recorder = Recorder()
    coalescer = _coalescer(recorder, window=10)
    waiting = asyncio.ensure_future(coalescer.query("q", timespan=SPAN))
    await asyncio.sleep(0)
    await coalescer.close()
    with pytest.raises(RuntimeError, match="closed"):
        await waiting
