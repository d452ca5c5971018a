"""Operator and function rewrites that let duckdb-kql run published Sentinel queries.

Each rewrite turns a construct duckdb-kql 1.1 refuses into one it runs with the
same rows in Log Analytics (tests/workspace/test_kql_rewrites.py checks each
against a hand-written equivalent). A construct that does not fit the safe shape
is left as written, so the engine names it in its error.

1. ``mv-apply X = A on (where ... | extend ...)`` whose subquery is row-wise
   (`where`, `extend`, `mv-expand`, `parse`, `parse-where`, nested row-wise
   `mv-apply`) is ``mv-expand X = A | where ... | extend ...``: a row-wise
   subquery sees one element at a time either way, and an empty array gives no
   rows in both (duckdb-kql's mv-expand drops it, Kusto's subquery gets an empty
   table). The named form keeps the source column, as mv-apply does.
2. ``mv-expand a.b`` and ``mv-expand todynamic(x)``: Kusto names the expansion
   ``a_b`` (the path joined by ``_``) and ``x`` (the one column the function
   reads, which it replaces); duckdb-kql wants the name written, so it is.
3. A statement that starts with ``(union ...)`` followed by ``| ...``: the
   parentheses are dropped, since operators after `union` apply to its output.
4. ``split(s, d, i)`` is ``array_slice(split(s, d), i, i)``: a one-element array,
   or an empty one when there is no i-th part, as in Kusto.
5. ``extractjson(path, s[, typeof(T)])`` with a literal JSONPath of names and
   indexes is ``tostring(parse_json(s).path)`` (or ``toT(...)``); the old names
   ``parsejson``, ``makeset``, ``makelist`` are their current ones.
6. A bare ``| serialize`` (valid KQL, refused by duckdb-kql's grammar) is a no-op
   ``| where true``: it only marks the rows' order for window functions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from duckdb_kql._antlr.KqlLexer import KqlLexer

from bot.workspace.kql_tokens import (
    Token,
    matching,
    previous_visible,
    segments,
    skip_hidden,
    synthetic,
    text_of,
    tokenize,
)

_ROW_WISE: Final = frozenset(
    {
        KqlLexer.WHERE,
        KqlLexer.EXTEND,
        KqlLexer.MVEXPAND,
        KqlLexer.MV_EXPAND,
        KqlLexer.PARSE,
        KqlLexer.PARSEWHERE,
    }
)
_MV_APPLY: Final = frozenset({KqlLexer.MVAPPLY, KqlLexer.MV_APPLY})
_MV_EXPAND: Final = frozenset({KqlLexer.MVEXPAND, KqlLexer.MV_EXPAND})
_RENAMED: Final = {"parsejson": "parse_json", "makeset": "make_set", "makelist": "make_list"}
_CONVERTERS: Final = {
    "string": "tostring",
    "long": "tolong",
    "int": "toint",
    "real": "toreal",
    "double": "toreal",
    "bool": "tobool",
    "boolean": "tobool",
    "datetime": "todatetime",
    "guid": "toguid",
    "timespan": "totimespan",
    "decimal": "todecimal",
}
_JSON_PATH: Final = re.compile(r"^\$((\.[A-Za-z_][A-Za-z0-9_]*)|(\[\d+\])|(\['[^']*'\]))*$")
_JSON_STEP: Final = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['([^']*)'\]")
_OPTION_NAMES: Final = frozenset({"kind", "with_itemindex", "bagexpansion"})

Rewrite = Callable[[list[Token]], list[Token]]


def rewrite_all(tokens: list[Token]) -> list[Token]:
    for rewrite in (
        legacy_names,
        extractjson,
        three_argument_split,
        mv_apply_as_mv_expand,
        name_unnamed_mv_expand,
        unparenthesised_union,
        bare_serialize,
    ):
        rewritten = rewrite(tokens)
        if rewritten != tokens:  # lex again: inserted text may hold several tokens
            tokens = tokenize(text_of(rewritten))
    return tokens


def legacy_names(tokens: list[Token]) -> list[Token]:
    result = list(tokens)
    for position, token in enumerate(result):
        name = _RENAMED.get(token.text.lower()) if token.type == KqlLexer.IDENTIFIER else None
        if name and _is_call(result, position):
            result[position] = synthetic(KqlLexer.IDENTIFIER, name)
    return result


def mv_apply_as_mv_expand(tokens: list[Token]) -> list[Token]:
    result = list(tokens)
    position = 0
    while position < len(result):
        if result[position].type in _MV_APPLY:
            replaced = _row_wise_mv_apply(result, position)
            if replaced is not None:
                result = replaced
        position += 1
    return result


def _row_wise_mv_apply(tokens: list[Token], start: int) -> list[Token] | None:
    on = _header_end(tokens, start + 1)
    opener = skip_hidden(tokens, on + 1) if on is not None else len(tokens)
    if on is None or opener >= len(tokens) or tokens[opener].type != KqlLexer.OPENPAREN:
        return None
    closer = matching(tokens, opener)
    if closer is None:
        return None
    inner = mv_apply_as_mv_expand(tokens[opener + 1 : closer])
    for first, end in segments(inner, 0, len(inner)):
        head = skip_hidden(inner, first)
        if head >= end or inner[head].type not in _ROW_WISE:
            return None
    return [
        *tokens[:start],
        synthetic(KqlLexer.MVEXPAND, "mv-expand"),
        *tokens[start + 1 : on],
        synthetic(KqlLexer.BAR, "|"),
        *tokens[on + 1 : opener],
        *inner,
        *tokens[closer + 1 :],
    ]


def _header_end(tokens: list[Token], position: int) -> int | None:
    """The `on` that ends an mv-apply header (outside brackets)."""
    depth = 0
    for index in range(position, len(tokens)):
        kind = tokens[index].type
        if kind in (KqlLexer.OPENPAREN, KqlLexer.OPENBRACKET):
            depth += 1
        elif kind in (KqlLexer.CLOSEPAREN, KqlLexer.CLOSEBRACKET):
            depth -= 1
        elif kind == KqlLexer.ON and depth == 0:
            return index
        elif kind in (KqlLexer.BAR, KqlLexer.SEMICOLON) and depth <= 0:
            return None
    return None


def name_unnamed_mv_expand(tokens: list[Token]) -> list[Token]:
    result = list(tokens)
    position = 0
    while position < len(result):
        if result[position].type in _MV_EXPAND:
            result = _name_expansions(result, position + 1)
        position += 1
    return result


def _name_expansions(tokens: list[Token], position: int) -> list[Token]:
    position = skip_hidden(tokens, position)
    while _is_option(tokens, position):
        position = skip_hidden(tokens, skip_hidden(tokens, position + 1) + 1)
        position = skip_hidden(tokens, position + 1)
    end = _expansion_list_end(tokens, position)
    inserted: list[tuple[int, str]] = []
    for first, last in _arguments_in(tokens, position, end):
        name = _kusto_expansion_name(tokens[first:last])
        if name is not None:
            inserted.append((first, name))
    result = list(tokens)
    for first, name in reversed(inserted):
        result[first:first] = [synthetic(KqlLexer.IDENTIFIER, name), synthetic(KqlLexer.EQUAL, "=")]
    return result


def _expansion_list_end(tokens: list[Token], position: int) -> int:
    depth = 0
    for index in range(position, len(tokens)):
        kind = tokens[index].type
        if kind in (KqlLexer.OPENPAREN, KqlLexer.OPENBRACKET):
            depth += 1
        elif kind in (KqlLexer.CLOSEPAREN, KqlLexer.CLOSEBRACKET):
            if depth == 0:
                return index
            depth -= 1
        elif depth == 0 and kind in (KqlLexer.BAR, KqlLexer.SEMICOLON, KqlLexer.LIMIT):
            return index
    return len(tokens)


def _kusto_expansion_name(expression: list[Token]) -> str | None:
    """Kusto's own name for an unnamed expansion, or None if written with a name."""
    visible = [token for token in expression if not token.hidden]
    if KqlLexer.TO in {token.type for token in visible}:
        visible = visible[: [token.type for token in visible].index(KqlLexer.TO)]
    if len(visible) < 2 or visible[1].type == KqlLexer.EQUAL:
        return None
    kinds = [token.type for token in visible]
    if kinds[0] == KqlLexer.IDENTIFIER and kinds[1] == KqlLexer.OPENPAREN:
        columns = {
            token.text
            for index, token in enumerate(visible[2:], start=2)
            if token.type == KqlLexer.IDENTIFIER
            and visible[index - 1].type != KqlLexer.DOT
            and (index + 1 >= len(visible) or visible[index + 1].type != KqlLexer.OPENPAREN)
        }
        return columns.pop() if len(columns) == 1 else None
    if all(kind in (KqlLexer.IDENTIFIER, KqlLexer.DOT) for kind in kinds):
        return "_".join(token.text for token in visible if token.type == KqlLexer.IDENTIFIER)
    return None


