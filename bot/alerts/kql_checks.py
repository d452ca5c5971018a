"""Check a rule's KQL: syntax, parameter declarations, unknown columns, output columns.

Syntax is checked on the bound query (what the workspace will run) and every
position is mapped back into the rule's own query text. Unknown columns are found
from the lexer's identifiers: an identifier that is not a column of the tables the
query reads, not a name the query defines (`X = ...`, `parse ... with`), not a
function call and not a parameter is a warning, with a suggestion when a known
column differs only in case or by a typo. Output columns are learnt by running the
query on empty tables (the `probe`), when one is given.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

import duckdb_kql

from bot.alerts.binding import BindingError, BoundQuery, bind, declaration_span, significant_tokens
from bot.alerts.diagnostics import Finding, error, warning
from bot.alerts.rule_model import Rule
from bot.errors import QueryError, UnsupportedQueryError
from bot.workspace.schema import TABLES

#: Runs KQL on empty tables and returns its output columns as (name, type).
OutputProbe = Callable[[str], Sequence[tuple[str, str]]]

NUMERIC_TYPES: Final = frozenset({"long", "int", "real", "decimal", "bool"})
#: Columns `summarize` names by itself: count_, sum_DurationMs, ...
_IMPLICIT: Final = re.compile(
    r"^(count|dcount|sum|avg|min|max|any|countif|sumif|avgif|arg_max|arg_min|make_list|make_set"
    r"|percentile\w*|stdev|variance)_"
)
_MAX_EXPECTED: Final = 6
#: Which declared KQL types each parameter type may be declared as.
_DECLARABLE: Final = {
    "string": {"string"},
    "guid": {"string", "guid"},
    "string_list": {"dynamic"},
    "guid_list": {"dynamic"},
    "int": {"int", "long"},
    "timespan": {"timespan"},
}


def query_findings(rule: Rule, *, probe: OutputProbe | None = None) -> list[Finding]:
    """Every problem with the rule's query; syntax errors stop the later checks."""
    try:
        bound = bind(rule.query, rule.parameters)
    except BindingError as problem:
        return [Finding(("parameters", problem.parameter or ""), str(problem), at_key=True)]
    syntax = _syntax(bound)
    if syntax:
        return syntax
    tokens = significant_tokens(bound.text)
    return [
        *_declarations(rule),
        *_unused_parameters(rule, tokens, bound),
        *_unknown_columns(rule, tokens, bound),
        *(_output(rule, bound, probe) if probe else []),
    ]


def _syntax(bound: BoundQuery) -> list[Finding]:
    diagnostics = duckdb_kql.validate(bound.text)
    if not diagnostics:
        return []
    first = diagnostics[0]
    message = f"KQL syntax: {_short(first.message)}"
    return [_at_query(bound, first.span.line, first.span.column + 1, message, "error")]


def _short(message: str) -> str:
    """ANTLR lists every token it would accept; past a handful that is noise."""
    match = re.match(r"(?P<head>.*?) expecting \{(?P<options>.*)\}$", message, re.DOTALL)
    if match is None or match["options"].count(",") < _MAX_EXPECTED:
        return message
    return match["head"]


def _at_query(bound: BoundQuery, line: int, column: int, message: str, level: str) -> Finding:
    where = bound.source_position(line, column)
    if where is None:  # inside the `let` line we generated: a parameter's fault
        return Finding(("parameters",), message, "error" if level == "error" else "warning")
    return Finding(("query",), message, "error" if level == "error" else "warning", *where)


def _declarations(rule: Rule) -> list[Finding]:
    span = declaration_span(rule.query)
    if span is None:
        return []
    line, column = _line_column(rule.query, span[0])
    try:
        declared = duckdb_kql.query_parameters(rule.query)
    except duckdb_kql.KqlError as problem:
        return [error(("query",), f"declare query_parameters: {problem}", line=line, column=column)]
    found = []
    for declaration in declared:
        parameter = rule.parameters.get(declaration.name)
        if parameter is None:
            message = f"declared parameter {declaration.name!r} has no value under `parameters`"
        elif declaration.type not in _DECLARABLE[parameter.type]:
            allowed = " or ".join(sorted(_DECLARABLE[parameter.type]))
            message = (
                f"parameter {declaration.name!r} is declared {declaration.type} but is a "
                f"{parameter.type} (declare it as {allowed})"
            )
        else:
            continue
        found.append(error(("query",), message, line=line, column=column))
    return found


