"""Which tables a query reads, which names it defines, and which identifiers are columns.

From the lexer's significant tokens (kind, token). Deliberately generous about
what a query defines: a name it creates must never be reported as unknown, so
everything that can introduce a name counts (`X = ...`, `(A, B) = ...`, `parse
... with ... X`, typed arguments `(x: string)`, `externaldata(x: string)`,
implicit names `count_`, `set_X`, and Kusto's `a_b` for `mv-expand a.b`), and
join syntax (`kind=inner`, `$left.X`, the `X1` a join gives a duplicate column)
is never taken for a column.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any, Final

Tokens = Sequence[tuple[str, Any]]

#: Columns `summarize` and friends name by themselves: count_, sum_DurationMs, set_X ...
IMPLICIT: Final = re.compile(
    r"^(count|dcount|sum|avg|min|max|any|countif|sumif|avgif|arg_max|arg_min|make_list|make_set"
    r"|list|set|bag|percentile\w*|stdev|variance|dcountif|take_any)_"
)
#: `name = value` pairs where the value is a keyword-like word, not a column.
_OPTIONS: Final = frozenset(
    {"kind", "isfuzzy", "withsource", "flags", "bagexpansion", "with_itemindex", "hint"}
)


def defined_names(tokens: Tokens) -> set[str]:
    """Names the query gives to columns, values, functions or arguments."""
    defined: set[str] = set()
    in_parse_pattern = False
    for index, (kind, token) in enumerate(tokens):
        following = tokens[index + 1][0] if index + 1 < len(tokens) else ""
        if kind == "BAR":
            in_parse_pattern = False
        elif kind == "WITH":
            in_parse_pattern = any(
                k.startswith("PARSE") for k, _ in tokens[max(0, index - 30) : index]
            )
        if kind != "IDENTIFIER":
            continue
        if following in ("EQUAL", "COLON") or in_parse_pattern:
            defined.add(token.text)
    defined |= _tuple_assignments(tokens) | _expanded_paths(tokens)
    return defined


def column_references(tokens: Tokens, first_line: int) -> Iterator[tuple[str, Any]]:
    """Identifiers that name a column: not a property, call, option value or `$left`."""
    for index, (kind, token) in enumerate(tokens):
        if kind != "IDENTIFIER" or token.line < first_line or token.text.startswith("$"):
            continue
        before = tokens[index - 1][0] if index else ""
        after = tokens[index + 1][0] if index + 1 < len(tokens) else ""
        if before == "DOT" or after == "OPENPAREN" or _is_option_value(tokens, index):
            continue
        yield token.text, token


def table_references(tokens: Tokens, first_line: int) -> Iterator[tuple[str, Any]]:
    """Identifiers where a tabular source stands: a statement's or a `(...)` pipeline's
    start, `let x = T | ...`, and the list of `union A, B`."""
    first = _first_body_token(tokens, first_line)
    in_union = False
    for index, (kind, token) in enumerate(tokens):
        if kind == "UNION":
            in_union = True
        elif kind in ("BAR", "OPENPAREN", "CLOSEPAREN", "SEMICOLON"):
            in_union = False
        if kind != "IDENTIFIER" or index < first:
            continue
        before = tokens[index - 1][0] if index > first else "SEMICOLON"
        after = tokens[index + 1][0] if index + 1 < len(tokens) else ""
        let_source = before == "EQUAL" and index >= 3 and tokens[index - 3][0] == "LET"
        if (
            (before == "SEMICOLON" and after in ("BAR", "SEMICOLON", ""))
            or (before == "OPENPAREN" and after == "BAR")
            or (let_source and after in ("BAR", "SEMICOLON"))
            or (in_union and before in ("UNION", "COMMA") and after != "EQUAL")
        ):
            yield token.text, token


def is_known(name: str, known: set[str]) -> bool:
    """In `known`, implicit (`count_`), or a join's renamed duplicate (`TimeGenerated1`)."""
    if name in known or IMPLICIT.match(name):
        return True
    base = name.rstrip("0123456789")
    return base != name and base in known


def _first_body_token(tokens: Tokens, first_line: int) -> int:
    return next((i for i, (_, t) in enumerate(tokens) if t.line >= first_line), -1)


def _is_option_value(tokens: Tokens, index: int) -> bool:
    if index < 2 or tokens[index - 1][0] != "EQUAL":
        return False
    option = tokens[index - 2][1].text.lower()
    return option in _OPTIONS or option.startswith("hint.")


def _tuple_assignments(tokens: Tokens) -> set[str]:
    """`extend (A, B) = f(...)`: names in parentheses followed by `=`."""
    names: set[str] = set()
    for index, (kind, _) in enumerate(tokens):
        if kind != "CLOSEPAREN" or index + 1 >= len(tokens) or tokens[index + 1][0] != "EQUAL":
            continue
        position = index - 1
        while position >= 0 and tokens[position][0] in ("IDENTIFIER", "COMMA"):
            if tokens[position][0] == "IDENTIFIER":
                names.add(tokens[position][1].text)
            position -= 1
    return names


def _expanded_paths(tokens: Tokens) -> set[str]:
    """Kusto's name for an unnamed `mv-expand a.b`: `a_b`."""
    names: set[str] = set()
    for index, (kind, _) in enumerate(tokens):
        if kind not in ("MVEXPAND", "MV_EXPAND", "MVAPPLY", "MV_APPLY"):
            continue
        parts: list[str] = []
        position = index + 1
        while position < len(tokens) and tokens[position][0] in ("IDENTIFIER", "DOT"):
            if tokens[position][0] == "IDENTIFIER":
                parts.append(tokens[position][1].text)
            position += 1
        if len(parts) > 1:
            names.add("_".join(parts))
    return names
