"""User text never changes a query's structure: bound values are literals, nothing else moves.

The property test feeds arbitrary text (quotes, backslashes, newlines, `|`, `//`, `;`,
control characters, any Unicode) into every parameter of every catalog command, and
parses the bound query with duckdb_kql's lexer and parser: it must parse, and its tokens
must be the template's tokens, differing only in literal values. Also: templates are
read-only tabular expressions over the allowed tables, every question runs with a capped
time range and a row cap, and the whole pipeline (text -> command -> KQL) keeps this.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import duckdb_kql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.alerts.binding import BindingError, significant_tokens
from bot.ask.bind import BoundQuestion, bind_question, with_row_cap
from bot.ask.catalog import load_catalog, sample_bind, template_problems
from bot.ask.entities import EntityIndex
from bot.ask.matcher import Matcher
from bot.ask.mentions import AliasTable, scan
from bot.ask.model import Command
from bot.ask.timephrases import parse_window
from bot.ask.understand import Resolved, from_choice, understand
from tests.ask.conftest import CATALOG_DIR, NOW

CATALOG = load_catalog([CATALOG_DIR])
LITERALS = frozenset(
    {"STRINGLITERAL", "LONGLITERAL", "INTLITERAL", "REALLITERAL", "TIMESPANLITERAL"}
)
CASES = [
    pytest.param(command, name, id=f"{command.name}.{name}")
    for command in CATALOG.queries
    for name, spec in command.parameters.items()
    if spec.kind not in ("window", "bin")
]
WINDOW = parse_window("24h", now=NOW, limit=CATALOG.limits.max_window)
HOSTILE = st.one_of(
    st.text(max_size=200),
    st.text(alphabet="\"'\\|;/*\n\r\t`@ (){}[]<>=!$%&x", max_size=60),
    st.sampled_from(
        [
            'x" | project secret //',
            "' or 1 == 1 //",
            '"; AuditLogs | take 10; //',
            "\\\\server\\share\\",
            "line\nbreak | union AADProvisioningLogs",
            '@"verbatim"" | take 1',
            "/* comment */ | render table",
            "\x00\x07\x1b control",
        ]
    ),
)


def shape(kql: str) -> list[tuple[str, str | None]]:
    """Each token's kind, and its text unless it is a literal."""
    return [
        (kind, None if kind in LITERALS else token.text) for kind, token in significant_tokens(kql)
    ]


def values_with(command: Command, name: str, value: Any) -> dict[str, Any]:
    base = sample_bind(command, CATALOG.limits).values
    return {**base, name: value}


@pytest.mark.parametrize(("command", "name"), CASES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=HOSTILE)
def test_any_text_in_any_parameter_changes_only_literals(
    command: Command, name: str, text: str
) -> None:
    kind = command.parameters[name].kind
    value: Any = len(text) + 1 if kind == "count" else text
    template = sample_bind(command, CATALOG.limits)
    bound = bind_question(
        command, values_with(command, name, value), WINDOW, max_rows=CATALOG.limits.max_rows
    )
    parsed = duckdb_kql.parse(bound.kql)
    assert parsed.ok, parsed.diagnostics
    assert shape(bound.kql) == shape(template.kql)
    # Below the one `let` line, the text is the template's, character for character
    # (a count after `take` is its int literal there too, as the engine needs).
    below = template.kql.split("\n", 1)[1]
    if kind == "count":
        below = below.replace(f"take {template.values[name]}\n", f"take {value}\n", 1)
    assert bound.kql.split("\n", 1)[1] == below


COUNTS = [case for case in CASES if case.values[0].parameters[case.values[1]].kind == "count"]


@pytest.mark.parametrize(("command", "name"), COUNTS)
@pytest.mark.parametrize("value", [0, -1, 10_001, True, "5", "5 | take 100000", 2.5])
def test_a_count_is_a_whole_number_in_range_or_is_refused(
    command: Command, name: str, value: Any
) -> None:
    """N of top-N is bound as a validated int literal: never text, never out of range."""
    with pytest.raises(BindingError):
        bind_question(
            command, values_with(command, name, value), WINDOW, max_rows=CATALOG.limits.max_rows
        )


@pytest.mark.parametrize(("command", "name"), COUNTS)
def test_a_count_after_take_is_its_literal(command: Command, name: str) -> None:
    bound = bind_question(
        command, values_with(command, name, 7), WINDOW, max_rows=CATALOG.limits.max_rows
    )
    kinds = [(kind, token.text) for kind, token in significant_tokens(bound.kql)]
    takes = [kinds[i + 1] for i, (kind, _) in enumerate(kinds[:-1]) if kind == "TAKE"]
    assert ("INTLITERAL", "7") in takes or ("LONGLITERAL", "7") in takes
    assert all(kind != "IDENTIFIER" for kind, _ in takes)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=HOSTILE)