def unparenthesised_union(tokens: list[Token]) -> list[Token]:
    start = skip_hidden(tokens, 0)
    if start >= len(tokens) or tokens[start].type != KqlLexer.OPENPAREN:
        return tokens
    if tokens[skip_hidden(tokens, start + 1)].type != KqlLexer.UNION:
        return tokens
    closer = matching(tokens, start)
    if closer is None:
        return tokens
    after = skip_hidden(tokens, closer + 1)
    if after < len(tokens) and tokens[after].type not in (KqlLexer.BAR, KqlLexer.SEMICOLON):
        return tokens
    return [*tokens[:start], *tokens[start + 1 : closer], *tokens[closer + 1 :]]


def bare_serialize(tokens: list[Token]) -> list[Token]:
    """`| serialize` with no column only marks the rows as ordered, which they already
    are for duckdb-kql (its grammar refuses the bare form): it becomes `where true`."""
    result = list(tokens)
    for position in range(len(result) - 1, -1, -1):
        if result[position].type != KqlLexer.SERIALIZE:
            continue
        following = skip_hidden(result, position + 1)
        if following >= len(result) or result[following].type in (
            KqlLexer.BAR,
            KqlLexer.SEMICOLON,
            KqlLexer.CLOSEPAREN,
        ):
            result[position] = synthetic(KqlLexer.WHERE, "where true")
    return result


