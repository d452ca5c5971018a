"""Benchmark: one alert fanned out to N Teams conversations by the real `alertbot serve`.

Starts the real process (demo workspace, SQLite, no authentication on loopback, the
scheduler off) with N Teams channels subscribed to every alert, beside a fake Bot
Connector (tests/channels/teams/limited_connector.py) that answers each call after
`--latency` seconds and keeps Teams' documented limits (per conversation 7/1 s, 8/2 s,
60/30 s; 50 requests a second per app), answering 429 with Retry-After beyond them. One
Azure Monitor alert is posted to the bot's webhook (`?secret=`); the clock runs from
that post to the last card the connector answered. The bot's CPU is read from
/proc/<pid>/stat, so the harness's own is not counted.

    .venv/bin/python -m benchmarks.teams_fanout [--conversations 500 5000] [--latency 0.1]
    .venv/bin/python -m benchmarks.teams_fanout --bot-from /tmp/old-checkout   # an older bot

Columns: conversations, connector latency, seconds from fire to last card, cards per
second, the per-app bound (N / 50 per s), seconds / bound, 429s the bot received, lost
and duplicated cards, bot CPU ms per card. Goal (issue 14): 500 within 1.1x the bound,
5,000 within 1.2x, none lost or duplicated. A script that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from benchmarks.command_cpu import cpu_seconds
from bot.models import ChannelKind, Subscription
from bot.playground.processes import BotServer, free_port
from bot.store.sql import open_store
from tests.channels.teams.limited_connector import APP_LIMIT, LimitedConnector
from tests.support.alerting import CATALOG, DEMO_NOW, sqlite_url, teams_channel

SECRET = "bench-" + "x" * 40
ALERT = Path(__file__).parent.parent / "tests/azure_monitor/data/log-alert-fired.json"


async def seed(database: Path, conversations: int, service_url: str) -> None:
    store = await open_store(sqlite_url(database))
    try:
        for n in range(conversations):
            ref = teams_channel(f"19:fanout-{n}@thread.tacv2", service_url)
            await store.upsert_conversation(ref)
            await store.subscribe(
                Subscription(
                    conversation_id=ref.conversation_id,
                    channel=ChannelKind.TEAMS,
                    target="all",
                    max_severity=4,
                    created_by="admin",
                    created_at=DEMO_NOW,
                )
            )
    finally:
        await store.close()


def unsent(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as db:
        row = db.execute("SELECT count(*) FROM outbox WHERE status != 'sent'").fetchone()
    return int(row[0])


async def fire(bot: BotServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{bot.url}/api/azure-monitor?secret={SECRET}", json=json.loads(ALERT.read_text())
        ) as response,
    ):
        if response.status != 200:
            raise RuntimeError(f"webhook answered {response.status}: {await response.text()}")


async def run(
    conversations: int, latency: float, within: float, extra: dict[str, str]
) -> dict[str, Any]:
    fake = LimitedConnector(latency=latency)
    connector = TestServer(fake.app(), host="127.0.0.1")
    await connector.start_server()
    service_url = str(connector.make_url("/"))
    workdir = Path(tempfile.mkdtemp(prefix="teams-fanout-"))
    database = workdir / "bot.db"
    await seed(database, conversations, service_url)
    bot = BotServer(
        workdir=workdir,
        port=free_port(),
        settings={
            "ALERTBOT_WORKSPACE": "local",
            "ALERTBOT_DEMO_NOW": DEMO_NOW.isoformat(),
            "ALERTBOT_DATABASE_URL": sqlite_url(database),
            "ALERTBOT_RULES_PATH": str(CATALOG),
            "ALERTBOT_SCHEDULER_ENABLED": "false",
            "ALERTBOT_NOTIFIER": "teams",
            "ALERTBOT_AZURE_MONITOR_WEBHOOK_SECRET": SECRET,
            "ALERTBOT_LOG_LEVEL": "WARNING",
        }
        | extra,
    )
    await bot.start()
    assert bot.child is not None
    assert bot.child.process is not None
    pid = bot.child.process.pid
    try:
        await asyncio.sleep(1)  # let start-up work settle before the CPU is read
        cpu_before = cpu_seconds(pid)
        started = time.monotonic()
        await fire(bot)
        deadline = started + within
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            # The store is read (in a thread) only once every card is in: this loop is the
            # connector's too, and a stalled loop would bunch the arrivals it counts.
            if len(fake.answered_at) < conversations:
                continue
            if await asyncio.to_thread(unsent, database) == 0:
                break
        cpu = cpu_seconds(pid) - cpu_before
        posts = Counter(
            call.body["channelData"]["channel"]["id"] for call in fake.of_kind("create")
        )
        # A 429 refusal is recorded as a call too: count only the posts that made a message.
        made = Counter(m.conversation_id.split(";")[0] for m in fake.messages.values())
        last = max(fake.answered_at, default=started)
        return {
            "seconds": last - started,
            "refused": fake.refused,
            "lost": conversations - len(made),
            "duplicated": sum(made.values()) - len(made),
            "cpu": cpu / max(len(made), 1),
            "attempts": sum(posts.values()),
            "unsent": unsent(database),
        }
    finally:
        await bot.stop()
        await connector.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, nargs="+", default=[500])
    parser.add_argument("--latency", type=float, nargs="+", default=[0.1])
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--bot-from", help="run the bot of this checkout (PYTHONPATH)")
    parser.add_argument(
        "--set", action="append", default=[], help="a bot setting, ALERTBOT_NAME=value"
    )
    options = parser.parse_args()
    if options.bot_from:  # the spawned bot's; this process has imported what it needs
        os.environ["PYTHONPATH"] = options.bot_from
    for name in [n for n in os.environ if n.startswith("ALERTBOT_")]:
        os.environ.pop(name)
    per_second = APP_LIMIT[0] / APP_LIMIT[1]
    print(f"load average at start: {Path('/proc/loadavg').read_text().strip()}")
    print(
        "| conversations | latency s | seconds | per s | bound s | x bound | 429s "
        "| lost | dup | CPU ms/card |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for conversations in options.conversations:
        for latency in options.latency:
            extra = dict(setting.split("=", 1) for setting in options.set)
            r = asyncio.run(run(conversations, latency, options.timeout, extra))
            bound = conversations / per_second
            print(
                f"| {conversations} | {latency:.2f} | {r['seconds']:.1f} "
                f"| {conversations / r['seconds']:.1f} | {bound:.1f} "
                f"| {r['seconds'] / bound:.2f} | {r['refused']} | {r['lost']} "
                f"| {r['duplicated']} | {r['cpu'] * 1e3:.1f} |",
                flush=True,
            )
            if r["unsent"]:
                print(f"  ({r['unsent']} outbox items not marked sent at the end)")
    print(f"load average at end: {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    main()
