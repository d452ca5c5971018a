"""Two fewer layers in the SQL duckdb-kql renders for a pipeline.

duckdb-kql writes a pipeline as one CTE per stage, the first only naming the
table and the statement only selecting the last:

    WITH _s0 AS (SELECT * FROM "T"),
         _s1 AS (SELECT * FROM _s0 WHERE ...)
    SELECT * FROM _s1

DuckDB binds every layer again (every column of the table, each time): about
0.25 ms a layer on the demo tables, as much as a small query takes to run. So the
table is read under the first stage's name where the second stage reads it
(``FROM "T" AS _s0``) and the statement is the last stage itself:

    WITH ... SELECT * FROM "T" AS _s0 WHERE ...

Only that exact layout is changed (stage names `_s0`.. in order, as the text is
read quote-aware, each name used where expected and nowhere else); any other
text is returned as it was.
"""

from __future__ import annotations

import re
from typing import Final

from bot.workspace.sql_text import balanced, closing

_SEPARATOR: Final = ",\n     "
_TABLE_ONLY: Final = re.compile(r'SELECT \* FROM "(?:[^"]|"")+"')


def flattened(sql: str) -> str:
    """`sql` with its table-naming first stage and its last-stage statement folded in."""
    stages = _stages(sql)
    if stages is None:
        return sql
    if len(stages) >= 2 and _TABLE_ONLY.fullmatch(stages[0]):
        stages = _read_table_in_place(stages)
    last = stages[-1]
    if last.startswith("WITH") or _mentions(stages[:-1], f"_s{len(stages) - 1}"):
        return sql
    kept = [f"_s{index} AS ({body})" for index, body in enumerate(stages[:-1]) if body]
    return ("WITH " + _SEPARATOR.join(kept) + "\n" if kept else "") + last


def _read_table_in_place(stages: list[str]) -> list[str]:
    """Stage 0 emptied and its table read in stage 1, if stage 1 alone reads it, once."""
    uses = [len(re.findall(r"\b_s0\b", body)) for body in stages[1:]]
    reads = re.findall(r"\bFROM _s0\b", stages[1])
    if uses[0] != 1 or sum(uses) != 1 or len(reads) != 1:
        return stages
    table = stages[0].removeprefix("SELECT * FROM ")
    return ["", re.sub(r"\bFROM _s0\b", f"FROM {table} AS _s0", stages[1]), *stages[2:]]


def _mentions(bodies: list[str], name: str) -> bool:
    return any(re.search(rf"\b{name}\b", body) for body in bodies)


def _stages(sql: str) -> list[str] | None:
    """The stage bodies of exactly duckdb-kql's pipeline layout, else None."""
    if not sql.startswith("WITH "):
        return None
    bodies: list[str] = []
    position = len("WITH ")
    while True:
        head = f"_s{len(bodies)} AS ("
        if not sql.startswith(head, position):
            return None
        end = closing(sql, position + len(head) - 1)
        if end is None:
            return None
        bodies.append(sql[position + len(head) : end])
        position = end + 1
        if sql.startswith(_SEPARATOR, position):
            position += len(_SEPARATOR)
            continue
        final = f"\nSELECT * FROM _s{len(bodies) - 1}"
        return bodies if sql[position:] == final and all(map(balanced, bodies)) else None