def three_argument_split(tokens: list[Token]) -> list[Token]:
    def replace(args: list[str]) -> str | None:
        if len(args) != 3:
            return None
        return f"array_slice(split({args[0]}, {args[1]}), {args[2]}, {args[2]})"

    return _rewrite_calls(tokens, "split", replace)


def extractjson(tokens: list[Token]) -> list[Token]:
    def replace(args: list[str]) -> str | None:
        if len(args) not in (2, 3):
            return None
        accessor = _accessor(args[0].strip())
        if accessor is None:
            return None
        converter = "tostring"
        if len(args) == 3:
            kind = re.fullmatch(r"\s*typeof\s*\(\s*(\w+)\s*\)\s*", args[2])
            if kind is None or (kind[1].lower() not in _CONVERTERS and kind[1] != "dynamic"):
                return None
            converter = _CONVERTERS.get(kind[1].lower(), "")
        return f"{converter}(parse_json({args[1].strip()}){accessor})"

    tokens = _rewrite_calls(tokens, "extractjson", replace)
    return _rewrite_calls(tokens, "extract_json", replace)


def _accessor(literal: str) -> str | None:
    """`$.a.b[0]` as KQL property steps `["a"]["b"][0]`, if it is that simple."""
    match = re.fullmatch(r"""(?:@?)(['"])(?P<path>.*)\1""", literal)
    if match is None or not _JSON_PATH.match(match["path"]):
        return None
    steps = []
    for name, index, quoted in _JSON_STEP.findall(match["path"][1:]):
        steps.append(f"[{index}]" if index else f'["{name or quoted}"]')
    return "".join(steps)


def _rewrite_calls(
    tokens: list[Token], function: str, replace: Callable[[list[str]], str | None]
) -> list[Token]:
    result = list(tokens)
    position = len(result) - 1
    while position >= 0:  # from the end, so nested calls are rewritten inside out
        token = result[position]
        if token.type == KqlLexer.IDENTIFIER and token.text.lower() == function:
            opener = skip_hidden(result, position + 1)
            closer = matching(result, opener) if _is_call(result, position) else None
            if closer is not None:
                spans = _arguments_in(result, opener + 1, closer)
                args = [text_of(result[a:b]).strip() for a, b in spans]
                text = replace(args)
                if text is not None:
                    result[position : closer + 1] = [synthetic(KqlLexer.IDENTIFIER, text)]
        position -= 1
    return result


def _arguments_in(tokens: list[Token], start: int, end: int) -> list[tuple[int, int]]:
    """[first, last) spans of the top-level comma-separated items in tokens[start:end]."""
    spans: list[tuple[int, int]] = []
    depth = 0
    first = start
    for position in range(start, end):
        kind = tokens[position].type
        if kind in (KqlLexer.OPENPAREN, KqlLexer.OPENBRACKET, KqlLexer.OPENBRACE):
            depth += 1
        elif kind in (KqlLexer.CLOSEPAREN, KqlLexer.CLOSEBRACKET, KqlLexer.CLOSEBRACE):
            depth -= 1
        elif kind == KqlLexer.COMMA and depth == 0:
            spans.append((first, position))
            first = position + 1
    if any(not token.hidden for token in tokens[first:end]):
        spans.append((first, end))
    return spans


def _is_call(tokens: list[Token], position: int) -> bool:
    following = skip_hidden(tokens, position + 1)
    before = previous_visible(tokens, position)
    is_property = before >= 0 and tokens[before].type == KqlLexer.DOT
    return (
        not is_property and following < len(tokens) and tokens[following].type == KqlLexer.OPENPAREN
    )


def _is_option(tokens: list[Token], position: int) -> bool:
    if position >= len(tokens) or tokens[position].text.lower() not in _OPTION_NAMES:
        return False
    following = skip_hidden(tokens, position + 1)
    return following < len(tokens) and tokens[following].type == KqlLexer.EQUAL
