"""Load rule files and check them, reporting every problem as `file:line:col: rule-id: message`.

A rule file is YAML with a top-level `rules:` list (see config/rules/README.md).
`check_rules` returns the valid rules and every diagnostic; `load_rules` is what
the server uses: it raises ConfigError listing the errors, so an invalid rule set
never starts (and a reload that fails keeps the old set).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bot.alerts.diagnostics import Diagnostic, Finding, Level
from bot.alerts.kql_checks import OutputProbe, query_findings
from bot.alerts.rule_checks import setting_findings
from bot.alerts.rule_model import Rule
from bot.alerts.yaml_source import Position, SourceMap, YamlSyntaxError, read_yaml
from bot.errors import ConfigError

RULE_SUFFIXES: Final = (".yaml", ".yml")
NO_RULE: Final = "-"


@dataclass(frozen=True, slots=True)
class LoadedRule:
    rule: Rule
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The valid rules (with where they are defined) and every problem found."""

    rules: tuple[LoadedRule, ...]
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[str, ...]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]


def load_rules(paths: Sequence[Path], *, probe: OutputProbe | None = None) -> list[Rule]:
    """The rules in `paths`; ConfigError (one line per error) if any rule is invalid."""
    report = check_rules(paths, probe=probe)
    if report.errors:
        raise ConfigError([str(d) for d in report.errors])
    return [loaded.rule for loaded in report.rules]


def check_rules(paths: Sequence[Path], *, probe: OutputProbe | None = None) -> CheckReport:
    """Check every rule file under `paths` (files, or directories of *.yaml)."""
    files, diagnostics = rule_files(paths)
    loaded: list[LoadedRule] = []
    for file in files:
        file_rules, file_diagnostics = check_file(file, probe=probe)
        loaded += file_rules
        diagnostics += file_diagnostics
    unique, duplicates = _without_duplicates(loaded)
    return CheckReport(
        rules=tuple(unique),
        diagnostics=tuple(sorted(diagnostics + duplicates, key=_order)),
        files=tuple(str(file) for file in files),
    )


def rule_files(paths: Sequence[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """The files to read, in a stable order; a path that does not exist is an error."""
    files: list[Path] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in RULE_SUFFIXES and p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Diagnostic(str(path), 1, 1, NO_RULE, "no such file or directory"))
    return files, problems


def check_file(
    path: Path, *, probe: OutputProbe | None = None
) -> tuple[list[LoadedRule], list[Diagnostic]]:
    """The valid rules of one file, and its diagnostics."""
    name = str(path)
    try:
        document = read_yaml(path)
    except (OSError, UnicodeDecodeError) as problem:
        return [], [Diagnostic(name, 1, 1, NO_RULE, f"cannot read the file: {problem}")]
    except YamlSyntaxError as problem:
        where = problem.position
        return [], [Diagnostic(name, where.line, where.column, NO_RULE, str(problem))]
    items, problems = _rule_items(name, document.data, document.source)
    rules: list[LoadedRule] = []
    for index, item in enumerate(items):
        checked = _check_item(name, index, item, document.source, probe)
        problems += checked[1]
        if checked[0] is not None:
            rules.append(checked[0])
    return rules, problems + _duplicate_keys(name, document.data, document.source)


def _rule_items(name: str, data: Any, source: SourceMap) -> tuple[list[Any], list[Diagnostic]]:
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        message = "a rule file is a mapping with a `rules:` list"
        return [], [_diagnostic(name, source.value(()), NO_RULE, message)]
    problems = [
        _diagnostic(name, source.key((key,)), NO_RULE, f"unknown top-level key {key!r}")
        for key in data
        if key != "rules"
    ]
    return list(data["rules"]), problems


def _check_item(
    name: str, index: int, item: Any, source: SourceMap, probe: OutputProbe | None
) -> tuple[LoadedRule | None, list[Diagnostic]]:
    rule_id = _rule_id(item, index)
    base = ("rules", index)
    try:
        rule = Rule.model_validate(item)
    except ValidationError as invalid:
        findings = [_field_finding(problem) for problem in invalid.errors()]
        return None, [_locate(name, source, base, rule_id, f) for f in findings]
    findings = [*setting_findings(rule), *query_findings(rule, probe=probe)]
    diagnostics = [_locate(name, source, base, rule_id, f) for f in findings]
    if any(d.is_error for d in diagnostics):
        return None, diagnostics
    return LoadedRule(rule, name, source.value(base).line), diagnostics


def _rule_id(item: Any, index: int) -> str:
    if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"]:
        return str(item["id"])
    return f"rules[{index}]"


def _field_finding(problem: ErrorDetails) -> Finding:
    path = tuple(part for part in problem["loc"] if isinstance(part, str | int))
    field = ".".join(str(part) for part in path) or "rule"
    kind = problem["type"]
    if kind == "extra_forbidden":
        return Finding(path, f"unknown key {path[-1]!r}{_did_you_mean(path)}", at_key=True)
    if kind == "missing":
        return Finding(path[:-1], f"missing required key {field!r}")
    message = problem["msg"].removeprefix("Value error, ")
    return Finding(path, f"{field}: {message}")


def _did_you_mean(path: tuple[str | int, ...]) -> str:
    """A suggestion from the keys valid at that place in a rule."""
    model: type[BaseModel] | None = Rule
    for part in path[:-1]:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return ""
        model = _submodel(model.model_fields[part].annotation)
    if model is None:
        return ""
    close = difflib.get_close_matches(str(path[-1]), list(model.model_fields), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _submodel(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (`Renotify | None` holds Renotify)."""
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _locate(
    name: str, source: SourceMap, base: tuple[str | int, ...], rule_id: str, finding: Finding
) -> Diagnostic:
    path = (*base, *finding.path)
    if finding.line is not None and finding.column is not None:
        where = source.inside(path, finding.line, finding.column)
    elif finding.at_key:
        where = source.key(path)
    else:
        where = source.value(path)
    return _diagnostic(name, where, rule_id, finding.message, finding.level)


def _diagnostic(
    name: str, where: Position, rule_id: str, message: str, level: Level = "error"
) -> Diagnostic:
    return Diagnostic(name, where.line, where.column, rule_id, message, level)


def _duplicate_keys(name: str, data: Any, source: SourceMap) -> list[Diagnostic]:
    problems = []
    for path, where in source.duplicates:
        rule_id = NO_RULE
        if len(path) > 2 and path[0] == "rules" and isinstance(path[1], int):
            rule_id = _rule_id(data["rules"][path[1]] if isinstance(data, dict) else None, path[1])
        problems.append(_diagnostic(name, where, rule_id, f"duplicate key {path[-1]!r}"))
    return problems


def _without_duplicates(
    loaded: Iterable[LoadedRule],
) -> tuple[list[LoadedRule], list[Diagnostic]]:
    first: dict[str, LoadedRule] = {}
    problems: list[Diagnostic] = []
    for item in loaded:
        seen = first.setdefault(item.rule.id, item)
        if seen is not item:
            message = f"duplicate rule id (first defined at {seen.file}:{seen.line})"
            problems.append(Diagnostic(item.file, item.line, 1, item.rule.id, message))
    return list(first.values()), problems


def _order(diagnostic: Diagnostic) -> tuple[str, int, int]:
    return (diagnostic.file, diagnostic.line, diagnostic.column)
