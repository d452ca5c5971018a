"""Load the question catalog (config/questions/*.yaml) and check it, naming file, entry, position.

Every problem is one line `file:line:col: command: message`; a catalog with any problem
is refused whole (CatalogError). Beyond the models' own checks: command names are unique
across files, each template reads only the allowed tables as one tabular expression (so
it is read-only and cannot be chained), uses every parameter it declares (the window
excepted, which is never in the text), and parses once bound.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from bot.alerts.binding import MAX_NESTING, BindingError, significant_tokens, too_deep
from bot.alerts.yaml_source import Position, SourceMap, YamlSyntaxError, read_yaml
from bot.ask.bind import BoundQuestion, Value, bind_question
from bot.ask.model import (
    CatalogFile,
    Command,
    EntityKind,
    EntitySource,
    Limits,
    ParameterKind,
    Vocabulary,
)
from bot.ask.timephrases import TimeWindow
from bot.errors import ConfigError
from bot.workspace import kql_syntax

SUFFIXES: Final = (".yaml", ".yml")
NO_ENTRY: Final = "-"
_SAMPLE_VALUES: Final[dict[ParameterKind, Value]] = {"count": 10}
_SAMPLE_WINDOW: Final = TimeWindow(spec="24h", timespan=None, label="")


class CatalogError(ConfigError):
    """The catalog has problems; `problems` holds one `file:line:col: entry: message` each."""


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every command, the vocabulary, the limits, and where entity names come from."""

    commands: tuple[Command, ...]
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    limits: Limits = field(default_factory=Limits)
    entities: dict[EntityKind, EntitySource] = field(default_factory=dict)

    def find(self, name: str) -> Command | None:
        return next((command for command in self.commands if command.name == name), None)

    @property
    def queries(self) -> tuple[Command, ...]:
        return tuple(command for command in self.commands if command.kind == "query")


def load_catalog(paths: Sequence[Path]) -> Catalog:
    """The catalog in `paths` (files or directories of *.yaml); CatalogError if any problem."""
    files = list(_files(paths))
    if not files:
        raise CatalogError([f"{', '.join(map(str, paths))}:1:1: {NO_ENTRY}: no catalog files"])
    parts: list[tuple[str, CatalogFile, SourceMap]] = []
    problems: list[str] = []
    for path in files:
        loaded, found = _read(path)
        problems += found
        if loaded is not None:
            parts.append((str(path), *loaded))
    if problems:
        raise CatalogError(problems)
    catalog, problems = _assemble(parts)
    if problems:
        raise CatalogError(problems)
    return catalog


