"""Remediation hints per error code (config/health/hints): the real file loads, covers every
code the demo logs, follows the rules it names, and a bad file is refused with positions.
The digest puts each top error code's hint beside it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.alerts.rules import load_rules
from bot.ask.catalog import Catalog
from bot.errors import ConfigError
from bot.health.digest import collect, digest_view
from bot.health.hints import load_hints
from bot.workspace.demo import DemoManifest
from bot.workspace.demo.provisioning_text import ERRORS
from bot.workspace.local import LocalWorkspace
from tests.health.conftest import NOW, ROOT, Raw

HINTS = ROOT / "config" / "health" / "hints"


def test_every_error_code_the_demo_logs_has_a_hint() -> None:
    hints = load_hints(HINTS)
    assert [code for code in ERRORS if not hints(code)] == []
    assert hints("unauthorized") == hints("Unauthorized")  # case does not matter
    assert hints("NoSuchCode") == ""


def test_hints_that_name_a_rule_follow_its_remediation() -> None:
    rules = {rule.id: rule for rule in load_rules([ROOT / "config" / "rules"])}
    named = [entry for entry in load_hints(HINTS).entries if entry.rule]
    assert named
    for entry in named:
        assert entry.rule in rules, entry.rule
        remediation = rules[entry.rule].remediation.text
        assert any(code in remediation for code in entry.codes), (entry.rule, entry.codes)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("hints:\n  - codes: [A]\n    hint: x\n    colour: red\n", ":4:5: hints.0.colour: Extra"),
        ("hints:\n  - codes: []\n    hint: x\n", ":2:5: hints.0.codes:"),
        ("hints:\n  - codes: [A]\n    hint: ''\n", ":3:5: hints.0.hint:"),
        (
            "hints:\n  - codes: [A]\n    hint: x\n  - codes: [a]\n    hint: y\n",
            ":4:5: hints.1: error code 'a' already has a hint",
        ),
        ("hints:\n  - codes: [A]\n    hint: x\n    rule: Not A Slug\n", "hints.0.rule:"),
        ("hints: [\n", ":2:1:"),
    ],
)
def test_a_bad_file_is_refused_naming_the_place(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "hints.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_hints(tmp_path)
    assert any(problem in line and str(path) in line for line in refused.value.problems), (
        refused.value.problems
    )


def test_no_hints_directory_means_no_hints(tmp_path: Path) -> None:
    assert len(load_hints(tmp_path / "absent")) == 0


async def test_the_digest_shows_the_hint_of_each_top_error(
    health_demo: tuple[LocalWorkspace, DemoManifest, Raw], health_catalog: Catalog
) -> None:
    workspace, manifest, _ = health_demo
    hints = load_hints(HINTS)
    data = await collect(workspace, health_catalog, (NOW - timedelta(hours=24), NOW))
    view = digest_view(data, now=NOW, hints=hints)
    spike = next(job for job in view.jobs if job.job_id == manifest.failure_spike_job_id)
    (error,) = spike.top_errors
    assert (error.code, error.hint) == ("Unauthorized", hints("Unauthorized"))
    assert "Admin credentials" in error.hint
    assert all(e.hint == hints(e.code) for job in view.jobs for e in job.top_errors)
    assert digest_view(data, now=NOW).jobs[0].top_errors[0].hint == ""
