"""Close the gaps between duckdb-kql and Log Analytics KQL that published queries hit.

duckdb-kql runs most Entra queries unmodified. Where it differs from Log Analytics on
a construct that the seed queries use, this module adapts the *query* (never the
caller's text: callers keep their original for display) at the token level, using
duckdb-kql's own ANTLR lexer so that string literals and comments are never touched:

1. Path steps ``X.[2]`` / ``X.[-1]``: valid KQL that duckdb-kql refuses
   ("path step"). ``X.[i]`` means exactly ``X[i]``, which it supports, negative
   indexes included. The dot is dropped.
2. ``parse <expr> with ...`` / ``parse-where`` over a *dynamic* value: Kusto parses
   the value's string form (``"a\\nb"`` parses as ``a<newline>b``), duckdb-kql
   parses the JSON text (quotes and escapes included), so the pattern never
   matches. The source expression is wrapped in ``tostring(...)``, which is a
   no-op for strings and Kusto's own conversion for dynamic values.
3. ``parse_json(s)`` / ``todynamic(s)`` when ``s`` is not valid JSON: Kusto returns
   the string itself as a dynamic string (so ``parse_json(tostring(x.id)) in
   ("<guid>")`` matches), duckdb-kql returns null. The function registry entry is
   replaced by one that falls back to the string.

4. Identifiers that differ from a table column only in case (the seed's
   ``parse ... TenantID`` next to AuditLogs' ``TenantId``): Kusto keeps them apart,
   DuckDB folds case and duckdb-kql refuses. Such identifiers (never property
   accesses like ``x.id``) are renamed to a unique alias, and `Adapted.restore`
   gives result columns and messages their original names back.

`render` is accepted and ignored by duckdb-kql; `render_of` reads it from the tokens
so results can carry the visualization, as the Log Analytics API does with
``include-render``.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from duckdb_kql._antlr.KqlLexer import KqlLexer
from duckdb_kql.errors import KqlSchemaError, KqlUnsupportedError
from duckdb_kql.translate import functions as kql_functions

from bot.workspace import kql_aggregates
from bot.workspace.kql_rewrites import rewrite_all
from bot.workspace.kql_tokens import Token as _Token
from bot.workspace.kql_tokens import segments, skip_hidden, statement_end, synthetic
from bot.workspace.kql_tokens import tokenize as _tokenize

_DYNAMIC_FROM_TEXT: Final = (
    "coalesce(TRY_CAST({0} AS JSON), "
    "CASE WHEN {0} IS NOT NULL THEN to_json(CAST({0} AS VARCHAR)) END)"
)
_OPTION_NAMES: Final = frozenset({"kind", "flags"})
_ALIAS_SUFFIX: Final = "__casealias"
_CONSTRUCT_KINDS: Final = {"function": "function", "aggregate": "aggregation"}
#: duckdb-kql's names for constructs that have no single word in the query.
_CONSTRUCT_WORDS: Final = {
    "expression:LetFunctionBody": "a `let` function with a tabular body",
    "source:ExternalDataExpression": "`externaldata`",
    "source:ParenthesizedExpression": "a parenthesised tabular source",
}
#: Operators after a `project-reorder` that keep its order when it is applied last:
#: they only filter, sort, add columns at the end or drop columns.
_PATTERN_TOKENS: Final = frozenset({KqlLexer.IDENTIFIER, KqlLexer.ASTERISK})
_ORDER_KEEPING: Final = frozenset(
    {
        KqlLexer.WHERE,
        KqlLexer.EXTEND,
        KqlLexer.PROJECTAWAY,
        KqlLexer.TAKE,
        KqlLexer.LIMIT,
        KqlLexer.SORT,
        KqlLexer.ORDER,
        KqlLexer.TOP,
        KqlLexer.RENDER,
    }
)


def install_function_overrides() -> None:
    """Make parse_json/todynamic keep non-JSON strings, as Kusto does, and add the
    aggregates published rules use (see kql_aggregates). Idempotent."""
    kql_aggregates.install()
    for name in ("parse_json", "todynamic"):
        current = kql_functions.SCALAR_FUNCTIONS[name]
        kql_functions.SCALAR_FUNCTIONS[name] = kql_functions.FunctionSpec(
            current.name,
            current.kind,
            _DYNAMIC_FROM_TEXT,
            current.arities,
            current.rules,
            "non-JSON text becomes a dynamic string (Kusto semantics)",
        )


@dataclass(frozen=True, slots=True)
class Adapted:
    """The rewritten query, the identifier aliases it introduced, and the column order
    (`project-reorder` patterns) to apply to its result."""

    kql: str
    aliases: dict[str, str]
    reorder: tuple[str, ...] = ()

    def finish(
        self, described: list[tuple[str, Any]], rows: list[tuple[Any, ...]]
    ) -> tuple[list[tuple[str, Any]], list[tuple[Any, ...]]]:
        """A result's (name, type) columns and rows with the `project-reorder` the engine
        could not apply."""
        if not self.reorder:
            return described, rows
        columns = [name for name, _ in described]
        first: list[str] = []
        for pattern in self.reorder:
            first += [c for c in columns if fnmatch.fnmatchcase(c, pattern) and c not in first]
        ordered = first + [c for c in columns if c not in first]
        positions = [columns.index(name) for name in ordered]
        return [described[p] for p in positions], [tuple(row[p] for p in positions) for row in rows]

    def restore(self, text: str) -> str:
        """Put original identifiers back into a column name or an error message."""
        for alias, original in self.aliases.items():
            text = text.replace(alias, original)
        return text


def adapt(kql: str, *, columns: Iterable[str] = ()) -> Adapted:
    """Rewrite `kql` into the equivalent query that duckdb-kql runs like Kusto does.

    `columns` are the column names of the tables in scope, for the case check.
    """
    tokens = rewrite_all(_tokenize(kql))
    tokens, reorder = _deferred_reorder(tokens)
    tokens = _drop_path_step_dots(tokens)
    tokens = _stringify_parse_sources(tokens)
    tokens, aliases = _alias_case_collisions(tokens, frozenset(columns))
    return Adapted("".join(token.text for token in tokens), aliases, reorder)


def unsupported_message(
    adapted: Adapted, error: KqlUnsupportedError, line: int | None, column: int | None
) -> str:
    """What the embedded engine cannot run, in the query's own words.

    duckdb-kql names constructs after its parser's classes ('MvapplyOperator') or
    by kind ('function:extractjson', 'aggregate:make_bag'); its hint quotes the
    query with the spaces stripped. The admin wrote KQL, so the message quotes the
    word at the reported position instead, or the name after the kind.
    """
    construct, hint = error.construct, error.hint or ""
    kind, _, name = construct.partition(":")
    if construct in _CONSTRUCT_WORDS:
        what = _CONSTRUCT_WORDS[construct]
    elif kind == "let function":
        what = f"the tabular `let` function {name}()"
    elif name and kind in _CONSTRUCT_KINDS:
        what = f"the {_CONSTRUCT_KINDS[kind]} {name}()"
    elif " " in construct:  # already a description: "mv-expand of an unnamed ..."
        what = f"`{construct.split(' ')[0]}` {construct.split(' ', 1)[1]}"
    else:
        what = f"`{_word_at(adapted.kql, line, column) or construct}`"
    gap = not hint or "in this wave" in hint or "not implemented" in hint
    why = "; Log Analytics runs it" if gap else f" ({hint})"
    return adapted.restore(f"the embedded engine cannot run {what}{why}")


def schema_message(error: KqlSchemaError) -> str:
    """An unknown table in Kusto's words, without the engine's internal table list."""
    if (error.hint or "").startswith("unknown table"):
        return f"Failed to resolve table expression named '{error.name}'"
    return str(error)


def _word_at(kql: str, line: int | None, column: int | None) -> str | None:
    if line is None or column is None:
        return None
    lines = kql.splitlines()
    if not 0 < line <= len(lines):
        return None
    match = re.match(r"[\w-]+", lines[line - 1][column - 1 :])
    return match[0] if match else None


def render_of(kql: str) -> dict[str, Any] | None:
    """The `render` visualization of a query, e.g. {"visualization": "timechart"}."""
    tokens = [t for t in _tokenize(kql) if not t.hidden]
    for index, token in enumerate(tokens[:-1]):
        if token.type == KqlLexer.RENDER and index > 0 and tokens[index - 1].type == KqlLexer.BAR:
            return {"visualization": tokens[index + 1].text}
    return None


def _deferred_reorder(tokens: list[_Token]) -> tuple[list[_Token], tuple[str, ...]]:
    """Drop a last-statement `| project-reorder a, b*` that only order-keeping
    operators follow, and return its patterns to apply to the result instead."""
    start = _last_statement(tokens)
    spans = segments(tokens, start, statement_end(tokens, start))
    for index, (first, end) in enumerate(spans[1:], start=1):
        head = skip_hidden(tokens, first)
        if head >= end or tokens[head].type != KqlLexer.PROJECTREORDER:
            continue
        patterns = _reorder_patterns(tokens[head + 1 : end])
        later = [tokens[skip_hidden(tokens, a)].type for a, _ in spans[index + 1 :]]
        if patterns is None or any(kind not in _ORDER_KEEPING for kind in later):
            return tokens, ()
        bar = first - 1
        kept = [*tokens[:bar], *tokens[end:]]
        return kept, patterns
    return tokens, ()


def _reorder_patterns(tokens: list[_Token]) -> tuple[str, ...] | None:
    """`a, b*` as ("a", "b*"); None for orders (asc, desc, granny-*) we do not apply."""
    patterns: list[str] = []
    for first, end in _comma_groups(tokens):
        words = [t for t in tokens[first:end] if not t.hidden]
        kinds = [t.type for t in words]
        names_adjacent = any(a == b == KqlLexer.IDENTIFIER for a, b in itertools.pairwise(kinds))
        if not words or names_adjacent or not set(kinds) <= _PATTERN_TOKENS:
            return None
        patterns.append("".join(t.text for t in words))
    return tuple(patterns) or None


def _comma_groups(tokens: list[_Token]) -> list[tuple[int, int]]:
    commas = [i for i, t in enumerate(tokens) if t.type == KqlLexer.COMMA]
    return list(zip([0, *(c + 1 for c in commas)], [*commas, len(tokens)], strict=True))


def _last_statement(tokens: list[_Token]) -> int:
    depth = 0
    start = 0
    for position, token in enumerate(tokens):
        if token.type in (KqlLexer.OPENPAREN, KqlLexer.OPENBRACKET, KqlLexer.OPENBRACE):
            depth += 1
        elif token.type in (KqlLexer.CLOSEPAREN, KqlLexer.CLOSEBRACKET, KqlLexer.CLOSEBRACE):
            depth -= 1
        elif token.type == KqlLexer.SEMICOLON and depth == 0:
            start = position + 1
    return start


def _drop_path_step_dots(tokens: list[_Token]) -> list[_Token]:
    kept: list[_Token] = []
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        is_path_step = (
            token.type == KqlLexer.DOT
            and following is not None
            and following.type == KqlLexer.OPENBRACKET
            and bool(kept)
            and not kept[-1].hidden
        )
        if not is_path_step:
            kept.append(token)
    return kept


def _stringify_parse_sources(tokens: list[_Token]) -> list[_Token]:
    result = list(tokens)
    index = 0
    while index < len(result):
        if result[index].type in (KqlLexer.PARSE, KqlLexer.PARSEWHERE):
            span = _parse_source_span(result, index + 1)
            if span is not None:
                start, end = span
                result[start:end] = [
                    synthetic(KqlLexer.IDENTIFIER, "tostring("),
                    *result[start:end],
                    synthetic(KqlLexer.CLOSEPAREN, ")"),
                ]
        index += 1
    return result


def _alias_case_collisions(
    tokens: list[_Token], columns: frozenset[str]
) -> tuple[list[_Token], dict[str, str]]:
    by_folded = {name.casefold(): name for name in columns}
    aliases: dict[str, str] = {}
    result: list[_Token] = []
    previous: _Token | None = None
    for token in tokens:
        name = token.text
        column = by_folded.get(name.casefold()) if token.type == KqlLexer.IDENTIFIER else None
        is_property = previous is not None and previous.type == KqlLexer.DOT
        if column is not None and column != name and not is_property:
            alias = f"{name}{_ALIAS_SUFFIX}"
            aliases[alias] = name
            token = _Token(token.type, alias, token.hidden)
        result.append(token)
        if not token.hidden:
            previous = token
    return result, aliases


def _parse_source_span(tokens: list[_Token], start: int) -> tuple[int, int] | None:
    """[first, last) token positions of the source expression after `parse`."""
    position = skip_hidden(tokens, start)
    while _is_option(tokens, position):
        position = skip_hidden(tokens, position + 1)  # option name
        position = skip_hidden(tokens, position + 1)  # '='
        position = skip_hidden(tokens, position + 1)  # value
    first = position
    depth = 0
    last_visible = None
    while position < len(tokens):
        token = tokens[position]
        if token.type in (KqlLexer.OPENPAREN, KqlLexer.OPENBRACKET):
            depth += 1
        elif token.type in (KqlLexer.CLOSEPAREN, KqlLexer.CLOSEBRACKET):
            depth -= 1
        elif token.type == KqlLexer.WITH and depth == 0:
            break
        if not token.hidden:
            last_visible = position
        position += 1
    if last_visible is None or position >= len(tokens):
        return None
    if tokens[first].text.lower() == "tostring":
        return None
    return first, last_visible + 1


def _is_option(tokens: list[_Token], position: int) -> bool:
    if position >= len(tokens) or tokens[position].text.lower() not in _OPTION_NAMES:
        return False
    following = skip_hidden(tokens, position + 1)
    return following < len(tokens) and tokens[following].type == KqlLexer.EQUAL
