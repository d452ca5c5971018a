"""Rule files: every problem reported as `file:line:col: rule-id: message`, at the right place."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.alerts.kql_checks import OutputProbe
from bot.alerts.rules import check_rules, load_rules
from bot.errors import ConfigError
from bot.workspace.probe import empty_tables_probe

CATALOG = Path(__file__).parents[2] / "config" / "rules"

VALID = """\
rules:
  - id: my-rule
    title: My rule
    description: Something happened.
    category: Provisioning
    severity: 2
    query: |
      AADProvisioningLogs
      | where ResultType == "Failure"
    frequency: 5m
    window: 1h
    measure: count
    operator: ">"
    threshold: 3
    dimensions: [JobId]
    remediation:
      text: Fix it.
"""


@pytest.fixture(scope="module")
def probe() -> Iterator[OutputProbe]:
    with empty_tables_probe() as probe:
        yield probe


def check(tmp_path: Path, text: str, probe: OutputProbe | None = None) -> list[str]:
    """The diagnostics for `text` as r.yaml, with file names relative to its directory."""
    (tmp_path / "r.yaml").write_text(textwrap.dedent(text))
    report = check_rules([tmp_path], probe=probe)
    return [str(d).removeprefix(f"{tmp_path}/") for d in report.diagnostics]


def edit(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new)


def test_a_valid_rule_has_no_diagnostics(tmp_path: Path, probe: OutputProbe) -> None:
    assert check(tmp_path, VALID, probe) == []
    (rule,) = load_rules([tmp_path])
    assert (rule.id, rule.threshold, rule.dimensions) == ("my-rule", 3, ("JobId",))


def test_the_catalog_is_clean(probe: OutputProbe) -> None:
    report = check_rules([CATALOG], probe=probe)
    assert [str(d) for d in report.diagnostics] == []
    assert len(report.rules) == 14


FIELD_ERRORS = [
    (
        "threshold: 3",
        "treshold: 3",
        [
            "2:5: missing required key 'threshold'",
            "14:5: unknown key 'treshold'; did you mean 'threshold'?",
        ],
    ),
    (
        "remediation:\n      text: Fix it.",
        "remediation:\n      text: Fix it.\n      link: x",
        ["18:7: unknown key 'link'; did you mean 'links'?"],
    ),
    ("severity: 2", "severity: 7", ["6:15: severity: Input should be less than or equal to 4"]),
    (
        "frequency: 5m",
        "frequency: soon",
        [
            "10:16: frequency: not a time span: 'soon' "
            "(try 24h, 7d, P1D or 2026-01-01T00:00Z/2026-01-02T00:00Z)"
        ],
    ),
    (
        "measure: count",
        "measure: {aggregation: max}",
        ["12:14: measure: max needs the `column` to aggregate"],
    ),
    (
        'operator: ">"',
        'operator: "=>"',
        ["13:15: operator: Input should be '>', '>=', '<', '<=', '==' or '!='"],
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), FIELD_ERRORS)
def test_field_errors(tmp_path: Path, old: str, new: str, expected: list[str]) -> None:
    where_and_what = [line.split(": ", 1) for line in expected]
    assert check(tmp_path, edit(old, new)) == [
        f"r.yaml:{where}: my-rule: {what}" for where, what in where_and_what
    ]


def test_a_bad_id_is_reported_under_the_id_given(tmp_path: Path) -> None:
    assert check(tmp_path, edit("id: my-rule", "id: My Rule")) == [
        "r.yaml:2:9: My Rule: id: String should match pattern '^[a-z0-9]+(?:-[a-z0-9]+)*$'"
    ]


IMPOSSIBLE = [
    pytest.param(
        "window: 1h",
        "window: 1m",
        "11:13: window 1m is shorter than frequency 5m: "
        "rows between evaluations would never be seen",
        id="window<frequency",
    ),
    pytest.param(
        "frequency: 5m",
        "frequency: 30s",
        "10:16: frequency must be between 1m and 12h (as in Azure)",
        id="frequency-too-short",
    ),
    pytest.param(
        "frequency: 5m\n    window: 1h",
        "frequency: 13h\n    window: 1d",
        "10:16: frequency must be between 1m and 12h (as in Azure)",
        id="frequency-too-long",
    ),
    pytest.param(
        "dimensions: [JobId]",
        "dimensions: [JobId]\n    failing_periods: {min_failing: 3, evaluations: 2}",
        "16:36: min_failing 3 is more than evaluations 2: the rule could never fire",
        id="n>m",
    ),
    pytest.param(
        "dimensions: [JobId]",
        "dimensions: [A, B, C, D, E, F, G]",
        "15:17: at most 6 dimensions (as in Azure)",
        id="7-dimensions",
    ),
    pytest.param(
        "dimensions: [JobId]",
        "dimensions: [JobId, JobId]",
        "15:25: dimension 'JobId' is listed twice",
        id="dimension-twice",
    ),
    pytest.param(
        "dimensions: [JobId]",
        "dimensions: [JobId]\n    renotify: {interval: 1m}",
        "16:26: renotify interval is shorter than frequency: reminders can only come with an "
        "evaluation",
        id="renotify<frequency",
    ),
    pytest.param(
        "dimensions: [JobId]",
        "dimensions: [JobId]\n    renotify: {interval: 1h, backoff: 2, max_interval: 30m}",
        "16:56: max_interval is shorter than interval",
        id="max<interval",
    ),
    pytest.param(
        'operator: ">"\n    threshold: 3',
        'operator: "<"\n    threshold: 0',
        "14:16: a row count can never meet this condition",
        id="count<0",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), IMPOSSIBLE)
def test_impossible_settings(tmp_path: Path, old: str, new: str, expected: str) -> None:
    where, what = expected.split(": ", 1)
    assert check(tmp_path, edit(old, new)) == [f"r.yaml:{where}: my-rule: {what}"]


OUTPUT_COLUMNS = [
    pytest.param(
        "measure: count",
        "measure: {aggregation: max, column: Hours}",
        "12:41: measure column 'Hours' is not in the query's output",
        id="measure-column-missing",
    ),
    pytest.param(
        "measure: count",
        "measure: {aggregation: sum, column: ResultType}",
        "12:41: measure column 'ResultType' is string, not a number",
        id="measure-column-text",
    ),
    pytest.param(
        "dimensions: [JobId]",
        "dimensions: [Job]",
        "15:18: dimension 'Job' is not a column of the query's output",
        id="dimension-missing",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), OUTPUT_COLUMNS)
def test_output_columns_are_checked_when_knowable(
    tmp_path: Path, probe: OutputProbe, old: str, new: str, expected: str
) -> None:
    where, what = expected.split(": ", 1)
    (found,) = check(tmp_path, edit(old, new), probe)
    assert found.startswith(f"r.yaml:{where}: my-rule: {what}")


def test_kql_syntax_errors_point_into_the_file(tmp_path: Path) -> None:
    text = edit('      | where ResultType == "Failure"', '      | wherex ResultType == "Failure"')
    assert check(tmp_path, text) == [
        "r.yaml:9:7: my-rule: KQL syntax: mismatched input '|' expecting {<EOF>, ';'}"
    ]


def test_the_seed_query_with_typographic_quotes_is_refused_at_the_quote(tmp_path: Path) -> None:
    text = edit(
        'query: |\n      AADProvisioningLogs\n      | where ResultType == "Failure"',
        "query: |\n      AADProvisioningLogs\n      | where JobId == “<input JobId>”\n"
        "      | where resultType == “Failure”",
    )
    assert check(tmp_path, text) == [
        "r.yaml:9:24: my-rule: KQL syntax: token recognition error at: '“'"
    ]


def test_an_unknown_column_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    text = edit('ResultType == "Failure"', 'resultType == "Failure" and JobId != Jobid')
    in_table = "in AADProvisioningLogs"
    assert check(tmp_path, text) == [
        f"r.yaml:9:15: my-rule: unknown column 'resultType' {in_table}; did you mean 'ResultType'?",
        f"r.yaml:9:52: my-rule: unknown column 'Jobid' {in_table}; did you mean 'JobId'?",
    ]
    with pytest.raises(ConfigError):
        load_rules([tmp_path])


def test_an_unknown_table_is_an_error_unless_the_rule_opts_in(tmp_path: Path) -> None:
    text = edit("      AADProvisioningLogs\n", "      AADProvisioningLog\n")
    assert check(tmp_path, text) == [
        "r.yaml:8:7: my-rule: unknown table 'AADProvisioningLog'; did you mean "
        "'AADProvisioningLogs'? (a custom table? list it under `custom_tables`)"
    ]
    opted_in = text.replace(
        "    remediation:", "    custom_tables: [AADProvisioningLog]\n    remediation:"
    )
    assert check(tmp_path, opted_in) == []


def test_a_custom_column_is_accepted_when_the_rule_lists_it(tmp_path: Path) -> None:
    text = edit('ResultType == "Failure"', 'Team_s == "HR"')
    assert check(tmp_path, text) == [
        "r.yaml:9:15: my-rule: unknown column 'Team_s' in AADProvisioningLogs "
        "(a custom column? list it under `custom_columns`)"
    ]
    opted_in = text.replace("    remediation:", "    custom_columns: [Team_s]\n    remediation:")
    assert check(tmp_path, opted_in) == []


def test_join_syntax_and_created_columns_are_not_unknown(
    tmp_path: Path, probe: OutputProbe
) -> None:
    text = edit(
        '      | where ResultType == "Failure"',
        '      | where ResultType == "Failure"\n'
        "      | serialize\n"
        "      | mv-expand kind=array ModifiedProperties\n"
        "      | extend Part1 = 1, Part2 = 2\n"
        "      | join kind=inner (SigninLogs | project TimeGenerated, UserId)\n"
        "        on $left.JobId == $right.UserId\n"
        "      | where TimeGenerated1 > TimeGenerated and Part1 < Part2\n"
        "      | summarize make_set(UserId) by JobId\n"
        "      | where array_length(set_UserId) > 0",
    )
    assert check(tmp_path, text, probe) == []


def test_an_engine_gap_is_an_error_only_when_the_rules_run_on_the_embedded_engine(
    tmp_path: Path, probe: OutputProbe
) -> None:
    text = edit(
        '      | where ResultType == "Failure"', "      | evaluate bag_unpack(TargetIdentity)"
    )
    (tmp_path / "r.yaml").write_text(text)
    for local, level in ((False, "warning"), (True, "error")):
        report = check_rules([tmp_path], probe=probe, engine_gaps_are_errors=local)
        (diagnostic,) = report.diagnostics
        assert diagnostic.level == level
        assert diagnostic.message.startswith(
            "the embedded engine cannot run `evaluate`; Log Analytics runs it"
        )
        assert ("these rules run on the demo workspace" in diagnostic.message) is local


def test_a_missing_key_does_not_hide_a_syntax_error(tmp_path: Path) -> None:
    text = edit("    remediation:\n      text: Fix it.\n", "").replace(
        'ResultType == "Failure"', 'ResultType == "Failure" and'
    )
    problems = check(tmp_path, text)
    assert problems[0] == "r.yaml:2:5: my-rule: missing required key 'remediation'"
    assert problems[1].startswith("r.yaml:10:7: my-rule: KQL syntax:")


def test_a_rules_folder_without_rules_is_an_error_for_the_server(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no rule files"):
        load_rules([tmp_path])


def test_names_the_query_defines_are_not_unknown_columns(tmp_path: Path) -> None:
    text = edit(
        '      | where ResultType == "Failure"',
        "      | extend Code = ResultSignature\n"
        '      | parse ResultDescription with * "code " Parsed:string " " *\n'
        "      | summarize count() by JobId, Code, Parsed\n"
        "      | where count_ > 1 and strlen(Code) > 0",
    )
    assert check(tmp_path, text) == []


def test_parameters_declared_and_checked(tmp_path: Path, probe: OutputProbe) -> None:
    text = edit(
        'query: |\n      AADProvisioningLogs\n      | where ResultType == "Failure"',
        "query: |\n      declare query_parameters(jobs:dynamic, extra:string);\n"
        "      AADProvisioningLogs\n      | where JobId in (jobs)\n"
        "    parameters:\n"
        "      jobs: {type: string_list, value: [a, b]}\n"
        "      unused: {type: int, value: 3}",
    )
    assert check(tmp_path, text, probe) == [
        "r.yaml:8:7: my-rule: declared parameter 'extra' has no value under `parameters`",
        "r.yaml:13:7: my-rule: warning: parameter 'unused' is unused",
    ]


def test_a_parameter_named_like_a_keyword_is_an_error_at_the_parameter(tmp_path: Path) -> None:
    text = edit(
        "    remediation:", "    parameters:\n      take: {type: int, value: 3}\n    remediation:"
    )
    assert check(tmp_path, text) == [
        "r.yaml:17:7: my-rule: parameter name 'take' is a KQL keyword; choose another name"
    ]


def test_yaml_syntax_errors(tmp_path: Path) -> None:
    assert check(tmp_path, "rules:\n  - id: [unclosed\n") == [
        "r.yaml:3:1: -: YAML: while parsing a flow sequence, "
        "expected ',' or ']', but got '<stream end>'"
    ]


NOT_A_RULE_FILE = "r.yaml:1:1: -: a rule file is a mapping with a `rules:` list"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- id: x\n", NOT_A_RULE_FILE),
        ("", NOT_A_RULE_FILE),
        (VALID + "extras: 1\n", "r.yaml:18:1: -: unknown top-level key 'extras'"),
        (
            VALID.replace("    severity: 2\n", "    severity: 2\n    severity: 3\n"),
            "r.yaml:7:5: my-rule: duplicate key 'severity'",
        ),
    ],
)
def test_file_shape_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert check(tmp_path, text) == [expected]


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "b.yaml").write_text(VALID)
    report = check_rules([tmp_path])
    assert [str(d) for d in report.diagnostics] == [
        f"{tmp_path}/b.yaml:2:1: my-rule: duplicate rule id (first defined at {tmp_path}/a.yaml:2)"
    ]
    assert len(report.rules) == 1


def test_load_rules_refuses_an_invalid_set_listing_every_error(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(
        edit("severity: 2", "severity: 9").replace("window: 1h", "window: 1m")
    )
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError) as raised:
        load_rules([tmp_path, missing])
    assert raised.value.problems == [
        f"{missing}:1:1: -: no such file or directory",
        f"{tmp_path}/r.yaml:6:15: my-rule: severity: Input should be less than or equal to 4",
    ]
