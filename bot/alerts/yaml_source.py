"""Read YAML and remember where every value came from, so errors can name line and column.

PyYAML composes a node tree with marks; we build the plain data from it and a map
from each value's path (`("rules", 0, "query")`) to its position. Duplicate keys,
which PyYAML would silently resolve by keeping the last, are reported instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Position:
    """1-based line and column in the file."""

    line: int
    column: int


class YamlSyntaxError(ValueError):
    def __init__(self, message: str, position: Position) -> None:
        self.position = position
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class ScalarLayout:
    """How a text value sits in the file, to map a position inside it to the file's."""

    start: Position
    #: "|" for a literal block scalar, whose lines are the file's lines.
    style: str | None
    #: Indentation of a block scalar's content.
    indent: int = 0


@dataclass(slots=True)
class SourceMap:
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)
    scalars: dict[Path, ScalarLayout] = field(default_factory=dict)
    duplicates: list[tuple[Path, Position]] = field(default_factory=list)

    def value(self, path: Path) -> Position:
        """Where the value at `path` starts, or its nearest enclosing value."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.values:
                return self.values[path[:end]]
        return Position(1, 1)

    def key(self, path: Path) -> Position:
        """Where the key naming `path` is, else where its value is."""
        return self.keys.get(path) or self.value(path)

    def inside(self, path: Path, line: int, column: int) -> Position:
        """The file position of (line, column) (1-based) inside the text value at `path`."""
        layout = self.scalars.get(path)
        if layout is None:
            return self.value(path)
        if layout.style == "|":
            return Position(layout.start.line + line, layout.indent + column)
        if line == 1 and layout.style is None:
            return Position(layout.start.line, layout.start.column + column - 1)
        if line == 1 and layout.style in ('"', "'"):
            return Position(layout.start.line, layout.start.column + column)
        return layout.start


#: libyaml's composer when PyYAML was built with it (same nodes and marks, ~10x faster).
_FAST_COMPOSER: Any = getattr(yaml, "CSafeLoader", None)


def _compose(text: str) -> Any:
    """The node tree; on an error, PyYAML's own message (libyaml words errors otherwise)."""
    if _FAST_COMPOSER is not None:
        try:
            return yaml.compose(text, Loader=_FAST_COMPOSER)
        except yaml.MarkedYAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class YamlDocument:
    data: Any
    source: SourceMap


def load_yaml(text: str) -> YamlDocument:
    """Parse one YAML document (safe tags only) with positions."""
    try:
        node = _compose(text)
        data = yaml.SafeLoader(text).construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        raise YamlSyntaxError(_yaml_message(error), where) from None
    source = SourceMap()
    if node is not None:
        _walk(node, (), source, text.splitlines())
    return YamlDocument(data=data, source=source)


def _yaml_message(error: yaml.MarkedYAMLError) -> str:
    parts = [error.context, error.problem]
    return "YAML: " + ", ".join(part for part in parts if part)


def _walk(node: yaml.Node, path: Path, source: SourceMap, lines: list[str]) -> None:
    source.values[path] = _position(node.start_mark)
    if isinstance(node, yaml.ScalarNode):
        source.scalars[path] = _layout(node, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), source, lines)
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, str(key_node.value))
            if child in source.keys:
                source.duplicates.append((child, _position(key_node.start_mark)))
            source.keys[child] = _position(key_node.start_mark)
            _walk(value_node, child, source, lines)


def _layout(node: yaml.ScalarNode, lines: list[str]) -> ScalarLayout:
    start = _position(node.start_mark)
    if node.style != "|":
        return ScalarLayout(start=start, style=node.style)
    content = (line for line in lines[start.line :] if line.strip())
    first = next(content, "")
    return ScalarLayout(start=start, style="|", indent=len(first) - len(first.lstrip(" ")))


def _position(mark: yaml.Mark) -> Position:
    return Position(mark.line + 1, mark.column + 1)
