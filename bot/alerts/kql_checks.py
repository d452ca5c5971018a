"""Check a rule's KQL: syntax, parameter declarations, unknown columns, output columns.

Syntax is checked on the bound query (what the workspace will run) and every
position is mapped back into the rule's own query text. Unknown columns are found
from the lexer's identifiers: an identifier that is not a column of the tables the
query reads, not a name the query defines (see kql_names), not a function call,
not a parameter and not listed under the rule's `custom_columns` is an error, with
a suggestion when a known column differs only in case or by a typo; so is a table
that is neither known (bot.workspace.schema.KNOWN_TABLES) nor in `custom_tables`.
Output columns are learnt by running the query on empty tables (the `probe`), when
one is given.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from typing import Any, Final

import duckdb_kql

from bot.alerts.binding import (
    MAX_NESTING,
    BindingError,
    BoundQuery,
    bind,
    declaration_span,
    significant_tokens,
    too_deep,
)
from bot.alerts.diagnostics import Finding, error, warning
from bot.alerts.kql_names import column_references, defined_names, is_known, table_references
from bot.alerts.rule_model import Rule
from bot.errors import QueryError, UnsupportedQueryError
from bot.workspace import kql_compat, kql_syntax
from bot.workspace.schema import KNOWN_TABLES

#: Runs KQL on empty tables and returns its output columns as (name, type).
OutputProbe = Callable[[str], Sequence[tuple[str, str]]]

NUMERIC_TYPES: Final = frozenset({"long", "int", "real", "decimal", "bool"})
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


def query_findings(
    rule: Rule, *, probe: OutputProbe | None = None, engine_gaps_are_errors: bool = False
) -> list[Finding]:
    """Every problem with the rule's query; syntax errors stop the later checks.

    `engine_gaps_are_errors`: the bot queries the embedded engine (the demo
    workspace), so a query it cannot run would fail at every evaluation. Against
    Log Analytics such a query is fine and only a warning says the demo cannot run it.
    """
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
        *_unknown_names(rule, tokens, bound),
        *(_output(rule, bound, probe, engine_gaps_are_errors) if probe else []),
    ]


def syntax_findings(query: str) -> list[Finding]:
    """The query's syntax errors alone, for a rule whose other keys are invalid."""
    if too_deep(query) is not None:
        return [error(("query",), f"KQL syntax: brackets nested more than {MAX_NESTING} deep")]
    try:
        diagnostics = kql_syntax.diagnostics(query)
    except RecursionError:
        return [error(("query",), "KQL syntax: the query nests too deeply to be read")]
    if not diagnostics:
        return []
    first = diagnostics[0]
    message = f"KQL syntax: {_short(first.message)}"
    return [error(("query",), message, line=first.span.line, column=first.span.column + 1)]


def _syntax(bound: BoundQuery) -> list[Finding]:
    deep = too_deep(bound.text)
    if deep is not None:
        message = f"KQL syntax: brackets nested more than {MAX_NESTING} deep"
        return [_at_query(bound, *deep, message, "error")]
    try:
        diagnostics = kql_syntax.diagnostics(bound.text)
        if not diagnostics or not kql_syntax.diagnostics(kql_compat.adapt(bound.text).kql):
            return []  # valid KQL that only duckdb-kql's grammar lacks (a bare `serialize`)
    except RecursionError:  # nesting of another kind than brackets
        return [error(("query",), "KQL syntax: the query nests too deeply to be read")]
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


def _unknown_names(rule: Rule, tokens: list[tuple[str, Any]], bound: BoundQuery) -> list[Finding]:
    """Unknown tables, then (for queries over known tables) unknown columns: errors,
    unless the rule lists them under `custom_tables` / `custom_columns`."""
    first_line = bound.prefix_lines + 1
    defined = defined_names(tokens) | set(rule.parameters)
    findings: list[Finding] = []
    tables: list[str] = []
    for name, token in table_references(tokens, first_line):
        if name in KNOWN_TABLES:
            tables.append(name)
        elif name not in defined and name not in rule.custom_tables:
            message = (
                f"unknown table {name!r}{_suggestion(name, set(KNOWN_TABLES))} "
                "(a custom table? list it under `custom_tables`)"
            )
            findings.append(_at_query(bound, token.line, token.column + 1, message, "error"))
    if findings or not tables:
        return findings
    known = {name for table in tables for name in KNOWN_TABLES[table]} | set(KNOWN_TABLES)
    known |= defined | set(rule.custom_tables) | set(rule.custom_columns)
    reported: set[str] = set()
    for name, token in column_references(tokens, first_line):
        if is_known(name, known) or name in reported:
            continue
        reported.add(name)
        message = f"unknown column {name!r} in {', '.join(dict.fromkeys(tables))}"
        suggestion = _suggestion(name, known)
        message += suggestion or " (a custom column? list it under `custom_columns`)"
        findings.append(_at_query(bound, token.line, token.column + 1, message, "error"))
    return findings


def _body(tokens: list[tuple[str, Any]], bound: BoundQuery) -> list[tuple[str, Any]]:
    return [(kind, token) for kind, token in tokens if token.line > bound.prefix_lines]


def _suggestion(name: str, known: set[str]) -> str:
    by_case = [k for k in known if k.lower() == name.lower()]
    close = by_case or difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
    return f"; did you mean {close[0]!r}?" if close else ""


def _output(
    rule: Rule, bound: BoundQuery, probe: OutputProbe, gaps_are_errors: bool
) -> list[Finding]:
    level = "error" if gaps_are_errors else "warning"
    try:
        columns = dict(probe(bound.text))
    except UnsupportedQueryError as problem:
        where = (
            ", but these rules run on the demo workspace"
            if gaps_are_errors
            else " (the demo workspace cannot evaluate this rule)"
        )
        return [_engine_finding(bound, problem, f"{problem.message}{where}", level)]
    except QueryError as problem:
        message = f"the embedded engine rejects this query: {problem.message}"
        return [_engine_finding(bound, problem, message, level)]
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


def _engine_finding(bound: BoundQuery, problem: QueryError, message: str, level: str) -> Finding:
    if problem.line is not None and problem.column is not None:
        return _at_query(bound, problem.line, problem.column, message, level)
    return (error if level == "error" else warning)(("query",), message)


def _line_column(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1
