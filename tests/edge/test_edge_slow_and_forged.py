"""Slow senders and floods of forged tokens, against the Teams route and /healthz served as
`alertbot serve` serves them (bot.edge's server options), from a thread of their own, so
that a stall of the bot's event loop shows as a slow /healthz.

The signing keys come from a local OpenID metadata server that answers only after 3 s
(as an unreachable or slow login.botframework.com would): a flood of tokens with random
key ids (sent from other processes) makes one fetch per metadata URL, and /healthz stays
fast meanwhile.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.channels.teams import BotIdentity, TeamsChannel
from bot.channels.teams import add_routes as add_teams_routes
from bot.channels.teams import keys as teams_keys
from bot.channels.teams.cards import CardRenderer
from bot.channels.teams.http import TEAMS_ENDPOINT
from bot.commands.access import AccessPolicy, EdgeGate
from bot.edge import EDGE, Edge, EdgeLimits
from bot.edge.signing_keys import SigningKeyCache
from bot.store.sql import SqlStore, open_store
from bot.web import add_routes
from tests.channels.teams.conftest import APP_ID, TENANT, ScriptedRouter
from tests.edge.hostile import flood, forged_token, request, send
from tests.support.alerting import sqlite_url
from tests.support.served import served

LIMITS = EdgeLimits(header_timeout=1, body_timeout=1, max_unauthenticated=4)
#: Seconds the metadata server takes to answer.
SLOW = 3.0


def slow_metadata() -> web.Application:
    async def metadata(request: web.Request) -> web.Response:
        await asyncio.sleep(SLOW)
        return web.json_response({"error": "temporarily unavailable"}, status=503)

    app = web.Application()
    app.router.add_get("/{tail:.*}", metadata)
    return app


def teams_app(identity: BotIdentity) -> web.Application:
    """/healthz and the Teams route; the store is opened in the serving loop."""
    app = web.Application()
    app[EDGE] = Edge(LIMITS)
    add_routes(app)
    add_teams_routes(app)
    teams = TeamsChannel(identity)

    async def endpoint(app: web.Application) -> Any:
        store: SqlStore = await open_store(sqlite_url(app["directory"] / "bot.db"))
        app[TEAMS_ENDPOINT] = teams.endpoint(
            router=ScriptedRouter(),
            store=store,
            renderer=CardRenderer(),
            gate=EdgeGate(AccessPolicy(allowed_tenants=None)),
            clock=lambda: __import__("datetime").datetime.now(__import__("datetime").UTC),
        )
        yield
        await store.close()

    app.cleanup_ctx.append(endpoint)
    return app


@pytest.fixture
def metadata_port() -> Iterator[int]:
    with served(slow_metadata(), EdgeLimits()) as (port, _):
        yield port


@pytest.fixture
def cache(metadata_port: int, monkeypatch: pytest.MonkeyPatch) -> SigningKeyCache:
    found = SigningKeyCache(
        teams_keys.TRUSTED_METADATA,
        resolve=lambda url: f"http://127.0.0.1:{metadata_port}/metadata",
        wait=5.0,
    )
    monkeypatch.setattr(teams_keys, "_cache", found)
    return found


def start(identity: BotIdentity, tmp_path: Path) -> Any:
    app = teams_app(identity)
    app["directory"] = tmp_path  # type: ignore[index]
    return served(app, LIMITS)


def healthz_ms(port: int) -> float:
    answer = send(port, request(b"", method="GET", path="/healthz"), timeout=10)
    assert answer.status == 200
    return answer.seconds * 1000


def test_a_flood_of_forged_tokens_leaves_healthz_fast(
    cache: SigningKeyCache, tmp_path: Path
) -> None:
    identity = BotIdentity(app_id=APP_ID, app_password="x", tenant_id=TENANT)
    spawn = multiprocessing.get_context("spawn")
    with start(identity, tmp_path) as (port, _), ProcessPoolExecutor(2, mp_context=spawn) as pool:
        floods = [pool.submit(flood, port, 200) for _ in range(2)]
        latencies = []
        while not all(f.done() for f in floods):
            latencies.append(healthz_ms(port))
            time.sleep(0.02)
        statuses = {status for f in floods for status in f.result()}
        # Once the fetch has been tried, an unknown key id is refused at once.
        late = send(port, request(b"{}", headers={"Authorization": f"Bearer {forged_token()}"}))

    assert statuses <= {401, 503}
    assert len(latencies) >= 5
    # Typically under 50 ms, and none near the 1-10 s stalls of a blocking fetch: on a
    # shared, loaded machine a process can lose the CPU for longer than 50 ms now and then.
    assert statistics.median(latencies) < 50, latencies
    assert max(latencies) < 1000, latencies
    assert cache.fetches == len(teams_keys.TRUSTED_METADATA)  # one per URL, not per token
    assert late.status == 401
    assert late.seconds < 0.05


def test_slow_headers_are_cut_off(tmp_path: Path) -> None:
    with start(BotIdentity(), tmp_path) as (port, _):
        started = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"POST /api/messages HTTP/1.1\r\nHost: x\r\n")
            closed = sock.recv(1024)
        assert closed == b""
        assert time.perf_counter() - started < LIMITS.header_timeout + 2


@pytest.mark.parametrize(
    "head",
    [
        b"Content-Length: 1000\r\n\r\n" + b'{"type":',
        b"Transfer-Encoding: chunked\r\n\r\nffff\r\n" + b'{"type":',
    ],
    ids=["short body", "lying chunk size"],
)
def test_slow_or_lying_bodies_are_408(tmp_path: Path, head: bytes) -> None:
    data = b"POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + head
    with start(BotIdentity(), tmp_path) as (port, _):
        started = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(data)
            answer = sock.recv(1024)
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert time.perf_counter() - started < LIMITS.body_timeout + 2


def test_unauthenticated_requests_beyond_the_cap_are_503_at_once(tmp_path: Path) -> None:
    slow = b"POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    slow += b"Content-Length: 1000\r\n\r\n{"
    with start(BotIdentity(), tmp_path) as (port, loop):
        held = [
            socket.create_connection(("127.0.0.1", port)) for _ in range(LIMITS.max_unauthenticated)
        ]
        try:
            for sock in held:
                sock.sendall(slow)
            time.sleep(0.3)
            answer = send(port, request(b"{}"))
            assert answer.status == 503
            assert answer.seconds < 0.5
            assert healthz_ms(port) < 50
        finally:
            for sock in held:
                sock.close()
        time.sleep(LIMITS.body_timeout + 0.5)
        assert send(port, request(b"{}")).status == 400  # the slots are free again
        del loop
