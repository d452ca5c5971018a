"""Benchmark: how much of the public KQL corpus runs on the embedded engine.

Runs every query of tests/data/kql-corpus on the demo workspace (small, 7 days) and
prints how many run, among all 286 and among the 205 that read only AuditLogs and
AADProvisioningLogs and call no function they do not define; the remaining
failures grouped by the construct that stopped them; and the median time per
query (parse, adapt, translate, run, fetch).

    .venv/bin/python -m benchmarks.kql_corpus [--empty] [--failures]

`--empty` runs on empty tables (translation only, as rule validation does);
`--failures` lists each failing query with its message.

A script that prints figures, not a test: tests/workspace/test_corpus.py guards the
count.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb_kql

from bot.errors import QueryError
from bot.workspace.demo import DemoSpec, load_demo
from bot.workspace.local import LocalWorkspace, create_tables

CORPUS = Path(__file__).parent.parent / "tests" / "data" / "kql-corpus"
OWN_TABLES = frozenset({"AuditLogs", "AADProvisioningLogs"})
NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Outcome:
    name: str
    seconds: float
    error: str | None


def self_contained() -> set[str]:
    """The corpus queries that read only our two tables and define what they call."""
    with (CORPUS / "index.tsv").open() as index:
        return {
            row["file"]
            for row in csv.DictReader(index, delimiter="\t")
            if set(row["tables"].split(",")) <= OWN_TABLES
            and row["uses_functions_not_defined_in_query"] == "no"
        }


def construct(message: str) -> str:
    """A short label for what stopped a query, from its error message."""
    message = re.sub(r"^line \d+, column \d+: ", "", message)
    unsupported = re.search(r"cannot run (?P<what>`[^`]+`|the \w+ \w+\(\))", message)
    if unsupported:
        return f"engine gap: {unsupported['what']}"
    named = re.search(r"named '(?P<name>[^']+)'", message)
    if named:
        return f"unresolved: {named['name']}"
    if message.startswith("Syntax error"):
        return "syntax"
    return message.split(":")[0][:60]


def workspace(*, empty: bool) -> LocalWorkspace:
    con = duckdb_kql.connect()
    if empty:
        create_tables(con)
    else:
        load_demo(con, DemoSpec(now=NOW, size="small", days=7))
        create_tables(con)
    return LocalWorkspace(con, clock=lambda: NOW, timeout=60)


async def run(ws: LocalWorkspace) -> list[Outcome]:
    outcomes = []
    for path in sorted(CORPUS.glob("*.kql")):
        started = time.perf_counter()
        try:
            await ws.query(path.read_text(), timespan=None)
        except QueryError as problem:
            outcomes.append(Outcome(path.name, time.perf_counter() - started, str(problem)))
        else:
            outcomes.append(Outcome(path.name, time.perf_counter() - started, None))
    return outcomes


def report(outcomes: list[Outcome], *, failures: bool) -> None:
    own = self_contained()
    running = {o.name for o in outcomes if o.error is None}
    print(f"{'set':<40} {'run':>5} {'of':>5}")
    print(f"{'all corpus queries':<40} {len(running):>5} {len(outcomes):>5}")
    print(f"{'AuditLogs/AADProvisioningLogs only':<40} {len(running & own):>5} {len(own):>5}")
    times = [o.seconds * 1000 for o in outcomes]
    print(f"\nmedian time per query: {statistics.median(times):.1f} ms (max {max(times):.0f} ms)")
    print("\nremaining failures among the single-table queries, by construct")
    counts = Counter(construct(o.error) for o in outcomes if o.error and o.name in own)
    for label, count in counts.most_common():
        print(f"{count:>5}  {label}")
    if failures:
        print()
        for o in outcomes:
            if o.error is not None:
                flag = "*" if o.name in own else " "
                print(f"{o.name}{flag} {o.error.splitlines()[0][:150]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--empty", action="store_true", help="empty tables (translation only)")
    parser.add_argument("--failures", action="store_true", help="list every failing query")
    args = parser.parse_args()
    ws = workspace(empty=args.empty)
    try:
        report(asyncio.run(run(ws)), failures=args.failures)
    finally:
        asyncio.run(ws.close())


if __name__ == "__main__":
    main()
