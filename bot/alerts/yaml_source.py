"""Read YAML and remember where every value came from, so errors can name line and column.

PyYAML composes a node tree with marks; we build the plain data from it and a map
from each value's path (`("rules", 0, "query")`) to its position. Duplicate keys,
which PyYAML would silently resolve by keeping the last, are reported instead.

Configuration files are written by people, but a wrong or hostile one must not take the
bot down: a file is at most MAX_FILE_BYTES, nests at most MAX_DEPTH deep, and holds at
most MAX_VALUES values once its aliases are expanded (a "billion laughs" file, a few
lines whose aliases expand to billions of values, is refused before anything walks it);
an alias inside the value it names is refused too. Each of these is a YamlSyntaxError
with a position, like any other mistake in the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any, Final

import yaml

Path = tuple[str | int, ...]

#: Rule and catalog files are a few kilobytes; the largest shipped one is 17 KB.
MAX_FILE_BYTES: Final = 256 * 1024
#: Deeper nesting is no configuration (and would exhaust PyYAML's recursive composer).
MAX_DEPTH: Final = 40
#: Values (scalars, lists, mappings) after expanding aliases.
MAX_VALUES: Final = 50_000


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


@dataclass(frozen=True, slots=True)
class YamlDocument:
    data: Any
    source: SourceMap


def read_yaml(path: FilePath) -> YamlDocument:
    """Read and parse a file; OSError or UnicodeDecodeError if it cannot be read,
    YamlSyntaxError if it is too large or not valid YAML."""
    with path.open("rb") as file:
        raw = file.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        message = f"the file is larger than {MAX_FILE_BYTES // 1024} KB; is it the right file?"
        raise YamlSyntaxError(message, Position(1, 1))
    return load_yaml(raw.decode("utf-8"))


def load_yaml(text: str) -> YamlDocument:
    """Parse one YAML document (safe tags only) with positions."""
    node: yaml.Node | None = None
    try:
        loader = _BoundedLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _check_expansion(node)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        raise YamlSyntaxError(_yaml_message(error), where) from None
    except yaml.reader.ReaderError as error:
        raise YamlSyntaxError(_reader_message(error), _offset(text, error.position)) from None
    except (ValueError, OverflowError) as error:  # a scalar PyYAML cannot convert
        where = _position(node.start_mark) if node is not None else Position(1, 1)
        raise YamlSyntaxError(f"YAML: cannot read a value: {error}", where) from None
    source = SourceMap()
    if node is not None:
        _walk(node, (), source, text.splitlines())
    return YamlDocument(data=data, source=source)


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, refusing nesting deeper than MAX_DEPTH while it composes."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self._depth >= MAX_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, f"values nested more than {MAX_DEPTH} deep", mark
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _check_expansion(root: yaml.Node) -> None:
    """Refuse aliases that expand past MAX_VALUES values or MAX_DEPTH levels, or into
    themselves. Linear in the composed nodes: each distinct node is sized once."""
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth) once expanded
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            sizes[key] = _expanded(node, sizes)
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise _expansion_error(node, "an alias refers to a value that contains it")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def _expanded(node: yaml.Node, sizes: dict[int, tuple[int, int]]) -> tuple[int, int]:
    children = [sizes[id(child)] for child in _children(node)]
    values = 1 + sum(size for size, _ in children)
    depth = 1 + max((depth for _, depth in children), default=0)
    if values > MAX_VALUES:
        raise _expansion_error(node, f"the aliases expand to more than {MAX_VALUES} values")
    if depth > MAX_DEPTH:
        raise _expansion_error(node, f"the aliases nest values more than {MAX_DEPTH} deep")
    return values, depth


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        yield from node.value
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            yield key_node
            yield value_node


def _expansion_error(node: yaml.Node, problem: str) -> yaml.MarkedYAMLError:
    return yaml.composer.ComposerError(None, None, problem, node.start_mark)


def _reader_message(error: yaml.reader.ReaderError) -> str:
    if isinstance(error.character, bytes):
        return f"YAML: cannot decode byte #x{ord(error.character):02x}: {error.reason}"
    return f"YAML: character #x{error.character:04x} is not allowed: {error.reason}"


def _offset(text: str, index: int) -> Position:
    before = text[:index]
    return Position(before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1)


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
