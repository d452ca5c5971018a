"""Reading the SQL text duckdb-kql renders: where its parentheses and quotes close."""

from __future__ import annotations


def balanced(sql: str) -> bool:
    """Whether every parenthesis outside quotes closes, and every quote ends, in `sql`.

    duckdb-kql quotes strings as '...' and names as "...", doubling a quote inside
    (never a backslash escape), so a doubled quote simply closes and reopens.
    """
    depth = 0
    quote: str | None = None
    for char in sql:
        if quote is not None:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and quote is None
