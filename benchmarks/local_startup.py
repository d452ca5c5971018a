"""Benchmark: start-up, memory and CLI wall time of the embedded demo workspace.

Prints three tables:

1. `alertbot serve` per demo size, with an empty cache (the demo is generated) and
   with a warm one: seconds until /readyz answers 200, RSS once idle (after
   `--idle` seconds) and the process's peak RSS (VmHWM).
2. CLI wall time with an empty and a warm cache: `alertbot query "print x=1"`,
   `alertbot rules list`, `alertbot rules validate`, `alertbot ask`.
3. In-process figures: loading the shipped rules (validation included) with and
   without cached translations, and how long a timed-out query takes to stop.

    .venv/bin/python -m benchmarks.local_startup [--sizes small,medium] [--idle 5]

Every process runs in a temporary directory with its own cache. A script that
prints figures, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import duckdb_kql

from bot.errors import QueryTimeoutError
from bot.playground.processes import BotServer, free_port, inherited_environment

QUESTION = "provisioning failures for job ServiceNow last 24h"


def _settings(workdir: Path, cache: Path, size: str) -> dict[str, str]:
    return {
        "ALERTBOT_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'bot.db'}",
        "ALERTBOT_NOTIFIER": "log",
        "ALERTBOT_DEMO_SIZE": size,
        "ALERTBOT_CACHE_DIR": str(cache),
    }


def _memory_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process, in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def _serve_once(workdir: Path, cache: Path, size: str, idle: float) -> tuple[float, ...]:
    server = BotServer(workdir=workdir, port=free_port(), settings=_settings(workdir, cache, size))
    started = time.perf_counter()
    await server.start(within=600)
    ready = time.perf_counter() - started
    try:
        await asyncio.sleep(idle)
        assert server.child is not None
        assert server.child.process is not None
        rss, peak = _memory_mib(server.child.process.pid)
    finally:
        await server.stop()
    return ready, rss, peak


def bench_serve(sizes: Sequence[str], idle: float) -> None:
    print("\n## alertbot serve\n")
    print(
        f"| {'size':6} | {'cache':5} | {'readyz s':>8} | {'idle RSS MiB':>12} | {'peak MiB':>8} |"
    )
    print(f"|{'-' * 8}|{'-' * 7}|{'-' * 10}|{'-' * 14}|{'-' * 10}|")
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="alertbot-bench-") as name:
            workdir = Path(name)
            for cache in ("empty", "warm"):
                ready, rss, peak = asyncio.run(_serve_once(workdir, workdir / "cache", size, idle))
                print(f"| {size:6} | {cache:5} | {ready:>8.2f} | {rss:>12.0f} | {peak:>8.0f} |")


def _wall(arguments: Sequence[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot", *arguments],
        cwd=cwd,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def bench_cli() -> None:
    commands = {
        'query "print x=1"': ["query", "print x=1"],
        "rules list": ["rules", "list"],
        "rules validate": ["rules", "validate"],
        f'ask "{QUESTION[:24]}..."': ["ask", QUESTION],
    }
    print("\n## CLI wall time, seconds (small demo)\n")
    print(f"| {'command':38} | {'empty cache':>11} | {'warm cache':>10} |")
    print(f"|{'-' * 40}|{'-' * 13}|{'-' * 12}|")
    for label, arguments in commands.items():
        with tempfile.TemporaryDirectory(prefix="alertbot-bench-") as name:
            workdir = Path(name)
            env = inherited_environment(_settings(workdir, workdir / "cache", "small"))
            env["PYTHONPATH"] = os.pathsep.join(sys.path)
            cold = _wall(arguments, env, workdir)
            warm = min(_wall(arguments, env, workdir) for _ in range(2))
            print(f"| {label:38} | {cold:>11.2f} | {warm:>10.2f} |")


def bench_in_process() -> None:
    from bot.app import load_rule_set
    from bot.settings import Settings
    from bot.workspace.local import LocalWorkspace, create_tables

    print("\n## In process\n")
    print(f"| {'what':46} | {'seconds':>7} |")
    print(f"|{'-' * 48}|{'-' * 9}|")
    with tempfile.TemporaryDirectory(prefix="alertbot-bench-") as name:
        settings = Settings(cache_dir=Path(name))
        for label in (
            "load + validate rules, no translation cache",
            "the same, translations cached",
        ):
            started = time.perf_counter()
            rules = load_rule_set(settings)
            print(f"| {label:46} | {time.perf_counter() - started:>7.2f} |")
    print(f"| {'(rules loaded: ' + str(len(rules)) + ')':46} | {'':>7} |")

    async def stopped() -> float:
        con = duckdb_kql.connect()
        create_tables(con)
        workspace = LocalWorkspace(con, timeout=0.05)
        started = time.perf_counter()
        with contextlib.suppress(QueryTimeoutError):
            await workspace.query(
                "range a from 1 to 100000 step 1 | extend k = 1 | join kind=inner "
                "(range b from 1 to 100000 step 1 | extend k = 1) on k | count",
                timespan=None,
            )
        await workspace.close()
        return time.perf_counter() - started

    label = "a 0.05 s timeout: until the query has stopped"
    print(f"| {label:46} | {asyncio.run(stopped()):>7.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", default="small,medium", help="demo sizes for serve")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds idle before RSS")
    parser.add_argument("--skip", default="", help="comma-separated: serve, cli, process")
    args = parser.parse_args()
    skipped = set(args.skip.split(","))
    if "process" not in skipped:
        bench_in_process()
    if "cli" not in skipped:
        bench_cli()
    if "serve" not in skipped:
        bench_serve(args.sizes.split(","), args.idle)


if __name__ == "__main__":
    main()
