"""`alertbot rules import`: Azure Monitor scheduled query rules (ARM JSON) into rule files.

The inputs follow the shapes Microsoft documents: the ARM template and parameters file
of "Resource Manager template samples for log search alert rules" (2021-08-01), a REST
`scheduledQueryRules` list response (2023-12-01, `properties` nested), and
`az monitor scheduled-query list` output (properties flattened). The seed alerts written
as Azure rules must, once imported, fire exactly where the catalog's own rules fire.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb_kql
import pytest
import yaml

from bot.alerts.rules import check_rules, load_rules
from bot.alerts.runner import evaluate_cycle
from bot.azure_monitor.arm_import import ArmImportError, import_rules
from bot.azure_monitor.rule_file import render_rule_file
from bot.cli import main
from bot.workspace.demo import DemoSpec, load_demo
from bot.workspace.local import LocalWorkspace

DATA = Path(__file__).parent / "data"
CATALOG = Path(__file__).parents[2] / "config" / "rules"
NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


def load(name: str) -> object:
    return json.loads((DATA / name).read_text())


def write_imported(tmp_path: Path, name: str, **kwargs: object) -> Path:
    result = import_rules(load(name), **kwargs)  # type: ignore[arg-type]
    path = tmp_path / "imported.yaml"
    path.write_text(render_rule_file(result, source=name))
    return path


def test_the_seed_alerts_as_azure_rules_import_as_valid_rules(tmp_path: Path) -> None:
    path = write_imported(tmp_path, "seed-alerts.rest.json")
    report = check_rules([path])
    assert report.errors == []
    rules = {loaded.rule.id: loaded.rule for loaded in report.rules}
    assert set(rules) == {
        "access-review-deleted",
        "cross-tenant-sync-enabled",
        "provisioning-failure-spike",
    }
    spike = rules["provisioning-failure-spike"]
    assert (spike.operator, spike.threshold, spike.dimensions) == (">", 10, ("JobId",))
    assert (spike.frequency.total_seconds(), spike.window.total_seconds()) == (3600, 86400)
    assert spike.category == "Provisioning"
    assert spike.severity == 2
    assert spike.auto_resolve
    assert spike.renotify is None  # muteActionsDuration is dropped for a stateful rule
    assert rules["cross-tenant-sync-enabled"].category == "Multitenant collaboration"
    assert (
        rules["access-review-deleted"]
        .remediation.links[0]
        .url.startswith("https://portal.azure.com/#resource/subscriptions/")
    )


def test_the_rule_file_says_what_was_left_behind(tmp_path: Path) -> None:
    text = write_imported(tmp_path, "seed-alerts.rest.json").read_text()
    assert "numberOfEvaluationPeriods windows inside one run" in text
    assert "1 action group(s) not imported" in text
    assert "muteActionsDuration: dropped: a stateful rule notifies once" in text
    assert "ruleResolveConfiguration: dropped" in text


@pytest.fixture(scope="module")
def demo() -> Iterator[LocalWorkspace]:
    con = duckdb_kql.connect()
    load_demo(con, DemoSpec(now=NOW))
    yield LocalWorkspace(con, clock=lambda: NOW)
    con.close()


async def test_imported_seed_rules_fire_where_the_catalog_rules_fire(
    tmp_path: Path, demo: LocalWorkspace
) -> None:
    imported = load_rules([write_imported(tmp_path, "seed-alerts.rest.json")])
    catalog = [r for r in load_rules([CATALOG]) if r.id in {i.id for i in imported}]
    assert len(catalog) == len(imported) == 3

    mine = await evaluate_cycle(imported, demo, at=NOW)
    theirs = await evaluate_cycle(catalog, demo, at=NOW)
    found = {a.rule_id: sorted(map(str, a.dimensions.items())) for a in mine.state.alerts.values()}
    expected = {
        a.rule_id: sorted(map(str, a.dimensions.items())) for a in theirs.state.alerts.values()
    }
    assert found == expected
    assert set(found) == {rule.id for rule in imported}  # every one fires on the demo


def test_the_documented_template_with_its_parameters_file(tmp_path: Path) -> None:
    parameters = load("docs-parameters.json")["parameters"]  # type: ignore[index]
    result = import_rules(load("docs-template.json"), parameters=parameters)
    assert result.refused == []
    (rule,) = result.rules
    document = rule.document
    assert document["id"] == "provisioning-duration-too-high"
    assert document["measure"] == {"aggregation": "avg", "column": "DurationMs"}
    assert (document["frequency"], document["window"], document["threshold"]) == (
        "PT15M",
        "PT1H",
        5000,
    )
    assert document["severity"] == 3
    assert document["enabled"] is True
    # muteActionsDuration has no value in the parameters file and no default: said, not guessed.
    assert any("muteActionsDuration" in note.message for note in rule.notes)
    path = tmp_path / "docs.yaml"
    path.write_text(render_rule_file(result, source="docs-template.json"))
    assert check_rules([path]).errors == []


def test_without_parameters_the_template_names_what_is_missing() -> None:
    result = import_rules(load("docs-template.json"))
    assert result.rules == []
    reasons = " ".join(note.message for note in result.refused)
    assert "parameter 'query' has no value (pass --parameters FILE)" in reasons


def test_cli_output_dimensions_become_filters_and_unsupported_rules_are_refused(
    tmp_path: Path,
) -> None:
    result = import_rules(load("cli-list.json"))
    refused = {note.rule: note.message for note in result.refused}
    assert "split the rule" in refused["two-conditions"]
    assert "is not a log search alert" in refused["to-metric"]
    assert "legacy (2018-04-16)" in refused["legacy-rule"]
    (rule,) = result.rules
    document = rule.document
    assert document["dimensions"] == ["JobId", "ResultSignature"]
    assert "| where tostring(JobId) in (include_jobid)" in document["query"]
    assert "| where tostring(ResultSignature) !in (exclude_resultsignature)" in document["query"]
    assert document["parameters"]["exclude_resultsignature"]["value"] == ["EntryConflict"]
    # A stateless rule's muteActionsDuration throttles its notifications: reminders.
    assert document["auto_resolve"] is False
    assert document["renotify"] == {"interval": "PT1H"}
    path = tmp_path / "cli.yaml"
    path.write_text(render_rule_file(result, source="cli-list.json"))
    assert check_rules([path]).errors == []
    assert yaml.safe_load(path.read_text())["rules"][0]["id"] == "snow-failures"


def test_ids_stay_unique_and_within_limits() -> None:
    rule = load("cli-list.json")[0]  # type: ignore[index]
    many = [dict(rule, name="x" * 100) for _ in range(3)]
    ids = [r.document["id"] for r in import_rules(many).rules]
    assert len(set(ids)) == 3
    assert all(len(i) <= 64 for i in ids)


@pytest.mark.parametrize("document", [{"resources": []}, {"name": "not a rule"}, "text", [1, 2]])
def test_input_without_rules_is_one_clear_error(document: object) -> None:
    with pytest.raises(ArmImportError, match=r"no Microsoft\.Insights/scheduledQueryRules|no JSON"):
        import_rules(document)


def test_the_command_writes_and_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rules" / "imported.yaml"
    code = main(["rules", "import", str(DATA / "seed-alerts.rest.json"), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "wrote 3 rule(s)" in captured.err
    assert "note: provisioning-failure-spike:" in captured.err
    assert check_rules([out]).errors == []


def test_the_command_prints_the_file_and_refusals(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["rules", "import", str(DATA / "cli-list.json")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.startswith("# Imported from cli-list.json")
    assert "not imported: legacy-rule:" in captured.err


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "bad.json:1:2: not JSON"), ('{"resources": []}', "no Microsoft.Insights")],
)
def test_the_command_rejects_bad_files_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert main(["rules", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
