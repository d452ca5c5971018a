"""Benchmark: the bot's CPU per chat command, and latency at 50 conversations at once.

Starts the real `alertbot serve` (demo workspace, SQLite, no authentication on loopback)
beside the tests' fake Bot Connector, sends Teams message activities to /api/messages, and
reads the bot process's own CPU time from /proc/<pid>/stat before and after, so the
harness's CPU is not counted. Per command: CPU per turn (sequential turns in one personal
chat), then the wall time of each turn with `--concurrent` conversations sending at once
(p50, p99): a turn's HTTP answer comes once the bot has sent its reply to the connector.

    .venv/bin/python -m benchmarks.command_cpu [--turns 40] [--concurrent 50]

Goals (issue 14): ≤ 5 ms CPU for help/alerts/rules, ≤ 30 ms plus the KQL for a question,
p99 < 50 ms of bot overhead at 50 concurrent conversations. A script that prints figures,
not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
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


async def measure(turns: int, concurrent: int) -> list[tuple[str, float, float, float]]:
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
                walls = sorted(
                    await asyncio.gather(*(turn(session, bot.endpoint, b) for b in bodies))
                )
                p99 = walls[min(len(walls) - 1, round(0.99 * len(walls)))]
                rows.append((text, cpu, statistics.median(walls), p99))
    finally:
        await bot.stop()
        await connector.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=40, help="sequential turns per command")
    parser.add_argument("--concurrent", type=int, default=50, help="conversations at once")
    options = parser.parse_args()
    rows = asyncio.run(measure(options.turns, options.concurrent))
    print(f"bot CPU per turn ({options.turns} turns), wall at {options.concurrent} at once")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"| {'command':34} | {'CPU ms':>7} | {'p50 ms':>7} | {'p99 ms':>7} |")
    print(f"|{'-' * 36}|{'-' * 9}|{'-' * 9}|{'-' * 9}|")
    for text, cpu, p50, p99 in rows:
        print(f"| {text:34} | {cpu * 1e3:7.1f} | {p50 * 1e3:7.0f} | {p99 * 1e3:7.0f} |")


if __name__ == "__main__":
    main()