def _unused_parameters(
    rule: Rule, tokens: list[tuple[str, Any]], bound: BoundQuery
) -> list[Finding]:
    used = {token.text for kind, token in _body(tokens, bound) if kind == "IDENTIFIER"}
    return [
        Finding(("parameters", name), f"parameter {name!r} is unused", "warning", at_key=True)
        for name in rule.parameters
        if name not in used
    ]


def _unknown_columns(rule: Rule, tokens: list[tuple[str, Any]], bound: BoundQuery) -> list[Finding]:
    body = _body(tokens, bound)
    tables = [token.text for kind, token in body if kind == "IDENTIFIER" and token.text in TABLES]
    if not tables:
        message = f"the query reads none of the known tables ({', '.join(TABLES)})"
        return [warning(("query",), f"{message}; its columns are not checked")]
    known = {name for table in tables for name in TABLES[table]} | set(TABLES)
    known |= _defined_names(tokens) | set(rule.parameters)
    findings: list[Finding] = []
    reported: set[str] = set()
    for name, token in _column_references(tokens, bound):
        if name in known or name in reported or _IMPLICIT.match(name):
            continue
        reported.add(name)
        message = f"unknown column {name!r}{_suggestion(name, known)}"
        findings.append(_at_query(bound, token.line, token.column + 1, message, "warning"))
    return findings


def _body(tokens: list[tuple[str, Any]], bound: BoundQuery) -> list[tuple[str, Any]]:
    return [(kind, token) for kind, token in tokens if token.line > bound.prefix_lines]


def _defined_names(tokens: list[tuple[str, Any]]) -> set[str]:
    """Names the query gives to columns or values: `X = ...` and `parse ... with ... X`."""
    defined: set[str] = set()
    in_parse_pattern = False
    for index, (kind, token) in enumerate(tokens):
        following = tokens[index + 1][0] if index + 1 < len(tokens) else ""
        if kind == "PARSE":
            in_parse_pattern = False
        elif kind == "WITH":
            in_parse_pattern = any(k == "PARSE" for k, _ in tokens[max(0, index - 30) : index])
        elif kind == "BAR":
            in_parse_pattern = False
        if kind == "IDENTIFIER" and (following == "EQUAL" or in_parse_pattern):
            defined.add(token.text)
    return defined


def _column_references(
    tokens: list[tuple[str, Any]], bound: BoundQuery
) -> Iterator[tuple[str, Any]]:
    """Identifiers that name a column: not after a dot, not a function call."""
    for index, (kind, token) in enumerate(tokens):
        if kind != "IDENTIFIER" or token.line <= bound.prefix_lines:
            continue
        before = tokens[index - 1][0] if index else ""
        after = tokens[index + 1][0] if index + 1 < len(tokens) else ""
        if before != "DOT" and after != "OPENPAREN":
            yield token.text, token


def _suggestion(name: str, known: set[str]) -> str:
    by_case = [k for k in known if k.lower() == name.lower()]
    close = by_case or difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
    return f"; did you mean {close[0]!r}?" if close else ""


def _output(rule: Rule, bound: BoundQuery, probe: OutputProbe) -> list[Finding]:
    try:
        columns = dict(probe(bound.text))
    except UnsupportedQueryError as problem:
        return [_engine_finding(bound, problem, "the embedded engine cannot run this query")]
    except QueryError as problem:
        return [_engine_finding(bound, problem, "the embedded engine rejects this query")]
    output = f"the query's output ({', '.join(columns)})"
    found = [
        error(("dimensions", index), f"dimension {name!r} is not a column of {output}")
        for index, name in enumerate(rule.dimensions)
        if name not in columns
    ]
    column = rule.measure.column
    if column is not None and column not in columns:
        found.append(error(("measure", "column"), f"measure column {column!r} is not in {output}"))
    elif column is not None and columns[column] not in NUMERIC_TYPES:
        message = f"measure column {column!r} is {columns[column]}, not a number"
        found.append(error(("measure", "column"), message))
    return found + _notice_columns(rule, columns, output)


def _notice_columns(rule: Rule, columns: dict[str, str], output: str) -> list[Finding]:
    """A notify_person rule's named columns must be in the query's output."""
    spec = rule.notify_person
    if spec is None:
        return []
    fields = spec.model_dump()
    return [
        error(("notify_person", key), f"notify_person {key} {name!r} is not a column of {output}")
        for key, name in fields.items()
        if key.endswith("_column") and name is not None and name not in columns
    ]


def _engine_finding(bound: BoundQuery, problem: QueryError, what: str) -> Finding:
    message = f"{what} (the demo workspace cannot evaluate it): {problem.message}"
    if problem.line is not None and problem.column is not None:
        return _at_query(bound, problem.line, problem.column, message, "warning")
    return warning(("query",), message)


def _line_column(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1