def test_whatever_is_typed_the_query_run_is_a_template_with_literals(text: str) -> None:
    """The whole path: text -> understanding -> bound KQL."""
    got = understand(text, MATCHER, ALIASES, INDEX, now=NOW)
    if isinstance(got, Resolved):
        check_bound(bind(got))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    command=st.sampled_from([c.name for c in CATALOG.queries]),
    parameters=st.dictionaries(
        st.sampled_from(["job", "user", "group", "window", "limit", "error_code", "workflow"]),
        st.one_of(HOSTILE, st.integers(), st.none(), st.lists(st.text(max_size=5), max_size=2)),
    ),
)
def test_button_data_cannot_change_a_query_either(command: str, parameters: dict[str, Any]) -> None:
    """`ask.choose` data comes back from the client: checked again, bound as literals."""
    chosen = CATALOG.find(command)
    got = from_choice(chosen, parameters, now=NOW, limit=CATALOG.limits.max_window)
    if isinstance(got, Resolved):
        check_bound(bind(got))


def bind(resolved: Resolved) -> BoundQuestion:
    return bind_question(
        resolved.command, resolved.values, resolved.window, max_rows=CATALOG.limits.max_rows
    )


def check_bound(bound: BoundQuestion) -> None:
    template = sample_bind(bound.command, CATALOG.limits)
    assert shape(bound.kql) == shape(template.kql)
    assert duckdb_kql.parse(bound.kql).ok
    assert_capped(bound)


def assert_capped(bound: BoundQuestion) -> None:
    span = bound.timespan
    assert span is not None, "every question runs over a time range"
    length = span if isinstance(span, timedelta) else span[1] - span[0]
    assert timedelta(0) < length <= CATALOG.limits.max_window
    assert f"| take {CATALOG.limits.max_rows}" in bound.kql


@pytest.mark.parametrize("command", CATALOG.queries, ids=lambda c: c.name)
def test_every_template_is_one_read_only_expression_over_the_allowed_tables(
    command: Command,
) -> None:
    assert template_problems(command, CATALOG.limits) == []
    first = significant_tokens(command.query or "")[0][1].text
    assert first in CATALOG.limits.tables
    assert not (command.query or "").lstrip().startswith(".")


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        (".drop table AuditLogs", "must start with one of the tables"),
        ("SigninLogs | take 1", "must start with one of the tables"),
        ("AuditLogs | take 1; AADProvisioningLogs | take 1", "one tabular expression"),
        ("AuditLogs | where Id == job | where TimeGenerated > ago(window)", "time range"),
        ("AuditLogs | take 1", "declared but not used"),
    ],
)
def test_templates_that_could_do_more_than_read_are_refused(query: str, problem: str) -> None:
    command = CATALOG.find("access-reviews-deleted")
    assert command is not None
    changed = command.model_copy(
        update={
            "query": query,
            "parameters": {
                **command.parameters,
                "job": CATALOG.find("provisioning-failures").parameters["job"],  # type: ignore[union-attr]
            },
        }
    )
    assert any(problem in found for found in template_problems(changed, CATALOG.limits))


def test_a_time_range_longer_than_the_limit_is_cut_to_it() -> None:
    window = parse_window("365 days", now=NOW, limit=CATALOG.limits.max_window)
    assert window.capped
    assert window.timespan == CATALOG.limits.max_window
    since = parse_window("since 2020-01-01", now=NOW, limit=CATALOG.limits.max_window)
    assert since.capped
    assert isinstance(since.timespan, tuple)
    assert since.timespan[1] - since.timespan[0] == CATALOG.limits.max_window


def test_the_row_cap_goes_before_a_final_render() -> None:
    capped = with_row_cap("T\n| summarize count() by bin(TimeGenerated, 1h)\n| render timechart", 5)
    assert capped.splitlines()[-2:] == ["| take 5", "| render timechart"]
    assert duckdb_kql.parse(capped).ok


def _shared() -> tuple[Matcher, AliasTable, EntityIndex]:
    from bot.ask.entities import Named

    matcher = Matcher(CATALOG)
    jobs = (
        Named(
            "job",
            "scim.3ed727b241f74b28a1e90478f05825e5.6417b88f-b93c-4137-8a73-e7e3daadd60a",
            "ServiceNow",
        ),
        Named(
            "job",
            "scim.7dec40ef04694545bff6ee02edc70579.6417b88f-b93c-4137-8a73-e7e3daadd60a",
            "Salesforce",
        ),
    )
    index = EntityIndex({"job": jobs, "error_code": (Named("error_code", "Timeout", "Timeout"),)})
    return matcher, AliasTable.build(index, CATALOG.vocabulary, matcher.lexicon.common), index


MATCHER, ALIASES, INDEX = _shared()


LONG = 28_000


@pytest.mark.parametrize(
    "text",
    ["a" * LONG, "a." * (LONG // 2), "<at>" * (LONG // 4), " @" + "a" * (LONG - 3) + "@"],
    ids=["upn-like-run", "dotted-run", "unclosed-at", "at-word-at"],
)
def test_finding_names_takes_one_pass_over_any_text(text: str, aliases: AliasTable) -> None:
    """Issue 19: these took 5-20 s each with the old patterns (quadratic); now milliseconds."""
    started = time.perf_counter()
    scan(text, aliases)
    assert time.perf_counter() - started < 1.0
