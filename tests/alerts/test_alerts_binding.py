"""Parameter binding: every value becomes one literal token, whatever it contains."""

from __future__ import annotations

import json
from datetime import timedelta

import duckdb
import duckdb_kql
import pytest
from pydantic import ValidationError

from bot.alerts.binding import BindingError, bind, significant_tokens
from bot.alerts.rule_model import Parameter

HOSTILE = [
    'x" | project secret //',
    'a\\" or 1 == 1 //',
    "line one\nline two | take 1",
    "ends with a backslash \\",
    "\\\\server\\share\\",
    "'; AuditLogs | take 10; //",
    "' | where true //",
    '@"verbatim"" and more',
    "tab\tand\r\ncarriage | union AuditLogs",
    "/* not a comment */ // nor this",
    "unicode ✓ \u2028 \u00a0 done",
    "",
]


def kinds(kql: str) -> list[str]:
    return [kind for kind, _ in significant_tokens(kql)]


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb_kql.connect()


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_string_stays_one_literal(value: str, con: duckdb.DuckDBPyConnection) -> None:
    parameters = {"name": Parameter(type="string", value=value)}
    bound = bind('print v = name | where v != "zz"', parameters)
    harmless = bind(
        'print v = name | where v != "zz"', {"name": Parameter(type="string", value="x")}
    )

    assert duckdb_kql.parse(bound.text).ok
    assert kinds(bound.text.split("\n")[0]) == [
        "LET",
        "IDENTIFIER",
        "EQUAL",
        "STRINGLITERAL",
        "SEMICOLON",
    ]
    assert kinds(bound.text) == kinds(harmless.text)
    assert duckdb_kql.kql(con, bound.text).fetchall() == [(value,)]


@pytest.mark.parametrize("value", [HOSTILE[:4], HOSTILE[4:8], HOSTILE[8:]])
def test_a_hostile_list_stays_one_dynamic_array_of_literals(
    value: list[str], con: duckdb.DuckDBPyConnection
) -> None:
    bound = bind("print v = names", {"names": Parameter(type="string_list", value=value)})

    first_line = kinds(bound.text.split("\n")[0])
    assert first_line[:6] == ["LET", "IDENTIFIER", "EQUAL", "DYNAMIC", "OPENPAREN", "OPENBRACKET"]
    assert first_line[6:-3] == ["STRINGLITERAL", "COMMA"] * (len(value) - 1) + ["STRINGLITERAL"]
    assert first_line[-3:] == ["CLOSEBRACKET", "CLOSEPAREN", "SEMICOLON"]
    ((result,),) = duckdb_kql.kql(con, bound.text).fetchall()
    assert json.loads(result) == value


@pytest.mark.parametrize(
    ("kind", "value", "literal", "token"),
    [
        ("int", 42, "long(42)", "LONGLITERAL"),
        ("int", -7, "long(-7)", "LONGLITERAL"),
        ("timespan", "90m", "90m", "TIMESPANLITERAL"),
        ("timespan", "P1D", "1d", "TIMESPANLITERAL"),
        ("timespan", "1500ms", "1500ms", "TIMESPANLITERAL"),
        (
            "guid",
            "C75B3989-02BC-4506-8CBB-8B68CC0F419A",
            '"c75b3989-02bc-4506-8cbb-8b68cc0f419a"',
            "STRINGLITERAL",
        ),
    ],
)
def test_typed_values_bind_as_their_literal(
    kind: str, value: object, literal: str, token: str
) -> None:
    bound = bind("print v = p", {"p": Parameter.model_validate({"type": kind, "value": value})})
    assert bound.text.split("\n")[0] == f"let p = {literal};"
    assert kinds(bound.text.split("\n")[0])[3] == token


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("guid", "not-a-guid", "not a GUID"),
        ("guid_list", ["c75b3989-02bc-4506-8cbb-8b68cc0f419a", "x | take 1"], "not a GUID"),
        ("int", True, "whole number"),
        ("int", "5", "whole number"),
        ("int", 2**63, "whole number"),
        ("timespan", "soon", "not a time span"),
        ("string", 5, "quote it in YAML"),
        ("string", "nul\x00byte", "control characters"),
        ("string_list", [], "non-empty list"),
        ("string_list", "a", "non-empty list"),
    ],
)
def test_values_that_are_not_of_their_type_are_refused(
    kind: str, value: object, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Parameter.model_validate({"type": kind, "value": value})


@pytest.mark.parametrize("name", ["where", "let", "and", "project"])
def test_a_parameter_named_like_a_keyword_is_refused(name: str) -> None:
    with pytest.raises(BindingError, match="KQL keyword") as raised:
        bind("print 1", {name: Parameter(type="int", value=1)})
    assert raised.value.parameter == name


def test_a_declare_statement_is_replaced_in_place_keeping_positions() -> None:
    query = (
        "declare query_parameters(\n  jobs:dynamic, most:long);\nT | where J in (jobs) | take most"
    )
    bound = bind(
        query,
        {
            "jobs": Parameter(type="string_list", value=["a"]),
            "most": Parameter(type="int", value=3),
        },
    )
    lines = bound.text.split("\n")
    assert lines[0] == 'let jobs = dynamic(["a"]); let most = long(3);'
    assert lines[1].strip() == lines[2].strip() == ""
    assert lines[3] == "T | where J in (jobs) | take most"
    assert bound.source_position(4, 5) == (3, 5)
    assert bound.source_position(1, 5) is None
    assert duckdb_kql.parse(bound.text).ok


def test_without_parameters_the_query_is_unchanged() -> None:
    bound = bind("AuditLogs | take 1", {})
    assert bound.text == "AuditLogs | take 1"
    assert bound.source_position(1, 3) == (1, 3)


def test_durations_parse_like_the_rest_of_the_bot() -> None:
    parameter = Parameter.model_validate({"type": "timespan", "value": "PT8H"})
    assert parameter.value == timedelta(hours=8)
