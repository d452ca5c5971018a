"""Benchmark: many chats at once through the whole bot, counting errors (issue 18).

create_app's bot (authentication off, the real router and store, the demo workspace)
against the fake Bot Connector of the tests; CHATS personal chats, new to the bot, each
send MESSAGES commands (`alerts`), all at once, in ROUNDS rounds. Prints, per store
backend: turns sent, answers that were not 200 (5xx and others), replies missing after
the round, and the wall time.

    .venv/bin/python -m benchmarks.busy_chats [--chats 50] [--messages 10] [--rounds 4]
    PYTHONPATH=/tmp/old-checkout .venv/bin/python benchmarks/busy_chats.py   # an older bot

PostgreSQL is used at STORE_TEST_POSTGRES_URL (default 127.0.0.1:5432/test), in a schema
of its own, dropped afterwards. A script that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # after an older checkout given in PYTHONPATH

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

import bot.app  # noqa: E402
from bot.app import create_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store.sql import open_store  # noqa: E402
from tests.channels.teams.conftest import message  # noqa: E402
from tests.channels.teams.fake_connector import FakeConnector  # noqa: E402
from tests.support.alerting import CATALOG, DEMO_NOW, POSTGRES_URL  # noqa: E402


async def run(backend: str, chats: int, messages: int, rounds: int) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="busy-chats-"))
    url = f"sqlite+aiosqlite:///{directory / 'bot.db'}"
    schema = f"alertbot_bench_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(POSTGRES_URL, poolclass=NullPool)
    if backend == "postgresql":
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        bot.app.open_store = partial(open_store, schema=schema)  # type: ignore[attr-defined]
        url = POSTGRES_URL
    settings = Settings(
        _env_file=None,
        database_url=url,
        rules_path=CATALOG,
        demo_now=DEMO_NOW,
        rules_reload_seconds=0,
        scheduler_enabled=False,
    )
    fake = FakeConnector()
    connector = TestServer(fake.app(), host="127.0.0.1")
    await connector.start_server()
    service_url = str(connector.make_url("/"))
    client = TestClient(TestServer(create_app(settings), host="127.0.0.1"))
    await client.start_server()
    statuses: Counter[int] = Counter()
    missing = 0
    started = time.perf_counter()
    try:
        for round_number in range(rounds):
            names = [f"a:bench-{round_number}-{n}" for n in range(chats)]
            bodies = [
                message(service_url, "alerts", conversation=name, conversation_type="personal")
                for _ in range(messages)
                for name in names
            ]
            before = len(fake.calls)

            async def post(body: dict[str, Any]) -> int:
                response = await client.post("/api/messages", json=body)
                await response.read()
                return response.status

            statuses.update(await asyncio.gather(*(post(body) for body in bodies)))
            missing += len(bodies) - await replies(fake, since=before, expected=len(bodies))
    finally:
        seconds = time.perf_counter() - started
        await client.close()
        await connector.close()
        if backend == "postgresql":
            bot.app.open_store = open_store  # type: ignore[attr-defined]
            async with admin.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()
    return {"statuses": statuses, "missing": missing, "seconds": seconds}


async def replies(fake: FakeConnector, *, since: int, expected: int, seconds: float = 30) -> int:
    """The replies sent since call number `since`, once `expected` or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while True:
        got = len(fake.calls) - since
        if got >= expected or time.monotonic() > deadline:
            return min(got, expected)
        await asyncio.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    for name in [n for n in os.environ if n.startswith("ALERTBOT_")]:
        os.environ.pop(name)
    print(f"bot from {Path(bot.app.__file__).parent}")
    print(
        f"{'backend':11} {'chats':>5} {'turns':>6} {'5xx':>5} {'other':>5} {'missing':>7} {'seconds':>8}"
    )
    for backend in args.backends.split(","):
        result = asyncio.run(run(backend, args.chats, args.messages, args.rounds))
        statuses = result["statuses"]
        turns = sum(statuses.values())
        errors = sum(n for s, n in statuses.items() if s >= 500)
        other = sum(n for s, n in statuses.items() if s != 200 and s < 500)
        print(
            f"{backend:11} {args.chats:>5} {turns:>6} {errors:>5} {other:>5} "
            f"{result['missing']:>7} {result['seconds']:>8.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
