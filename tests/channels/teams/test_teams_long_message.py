"""A 28,000-character message (Teams' maximum) through the whole bot (issue 19, finding 1).

Before the fix, the entity patterns of bot.ask.mentions were quadratic and ran on the
event loop: this message stalled the bot for 5-20 s, /healthz included, and the "not
understood" card echoed all of it. Now it is answered at once, /healthz keeps answering
while it is, and the card repeats one short line.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.app import create_app
from tests.channels.teams.conftest import MakeClient, channel, message
from tests.channels.teams.fake_connector import FakeConnector
from tests.channels.teams.test_teams_app import eventually, settings
from tests.channels.teams.test_teams_questions import texts

TEAMS_MAXIMUM = 28_000
#: The most of the question the answer repeats.
ECHO = 80
#: Shapes the old patterns took quadratic time on (an unbroken UPN-like run; `@word...@`).
LONG_MESSAGES = ["a" * TEAMS_MAXIMUM, " @" + "a" * (TEAMS_MAXIMUM - 3) + "@"]


@pytest.fixture
async def client(aiohttp_client: MakeClient, tmp_path: Path) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(settings(tmp_path)))


async def _health_latencies(client: TestClient[Any, Any], stop: asyncio.Event) -> list[float]:
    latencies = []
    while not stop.is_set():
        started = time.perf_counter()
        response = await client.get("/healthz")
        assert response.status == 200
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.01)
    return latencies


@pytest.mark.parametrize("text", LONG_MESSAGES, ids=["upn-like-run", "at-word-at"])
async def test_a_maximal_message_is_answered_at_once_and_healthz_keeps_answering(
    client: TestClient[Any, Any], fake: FakeConnector, service_url: str, text: str
) -> None:
    await client.get("/healthz")  # the app is up before the clock starts
    stop = asyncio.Event()
    health = asyncio.create_task(_health_latencies(client, stop))
    started = time.perf_counter()

    response = await client.post("/api/messages", json=message(service_url, text, **channel()))
    answer = await eventually(lambda: fake.calls and fake.calls[-1])
    elapsed = time.perf_counter() - started
    stop.set()
    latencies = await health

    assert response.status == 200
    assert elapsed < 1.0, f"answered after {elapsed:.1f} s"
    assert latencies
    assert max(latencies) < 0.5, f"/healthz took up to {max(latencies):.1f} s"
    shown = texts(answer.card)
    assert "aaaaaaaa" in shown  # the start of the question is repeated ...
    assert len(shown) < 2_000  # ... but not all 28,000 characters of it
    assert "a" * ECHO not in shown