def _files(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
        else:
            yield path


def _read(path: Path) -> tuple[tuple[CatalogFile, SourceMap] | None, list[str]]:
    name = str(path)
    try:
        document = read_yaml(path)
    except (OSError, UnicodeDecodeError) as problem:
        return None, [_line(name, Position(1, 1), NO_ENTRY, f"cannot read the file: {problem}")]
    except YamlSyntaxError as problem:
        return None, [_line(name, problem.position, NO_ENTRY, str(problem))]
    source = document.source
    duplicates = [
        _line(name, where, _entry(document.data, path_), f"duplicate key {path_[-1]!r}")
        for path_, where in source.duplicates
    ]
    try:
        parsed = CatalogFile.model_validate(document.data or {})
    except ValidationError as invalid:
        return None, duplicates + [
            _validation_line(name, source, document.data, problem) for problem in invalid.errors()
        ]
    problems = duplicates + [
        _line(name, source.value(("commands", index)), command.name, message)
        for index, command in enumerate(parsed.commands)
        for message in template_problems(command, parsed.limits or Limits())
    ]
    return (parsed, source), problems


def template_problems(command: Command, limits: Limits) -> list[str]:
    """What is wrong with a command's KQL template (empty when it is fine)."""
    if command.query is None:
        return []
    tokens = significant_tokens(command.query)
    kinds = [kind for kind, _ in tokens]
    problems: list[str] = []
    if not tokens or kinds[0] != "IDENTIFIER" or tokens[0][1].text not in limits.tables:
        problems.append(f"query: must start with one of the tables {', '.join(limits.tables)}")
    if "SEMICOLON" in kinds:
        problems.append("query: one tabular expression only (no `;`, no `let`)")
    names = {token.text for kind, token in tokens if kind == "IDENTIFIER"}
    for name, spec in command.parameters.items():
        if spec.kind == "window" and name in names:
            problems.append(f"query: {name} is the time range; it is applied as the timespan")
        elif spec.kind != "window" and name not in names:
            problems.append(f"query: parameter {name} is declared but not used")
    if problems:
        return problems
    return _bound_problems(command, limits)


def sample_bind(command: Command, limits: Limits) -> BoundQuestion:
    """The command bound with harmless sample values (checks, tests)."""
    values = {name: _SAMPLE_VALUES.get(spec.kind, "x") for name, spec in command.parameters.items()}
    return bind_question(command, values, _SAMPLE_WINDOW, max_rows=limits.max_rows)


def _bound_problems(command: Command, limits: Limits) -> list[str]:
    try:
        bound = sample_bind(command, limits)
    except BindingError as problem:
        return [f"parameters: {problem}"]
    deep = too_deep(bound.kql)
    if deep is not None:
        return [f"query: brackets nested more than {MAX_NESTING} deep"]
    try:
        diagnostics = kql_syntax.diagnostics(bound.kql)
    except RecursionError:  # nesting of another kind than brackets
        return ["query: the template nests too deeply to be read"]
    if not diagnostics:
        return []
    first = diagnostics[0]
    prefix = 1 if bound.kql.startswith("let ") else 0
    return [f"query: line {first.span.line - prefix}: {first.message}"]


def _assemble(parts: list[tuple[str, CatalogFile, SourceMap]]) -> tuple[Catalog, list[str]]:
    problems: list[str] = []
    seen: dict[str, str] = {}
    commands: list[Command] = []
    for name, part, source in parts:
        for index, command in enumerate(part.commands):
            where = source.value(("commands", index))
            if command.name in seen:
                message = f"duplicate command name (first in {seen[command.name]})"
                problems.append(_line(name, where, command.name, message))
                continue
            seen[command.name] = f"{name}:{where.line}"
            commands.append(command)
    shared: dict[str, Any] = {}
    for key in ("vocabulary", "limits", "entities"):
        holders = [(name, part) for name, part, _ in parts if getattr(part, key) is not None]
        if len(holders) > 1:
            files = ", ".join(name for name, _ in holders)
            problems.append(f"{holders[1][0]}:1:1: {NO_ENTRY}: `{key}` is set in {files}; keep one")
        if holders:
            shared[key] = getattr(holders[0][1], key)
    return Catalog(commands=tuple(commands), **shared), problems


def _validation_line(name: str, source: SourceMap, data: Any, problem: Any) -> str:
    path = tuple(part for part in problem["loc"] if isinstance(part, str | int))
    field_name = ".".join(str(part) for part in path[2:]) or "entry"
    if problem["type"] == "extra_forbidden":
        message, where = f"unknown key {path[-1]!r}", source.key(path)
    elif problem["type"] == "missing":
        message, where = f"missing required key {path[-1]!r}", source.value(path[:-1])
    else:
        message = f"{field_name}: {problem['msg'].removeprefix('Value error, ')}"
        where = source.value(path)
    return _line(name, where, _entry(data, path), message)


def _entry(data: Any, path: tuple[str | int, ...]) -> str:
    """The command's name (or `commands[i]`) a path is in."""
    if len(path) < 2 or path[0] != "commands" or not isinstance(path[1], int):
        return NO_ENTRY
    commands = data.get("commands") if isinstance(data, dict) else None
    item = commands[path[1]] if isinstance(commands, list) and path[1] < len(commands) else None
    if isinstance(item, dict) and isinstance(item.get("name"), str):
        return str(item["name"])
    return f"commands[{path[1]}]"


def _line(name: str, where: Position, entry: str, message: str) -> str:
    return f"{name}:{where.line}:{where.column}: {entry}: {message}"
