"""The catalog against the demo workspace: every rule fires on its planted scenario, none
in the quiet window; and the `evaluate` and `rules` commands end to end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb_kql
import pytest

from bot.alerts.rule_model import Rule
from bot.alerts.rules import load_rules
from bot.alerts.runner import CycleResult, evaluate_cycle
from bot.cli import main
from bot.workspace.demo import DemoManifest, DemoSpec, load_demo
from bot.workspace.local import LocalWorkspace

ROOT = Path(__file__).parents[2]
CATALOG = ROOT / "config" / "rules"
NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[LocalWorkspace, DemoManifest]]:
    con = duckdb_kql.connect()
    manifest = load_demo(con, DemoSpec(now=NOW))
    yield LocalWorkspace(con, clock=lambda: NOW), manifest
    con.close()


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    """The alert rules (notify_person rules tell people, not admins: tests/notices)."""
    return [rule for rule in load_rules([CATALOG]) if rule.notify_person is None]


def firing(cycle: CycleResult) -> dict[str, list[dict[str, str]]]:
    found: dict[str, list[dict[str, str]]] = {}
    for alert in cycle.state.alerts.values():
        found.setdefault(alert.rule_id, []).append(alert.dimensions)
    return found


def expected_alerts(manifest: DemoManifest) -> dict[str, dict[str, str]]:
    """Rule -> dimension values (some of them) its one alert must have."""
    return {
        "access-review-deleted": {},
        "group-member-added-directly": {"GroupName": "SAP Finance - Production Admins"},
        "connected-organization-created": {"TenantId": manifest.connected_org_tenant_id},
        "custom-extension-failed": {"CustomExtensionName": manifest.failing_custom_extension},
        "workflow-failed": {"WorkflowName": manifest.failing_workflow},
        "cross-tenant-partner-added": {"PartnerTenantId": manifest.cross_tenant_partner_tenant_id},
        "cross-tenant-sync-enabled": {"PartnerTenantId": manifest.cross_tenant_partner_tenant_id},
        "pim-alert-disabled": {},
        "provisioning-failure-spike": {"JobId": manifest.failure_spike_job_id},
        "provisioning-job-failure-spike": {"JobId": manifest.failure_spike_job_id},
        "provisioning-job-silent": {"JobId": manifest.silent_job_id},
        "provisioning-disable-delete-spike": {"JobId": manifest.disable_spike_job_id},
        "provisioning-configuration-changed": {
            "Application": manifest.job(manifest.paused_job_id).app_name
        },
    }


async def test_every_rule_fires_once_on_its_planted_scenario(
    demo: tuple[LocalWorkspace, DemoManifest], rules: list[Rule]
) -> None:
    workspace, manifest = demo
    cycle = await evaluate_cycle(rules, workspace, at=manifest.recent_window[1])
    alerts = firing(cycle)
    expected = expected_alerts(manifest)
    assert sorted(alerts) == sorted(expected) == sorted(rule.id for rule in rules)
    for rule_id, wanted in expected.items():
        (dimensions,) = alerts[rule_id]
        assert wanted.items() <= dimensions.items(), rule_id


async def test_no_rule_fires_in_the_quiet_window(
    demo: tuple[LocalWorkspace, DemoManifest], rules: list[Rule]
) -> None:
    workspace, manifest = demo
    cycle = await evaluate_cycle(rules, workspace, at=manifest.quiet_window[1])
    assert firing(cycle) == {}
    assert all(health.last_error is None for health in cycle.state.health.values())


def test_parameters_hold_the_demo_values(
    demo: tuple[LocalWorkspace, DemoManifest], rules: list[Rule]
) -> None:
    _, manifest = demo
    values = {name: p.value for rule in rules for name, p in rule.parameters.items()}
    assert values == {
        "watched_group_ids": manifest.watched_group_ids,
        "custom_extension_names": manifest.custom_extension_names,
        "workflow_names": manifest.workflow_names,
        "watched_job_ids": (manifest.failure_spike_job_id,),
    }


@pytest.fixture
def cli_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("ALERTBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("ALERTBOT_DEMO_NOW", NOW.isoformat())
    alert_rules = tmp_path / "rules"
    alert_rules.mkdir()
    for path in CATALOG.glob("*.yaml"):
        if path.name != "account-security.yaml":  # notices: tests/notices
            shutil.copy(path, alert_rules / path.name)
    monkeypatch.setenv("ALERTBOT_RULES_PATH", str(alert_rules))
    monkeypatch.setenv("ALERTBOT_LOG_LEVEL", "WARNING")


@pytest.mark.usefixtures("cli_environment")
def test_evaluate_json_shows_every_rule_firing_then_ok_in_the_quiet_window(
    capsys: pytest.CaptureFixture[str], demo: tuple[LocalWorkspace, DemoManifest]
) -> None:
    _, manifest = demo
    assert main(["evaluate", "--format", "json"]) == 0
    planted = json.loads(capsys.readouterr().out)
    assert planted["at"] == "2026-03-02T12:00:00Z"
    assert planted["summary"] == {"firing": 13, "breaching": 0, "ok": 0, "error": 0}
    silent = next(r for r in planted["rules"] if r["rule"] == "provisioning-job-silent")
    (alert,) = [result for result in silent["results"] if result["state"] == "firing"]
    assert alert["dimensions"] == {"JobId": manifest.silent_job_id}
    assert (alert["breached"], silent["operator"], silent["threshold"]) == (True, ">", 4)
    assert alert["value"] > 8

    quiet = manifest.quiet_window[1].isoformat()
    assert main(["evaluate", "--format", "json", "--at", quiet]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["summary"] == {"firing": 0, "breaching": 0, "ok": 13, "error": 0}
    assert {result["state"] for rule in document["rules"] for result in rule["results"]} == {"ok"}


@pytest.mark.usefixtures("cli_environment")
def test_evaluate_one_rule_as_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--rule", "pim-alert-disabled"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["RULE", "STATE", "DIMENSIONS", "VALUE", "CONDITION", "ERROR"]
    assert lines[2].split()[:2] == ["pim-alert-disabled", "firing"]
    assert lines[-1] == "1 rule at 2026-03-02T12:00:00Z: 1 firing, 0 breaching, 0 ok, 0 error"


@pytest.mark.usefixtures("cli_environment")
@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["evaluate", "--rule", "nope"], 2, "alertbot: no rule 'nope'; rules are: access-review"),
        (["evaluate", "--at", "yesterday"], 2, "alertbot: --at: not an ISO 8601 date/time"),
    ],
)
def test_evaluate_usage_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    assert main(argv) == code
    assert capsys.readouterr().err.startswith(message)


@pytest.mark.usefixtures("cli_environment")
def test_rules_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "CATEGORY", "SEV", "EVERY/WINDOW", "TITLE"]
    assert len(lines) == 2 + 13
    assert lines[2].split()[:5] == ["access-review-deleted", "Access", "Reviews", "3", "15m/1d"]


def run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTBOT_")}
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, check=False)


def test_rules_validate_as_a_process(tmp_path: Path) -> None:
    alertbot = sys.executable, "-m", "bot"
    clean = run(*alertbot, "rules", "validate", str(CATALOG), cwd=tmp_path)
    assert (clean.returncode, clean.stdout) == (
        0,
        "14 valid rules in 7 files: 0 errors, 0 warnings\n",
    )

    broken = tmp_path / "broken.yaml"
    broken.write_text(
        (CATALOG / "access-reviews.yaml").read_text().replace("window: 24h", "window: 5m")
    )
    failed = run(*alertbot, "rules", "validate", "broken.yaml", cwd=tmp_path)
    assert failed.returncode == 1
    assert failed.stderr.splitlines() == [
        "broken.yaml:24:13: access-review-deleted: window 5m is shorter than frequency 15m: "
        "rows between evaluations would never be seen",
        "0 valid rules in 1 file: 1 error, 0 warnings",
    ]
