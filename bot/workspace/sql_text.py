"""Reading the SQL text duckdb-kql renders: where its parentheses and quotes close."""

from __future__ import annotations

from collections.abc import Iterator


def balanced(sql: str) -> bool:
    """Whether every parenthesis outside quotes closes, and every quote ends, in `sql`.

    duckdb-kql quotes strings as '...' and names as "...", doubling a quote inside
    (never a backslash escape), so a doubled quote simply closes and reopens.
    """
    depth = 0
    for _, depth in _depths(sql, 0):
        if depth < 0:
            return False
    return depth == 0


def closing(sql: str, opening: int) -> int | None:
    """The index of the parenthesis closing the one at `opening` (quote-aware)."""
    for index, depth in _depths(sql, opening):
        if depth == 0:
            return index
    return None


def _depths(sql: str, start: int) -> Iterator[tuple[int, int]]:
    """(index, depth after it) for each parenthesis outside quotes from `start`; then, if
    a quote is left open, (len(sql), -1): as unbalanced as a stray `)`."""
    depth = 0
    quote: str | None = None
    for index in range(start, len(sql)):
        char = sql[index]
        if quote is not None:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "()":
            depth += 1 if char == "(" else -1
            yield index, depth
    if quote is not None:
        yield len(sql), -1
