"""Benchmark: how long `alertbot` takes to answer, command by command.

Runs each command as a new process (`python -m bot ...`, what the console script runs)
in an empty directory with no ALERTBOT_* settings (the demo workspace, the shipped
catalogs), several times, and prints per command the median and best wall time, the
median CPU time (user + system, the process and its children), and which heavy
libraries it imported (`python -X importtime`): `query`, `rules` and `ask` need none of
botbuilder, azure, alembic, aiohttp or sqlalchemy.

    .venv/bin/python -m benchmarks.cli_startup [--repeat 5]

Goals (issue 13): `query "print x=1"` and `rules list` under 1 s wall, `ask` under 1.5 s.
The demo workspace's own generation is part of `query` and `ask` (see
bot/workspace/demo). A script that prints figures, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

COMMANDS: tuple[tuple[str, ...], ...] = (
    ("query", "print x=1"),
    ("rules", "list"),
    ("rules", "validate"),
    ("ask", "provisioning failures last 24h"),
    ("--help",),
)
HEAVY = ("botbuilder", "azure", "alembic", "aiohttp", "sqlalchemy")
GOALS = {"query": 1.0, "rules list": 1.0, "ask": 1.5}


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float


def run_once(args: tuple[str, ...], cwd: Path, env: dict[str, str]) -> Timing:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu)


def heavy_imports(args: tuple[str, ...], cwd: Path, env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    imported = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return sorted(name for name in HEAVY if name in imported)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per command")
    options = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("ALERTBOT_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    print(f"alertbot start-up, {options.repeat} runs per command, {os.cpu_count()} CPUs")
    print(f"{'command':<42} {'wall med':>9} {'wall min':>9} {'CPU med':>8}  {'goal':>5}  heavy")
    with tempfile.TemporaryDirectory() as empty:
        cwd = Path(empty)
        for args in COMMANDS:
            run_once(args, cwd, env)  # warm the file cache
            timings = [run_once(args, cwd, env) for _ in range(options.repeat)]
            name = " ".join(args[:2]) if args[0] == "rules" else args[0]
            goal = GOALS.get(name)
            shown = " ".join(f'"{a}"' if " " in a else a for a in args)
            print(
                f"{shown:<42} {statistics.median(t.wall for t in timings):>8.2f}s "
                f"{min(t.wall for t in timings):>8.2f}s "
                f"{statistics.median(t.cpu for t in timings):>7.2f}s  "
                f"{f'{goal:.1f}s' if goal else '':>5}  "
                f"{', '.join(heavy_imports(args, cwd, env)) or 'none'}"
            )


if __name__ == "__main__":
    main()
