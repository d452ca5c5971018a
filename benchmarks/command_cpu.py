"""Benchmark: the bot's CPU per chat command, and latency at 50 conversations at once.

Starts the real `alertbot serve` (demo workspace, SQLite, no authentication on loopback)
beside the tests' fake Bot Connector, sends Teams message activities to /api/messages, and
reads the bot process's own CPU time from /proc/<pid>/stat before and after, so the
harness's CPU is not counted. Per command: CPU per turn (sequential turns in one personal
chat), then the wall time of each turn with `--concurrent` conversations sending at once
(p50, p99): a turn's HTTP answer comes once the bot has sent its reply to the connector.

Two loads at `--concurrent` conversations:
- a burst: every conversation sends at the same instant. Its replies are paced by the
  per-app limit (Teams' ~50 a second, kept at 40: bot.channels.teams.pacing), so the
  last of 50 replies cannot leave before ~1.2 s whatever the bot's CPU;
- steady: each conversation sends every `--every` seconds (open loop, start times
  spread at random, ~25 turns a second in all for 50 conversations every 2 s), for
  `--seconds`: the bot's overhead per turn while 50 conversations are busy at once.

    .venv/bin/python -m benchmarks.command_cpu [--turns 40] [--concurrent 50] [--every 2]

Goals (issue 14): ≤ 5 ms CPU for help/alerts/rules, ≤ 30 ms plus the KQL for a question,
p99 < 50 ms of bot overhead at 50 concurrent conversations. A script that prints figures,
not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from bot.playground.processes import BotServer, free_port
from tests.channels.teams.conftest import TENANT, USER_AAD, message
from tests.channels.teams.fake_connector import FakeConnector
from tests.support.alerting import CATALOG, DEMO_NOW

COMMANDS = ("help", "alerts", "rules", "provisioning failures last 24h")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process `pid` (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def turn(session: aiohttp.ClientSession, endpoint: str, body: dict[str, Any]) -> float:
    started = time.perf_counter()
    async with session.post(endpoint, json=body) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"{response.status} for {body['text']!r}")
    return time.perf_counter() - started


def percentiles(walls: list[float]) -> tuple[float, float]:
    """p50 and p99 of `walls`."""
    ordered = sorted(walls)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.99 * len(ordered)))]


async def steady(
    session: aiohttp.ClientSession,
    endpoint: str,
    bodies: list[dict[str, Any]],
    *,
    every: float,
    seconds: float,
) -> list[float]:
    """Each body sent every `every` s for `seconds`, on a fixed schedule (open loop)."""
    walls: list[float] = []
    start = time.perf_counter()

    async def conversation(body: dict[str, Any]) -> None:
        due = start + random.uniform(0, every)
        tasks = []
        while due < start + seconds:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(turn(session, endpoint, body)))
            due += every
        walls.extend(await asyncio.gather(*tasks))

    await asyncio.gather(*(conversation(body) for body in bodies))
    return walls


async def measure(
    turns: int, concurrent: int, every: float, seconds: float
) -> list[tuple[str, float, float, float, float, float]]:
    fake = FakeConnector()
    connector = TestServer(fake.app(), host="127.0.0.1")
    await connector.start_server()
    service_url = str(connector.make_url("/"))
    workdir = Path(tempfile.mkdtemp(prefix="command-cpu-"))
    bot = BotServer(
        workdir=workdir,
        port=free_port(),
        settings={
            "ALERTBOT_WORKSPACE": "local",
            "ALERTBOT_DEMO_NOW": DEMO_NOW.isoformat(),
            "ALERTBOT_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'bot.db'}",
            "ALERTBOT_RULES_PATH": str(CATALOG),
            "ALERTBOT_SCHEDULER_ENABLED": "false",
            "ALERTBOT_ADMIN_OBJECT_IDS": USER_AAD,
            "ALERTBOT_ALLOWED_TENANT_IDS": TENANT,
            "ALERTBOT_LOG_LEVEL": "WARNING",
        },
    )
    await bot.start()
    assert bot.child is not None
    pid = bot.child.process.pid
    rows = []
    try:
        async with aiohttp.ClientSession() as session:
            for text in COMMANDS:
                for _ in range(3):  # warm caches (templates, translations, the store)
                    await turn(session, bot.endpoint, message(service_url, text))
                before = cpu_seconds(pid)
                for _ in range(turns):
                    await turn(session, bot.endpoint, message(service_url, text))
                cpu = (cpu_seconds(pid) - before) / turns
                bodies = [
                    message(service_url, text, conversation=f"a:bench-{text[:5]}-{n}")
                    for n in range(concurrent)
                ]
                burst = percentiles(
                    await asyncio.gather(*(turn(session, bot.endpoint, b) for b in bodies))
                )
                await asyncio.sleep(1.5)  # the per-app pacing window empties
                calm = percentiles(
                    await steady(session, bot.endpoint, bodies, every=every, seconds=seconds)
                )
                rows.append((text, cpu, *burst, *calm))
    finally:
        await bot.stop()
        await connector.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=40, help="sequential turns per command")
    parser.add_argument("--concurrent", type=int, default=50, help="conversations at once")
    parser.add_argument("--every", type=float, default=2.0, help="steady: s between turns")
    parser.add_argument("--seconds", type=float, default=10.0, help="steady: for how long")
    options = parser.parse_args()
    rows = asyncio.run(measure(options.turns, options.concurrent, options.every, options.seconds))
    rate = options.concurrent / options.every
    print(
        f"bot CPU per turn ({options.turns} turns); wall ms at {options.concurrent} "
        f"conversations: all at once (burst), and each every {options.every:g} s "
        f"({rate:g} turns/s, steady)"
    )
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    heads = ("CPU ms", "burst p50", "burst p99", "steady p50", "steady p99")
    print(f"| {'command':34} | " + " | ".join(f"{h:>10}" for h in heads) + " |")
    print(f"|{'-' * 36}|" + "|".join("-" * 12 for _ in heads) + "|")
    for text, *figures in rows:
        cells = [f"{figures[0] * 1e3:10.1f}", *(f"{f * 1e3:10.0f}" for f in figures[1:])]
        print(f"| {text:34} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
