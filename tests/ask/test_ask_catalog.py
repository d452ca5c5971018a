"""The catalog is data, checked strictly: each problem names file, line, column and command."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.ask.catalog import Catalog, CatalogError, load_catalog
from bot.workspace.probe import empty_tables_probe

SEED_QUESTIONS = {
    # seed 000: every custom alert
    "access-reviews-deleted", "group-direct-adds", "connected-orgs-created",
    "custom-extension-failures", "workflow-failures", "cross-tenant-partners-added",
    "cross-tenant-sync-enabled", "pim-alerts-disabled", "provisioning-failures",
    "provisioning-config-changes",
    # seed 001: every sample query and alert
    "provisioning-user-events", "provisioning-errors-by-code", "provisioning-actions-per-day",
    "provisioning-unresolved-members", "provisioning-actions-by-app",
    "provisioning-activity-trend", "provisioning-last-activity", "provisioning-disables-deletes",
    # the list, and seed 004
    "provisioning-skipped", "provisioning-failure-trend", "governance-activity",
    "password-resets", "security-info-changes", "user-security-changes", "help",
}  # fmt: skip


def test_the_catalog_covers_the_seed_questions(catalog: Catalog) -> None:
    assert {command.name for command in catalog.commands} >= SEED_QUESTIONS


def test_every_presented_column_is_in_the_query_output(catalog: Catalog) -> None:
    from bot.ask.catalog import sample_bind

    with empty_tables_probe() as probe:
        for command in catalog.queries:
            columns = {name for name, _ in probe(sample_bind(command, catalog.limits).kql)}
            wanted = set(command.answer.columns if command.answer else ())
            assert wanted <= columns, (command.name, wanted - columns)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "questions.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """\
commands:
  - name: reviews-deleted
    title: Access reviews deleted
    description: Deleted reviews.
    examples: [deleted reviews, who deleted a review]
    parameters:
      window: {kind: window, default: 7d, description: the time range}
    query: |
      AuditLogs
      | where ActivityDisplayName == "Delete access review"
    answer: {summary: "{rows|review} {window}", empty: "None {window}."}
"""


def test_a_good_file_loads(tmp_path: Path) -> None:
    catalog = load_catalog([write(tmp_path, GOOD)])
    assert [c.name for c in catalog.commands] == ["reviews-deleted"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("    title:", "    titel:"), ":3:5: reviews-deleted: unknown key 'titel'"),
        (("default: 7d", "default: 7"), ":7:15: reviews-deleted: parameters.window: "),
        (("{rows|review}", "{rows}"), "reviews-deleted: answer: unknown field"),
        (('"Delete access review"', '"x" | where Id == job'), "reviews-deleted: query: parameter"),
        (("      AuditLogs\n", "      SigninLogs\n"), ":2:5: reviews-deleted: query: must start"),
        (("| where", "| whre"), ":2:5: reviews-deleted: query: line 2:"),
    ],
)
def test_each_problem_is_one_line_naming_file_position_and_command(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    text = GOOD.replace(*change)
    if "job" in change[1]:
        text = text.replace(
            "    parameters:\n", "    parameters:\n      other: {kind: job, description: x}\n"
        )
    path = write(tmp_path, text)
    with pytest.raises(CatalogError) as raised:
        load_catalog([path])
    assert any(expected in problem for problem in raised.value.problems), raised.value.problems
    assert all(problem.startswith(str(path)) for problem in raised.value.problems)


def test_duplicate_names_across_files_are_refused(tmp_path: Path) -> None:
    first = write(tmp_path, GOOD)
    second = tmp_path / "more.yaml"
    second.write_text(GOOD, encoding="utf-8")
    with pytest.raises(CatalogError, match="duplicate command name"):
        load_catalog([first, second])


def test_a_yaml_bomb_in_the_catalog_is_refused_with_its_position(tmp_path: Path) -> None:
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join([*levels, "commands: *a8"]) + "\n")
    with pytest.raises(CatalogError) as raised:
        load_catalog([path])
    assert raised.value.problems == [
        f"{path}:5:5: -: YAML: the aliases expand to more than 50000 values"
    ]
