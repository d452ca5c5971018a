"""Benchmark: how long reading one maximal chat message takes (issue 19, finding 1).

Prints, for 28,000-character messages (Teams' maximum) of the shapes that made the old
entity patterns quadratic, the time to find names in them (bot.ask.mentions.scan, with
no length cap) and to understand them (bot.ask.understand, which does not read text over
MAX_QUESTION characters). Measured before the fix on this machine: 6.9 s, 9.9 s, 5.3 s
and 19.9 s for understand() on the first four shapes.

    .venv/bin/python -m benchmarks.ask_long_messages

A script that prints figures, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from bot.ask.catalog import load_catalog
from bot.ask.entities import EntityIndex
from bot.ask.matcher import Matcher
from bot.ask.mentions import AliasTable, scan
from bot.ask.understand import understand

LENGTH = 28_000
NOW = datetime(2026, 11, 18, 12, tzinfo=UTC)
SHAPES = {
    "upn-like run (aaaa...)": "a" * LENGTH,
    "dotted run (a.a.a...)": "a." * (LENGTH // 2),
    "unclosed <at><at>...": "<at>" * (LENGTH // 4),
    " @aaaa...a@": " @" + "a" * (LENGTH - 3) + "@",
    "ordinary words": "failures " * (LENGTH // 9),
}


def _seconds(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> None:
    catalog = load_catalog([Path(__file__).resolve().parents[1] / "config" / "questions"])
    matcher = Matcher(catalog)
    index = EntityIndex({})
    aliases = AliasTable.build(index, catalog.vocabulary, matcher.lexicon.common)
    print(f"{'message (28,000 characters)':32} {'scan (no cap)':>14} {'understand':>12}")
    for name, text in SHAPES.items():
        found = _seconds(partial(scan, text, aliases))
        read = _seconds(partial(understand, text, matcher, aliases, index, now=NOW))
        print(f"{name:32} {found * 1000:11.1f} ms {read * 1000:9.1f} ms")


if __name__ == "__main__":
    main()
