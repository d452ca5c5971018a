"""Clean syntax verdicts are kept (bot.workspace.kql_syntax): a restart with the same cache
directory checks the shipped rules and catalogs without parsing them again."""

from __future__ import annotations

from pathlib import Path

import duckdb_kql
import pytest

from bot.ask.catalog import load_catalog
from bot.settings import Settings
from bot.workspace import kql_syntax
from bot.workspace.kql_syntax import SyntaxVerdicts

GOOD = "AuditLogs | where TimeGenerated > ago(1d) | summarize count() by OperationName"
BAD = "AuditLogs | where | summarize"


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = duckdb_kql.validate

    def counting(text: str) -> list[duckdb_kql.Diagnostic]:
        seen.append(text)
        return real(text)

    monkeypatch.setattr(duckdb_kql, "validate", counting)
    return seen


def test_a_clean_text_is_parsed_once_across_processes(tmp_path: Path, parses: list[str]) -> None:
    assert SyntaxVerdicts(tmp_path).diagnostics(GOOD) == []
    assert SyntaxVerdicts(tmp_path).diagnostics(GOOD) == []  # a new process, same directory
    assert parses == [GOOD]
    assert SyntaxVerdicts().diagnostics(GOOD) == []  # no directory: parsed again
    assert len(parses) == 2


def test_a_text_with_a_problem_is_parsed_every_time(tmp_path: Path, parses: list[str]) -> None:
    verdicts = SyntaxVerdicts(tmp_path)
    first = verdicts.diagnostics(BAD)
    assert first
    assert first == verdicts.diagnostics(BAD)
    assert parses == [BAD, BAD]
    assert not list(tmp_path.iterdir())


def test_another_parser_version_does_not_reuse_a_verdict(
    tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    SyntaxVerdicts(tmp_path).diagnostics(GOOD)
    monkeypatch.setattr(kql_syntax, "code_version", lambda: "another-version")
    kql_syntax._version.cache_clear()
    try:
        SyntaxVerdicts(tmp_path).diagnostics(GOOD)
    finally:
        kql_syntax._version.cache_clear()
    assert parses == [GOOD, GOOD]


def test_an_unwritable_directory_only_costs_a_parse(tmp_path: Path, parses: list[str]) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    assert SyntaxVerdicts(blocked / "kql-parsed").diagnostics(GOOD) == []
    assert parses == [GOOD]


def test_a_restart_checks_the_shipped_catalogs_without_parsing(
    tmp_path: Path, parses: list[str]
) -> None:
    settings = Settings(_env_file=None)
    counts = []
    try:
        for _ in range(2):
            kql_syntax.VERDICTS = SyntaxVerdicts()  # a new process
            kql_syntax.remember_under(tmp_path)
            load_catalog([settings.questions_path])
            load_catalog([settings.health_path])
            counts.append(len(parses))
            parses.clear()
    finally:
        kql_syntax.VERDICTS = SyntaxVerdicts()
    assert counts[0] > 10
    assert counts[1] == 0
