"""`alertbot ask`: the same failures `alertbot query` finds with the same KQL; exit codes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.cli import main
from bot.workspace.demo import DemoManifest
from tests.ask.conftest import NOW


@pytest.fixture(autouse=True)
def demo_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERTBOT_WORKSPACE", "local")
    monkeypatch.setenv("ALERTBOT_DEMO_NOW", NOW.isoformat())
    monkeypatch.setenv("ALERTBOT_DEMO_SEED", "42")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out) if argv[1:3] == ("--format", "json") else out


def test_ask_returns_the_failures_alertbot_query_finds_for_the_same_kql(
    capsys: pytest.CaptureFixture[str], manifest: DemoManifest
) -> None:
    job = manifest.job(manifest.failure_spike_job_id)
    code, asked = run(
        capsys, "ask", "--format", "json", f"provisioning failures for job {job.app_name} last 24h"
    )
    assert code == 0
    assert asked["command"] == "provisioning-failures"
    assert asked["parameters"]["job"] == job.job_id
    assert asked["parameters"]["window"] == "24h"
    assert asked["timespan"] == "P1D"
    assert asked["total"] == len(asked["rows"]) > 10
    assert set(asked) >= {"command", "parameters", "kql", "timespan", "columns", "rows", "total"}

    code, queried = run(
        capsys, "query", "--format", "json", "--timespan", asked["timespan"], asked["kql"]
    )
    assert code == 0
    assert queried["columns"] == asked["columns"]
    assert queried["rows"] == asked["rows"]
    errors = {
        row[asked["columns"].index({"name": "ErrorCode", "type": "string"})]
        for row in asked["rows"]
    }
    assert "Unauthorized" in errors


def test_a_job_id_works_as_well_as_the_app_name(
    capsys: pytest.CaptureFixture[str], manifest: DemoManifest
) -> None:
    code, asked = run(
        capsys,
        "ask",
        "--format",
        "json",
        f"provisioning failures for job {manifest.failure_spike_job_id} last 24h",
    )
    assert code == 0
    assert asked["parameters"]["job"] == manifest.failure_spike_job_id


def test_an_ambiguous_question_gives_choices_instead_of_rows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, asked = run(capsys, "ask", "--format", "json", "scim failures")
    assert code == 0
    assert "rows" not in asked
    # the demo's SCIM jobs, Greenhouse Recruiting included (paused six days ago)
    assert {c["label"] for c in asked["choices"]} == {
        "ServiceNow",
        "Salesforce",
        "Greenhouse Recruiting",
    }
    assert all(c["command"] == "provisioning-failures" for c in asked["choices"])


def test_nothing_that_fits_exits_1_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, asked = run(capsys, "ask", "--format", "json", "order a pizza")
    assert code == 1
    assert "can't match" in asked["error"]


def test_the_table_format_leads_with_the_summary_and_shows_the_kql(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(capsys, "ask", "who deleted an access review this week?")
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith("Access reviews deleted: 1 access review deleted by 1 person this week")
    assert 'ActivityDisplayName == "Delete access review"' in out
