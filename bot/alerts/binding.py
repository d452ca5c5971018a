"""Bind a rule's parameters into its KQL as literals, so no value can change the query.

Log Analytics has no server-side parameter binding, so the same bound text must
work on both workspaces: each parameter becomes a `let name = <literal>;` on one
line put before the query. A `declare query_parameters(...)` statement in the
query (how Kusto itself declares them) is blanked out in place, keeping every
other character at its line and column, so positions map straight back to the
rule file. Every literal is re-lexed after rendering and must come out as the
expected tokens: a value can never become an operator, a comment or a new statement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from antlr4 import InputStream, Token
from duckdb_kql._antlr.KqlLexer import KqlLexer

from bot.alerts.rule_model import Parameter, Rule, format_duration

_ESCAPES: Final = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_LIST_SHAPE: Final = ("DYNAMIC", "OPENPAREN", "OPENBRACKET")


class BindingError(ValueError):
    """A parameter could not be bound safely; `parameter` names it when known."""

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        self.parameter = parameter
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class BoundQuery:
    """The query as sent to the workspace, and how its lines map back to the rule's."""

    text: str
    #: Lines put before the rule's own query text (the `let` line), 0 or 1.
    prefix_lines: int

    def source_position(self, line: int, column: int) -> tuple[int, int] | None:
        """(line, column) in the rule's query for one in the bound text; None in the prefix."""
        if line <= self.prefix_lines:
            return None
        return (line - self.prefix_lines, column)


def bind(query: str, parameters: Mapping[str, Parameter]) -> BoundQuery:
    """The query with every parameter bound; raises BindingError if one cannot be."""
    body = blank_declaration(query)
    if not parameters:
        return BoundQuery(text=body, prefix_lines=0)
    lets = " ".join(let_statement(name, parameters[name]) for name in sorted(parameters))
    return BoundQuery(text=f"{lets}\n{body}", prefix_lines=1)


def bound_query(rule: Rule) -> str:
    """The KQL as the workspace runs it (parameters bound), else the rule's own text."""
    try:
        return bind(rule.query, rule.parameters).text
    except BindingError:
        return rule.query


def let_statement(name: str, parameter: Parameter) -> str:
    """`let name = <literal>;`, checked to lex as exactly that."""
    try:
        statement = f"let {name} = {kql_literal(parameter)};"
    except BindingError as error:
        raise BindingError(f"parameter {name!r}: {error}", parameter=name) from None
    kinds = [kind for kind, _ in significant_tokens(statement)]
    if kinds[:3] != ["LET", "IDENTIFIER", "EQUAL"]:
        message = f"parameter name {name!r} is a KQL keyword; choose another name"
        raise BindingError(message, parameter=name)
    if kinds[3:] != [*_expected_literal_tokens(parameter), "SEMICOLON"]:
        message = f"parameter {name!r}: its value did not bind as a single literal"
        raise BindingError(message, parameter=name)
    return statement


def kql_literal(parameter: Parameter) -> str:
    """The value as a KQL literal of the parameter's type."""
    value = parameter.value
    if parameter.type in ("string", "guid") and isinstance(value, str):
        return string_literal(value)
    if parameter.type in ("string_list", "guid_list") and isinstance(value, tuple):
        return "dynamic([" + ", ".join(string_literal(item) for item in value) + "])"
    if parameter.type == "int" and isinstance(value, int):
        return f"long({value})"
    if parameter.type == "timespan" and isinstance(value, timedelta):
        return format_duration(value)
    raise BindingError(f"a {parameter.type} parameter cannot hold {value!r}")


def string_literal(text: str) -> str:
    """A double-quoted KQL string: backslash, quote and line breaks escaped."""
    if any(ord(char) < 32 and char not in _ESCAPES for char in text):
        raise BindingError("a string parameter may not contain control characters")
    return '"' + "".join(_ESCAPES.get(char, char) for char in text) + '"'


def _expected_literal_tokens(parameter: Parameter) -> list[str]:
    if parameter.type in ("string", "guid"):
        return ["STRINGLITERAL"]
    if parameter.type == "int":
        return ["LONGLITERAL"]
    if parameter.type == "timespan":
        return ["TIMESPANLITERAL"]
    items = parameter.value if isinstance(parameter.value, tuple) else ()
    strings = ["STRINGLITERAL", "COMMA"] * len(items)
    return [*_LIST_SHAPE, *strings[:-1], "CLOSEBRACKET", "CLOSEPAREN"]


def significant_tokens(kql: str) -> list[tuple[str, Any]]:
    """(kind, token) for every token on the default channel (no spaces or comments)."""
    lexer = KqlLexer(InputStream(kql))
    lexer.removeErrorListeners()
    names: Sequence[str] = lexer.symbolicNames
    return [
        (names[token.type] if 0 < token.type < len(names) else "ERROR", token)
        for token in lexer.getAllTokens()
        if token.channel == Token.DEFAULT_CHANNEL
    ]


#: Brackets nested deeper than this are no alert query; the recursive KQL parser would
#: take seconds over them and then overflow the stack.
MAX_NESTING: Final = 32
_OPENING: Final = frozenset({"OPENPAREN", "OPENBRACKET", "OPENBRACE"})
_CLOSING: Final = frozenset({"CLOSEPAREN", "CLOSEBRACKET", "CLOSEBRACE"})


def too_deep(kql: str) -> tuple[int, int] | None:
    """(line, column) (1-based) of the first bracket nested deeper than MAX_NESTING, if any.

    Read from the lexer's tokens (linear time), to be checked before the query is parsed."""
    depth = 0
    for kind, token in significant_tokens(kql):
        if kind in _OPENING:
            depth += 1
            if depth > MAX_NESTING:
                return token.line, token.column + 1
        elif kind in _CLOSING:
            depth = max(depth - 1, 0)
    return None


def declaration_span(query: str) -> tuple[int, int] | None:
    """[start, end) character offsets of a `declare query_parameters(...);` statement."""
    tokens = significant_tokens(query)
    for index, (kind, token) in enumerate(tokens[:-1]):
        if kind == "DECLARE" and tokens[index + 1][0] == "QUERYPARAMETERS":
            end = _statement_end(tokens, index)
            return (token.start, end)
    return None


def blank_declaration(query: str) -> str:
    """The query with its parameter declaration replaced by spaces (newlines kept)."""
    span = declaration_span(query)
    if span is None:
        return query
    start, end = span
    blanked = "".join("\n" if char == "\n" else " " for char in query[start:end])
    return query[:start] + blanked + query[end:]


def _statement_end(tokens: list[tuple[str, Any]], start: int) -> int:
    depth = 0
    for kind, token in tokens[start:]:
        depth += {"OPENPAREN": 1, "CLOSEPAREN": -1}.get(kind, 0)
        if kind == "SEMICOLON" and depth == 0:
            return int(token.stop) + 1
    return int(tokens[-1][1].stop) + 1
