"""Bind data into an Adaptive Card template: the subset of the templating language we use.

Works on parsed JSON, never on JSON text, so a value can only ever become a JSON
value: a string stays a string, whatever characters it holds. Supported:

- `"${path}"` as a whole string: the value itself (any JSON type). `null` drops the
  property, or the array item.
- `"text ${path} text"`: the values' text put into the string (strings and numbers
  only; a list or an object there is a template error).
- `"$data": "${path}"` on an object: a list repeats the object once per item (inside an
  array, the copies take its place), an object becomes the scope, `null` drops it.
- `"$when": "${path}"` or `"${!path}"`: the object is kept only if the value is truthy
  (or falsy).
- Paths: `name.name...` from the current scope, `$root...`, `$data` (the current item)
  and `$index` (its position). No functions or operators.

An unknown name is an error (BindError), not an empty string: view models are typed,
so a name the data lacks is a bug in the template.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

_EXPRESSION: Final = re.compile(r"\$\{([^{}]*)\}")
_WHOLE: Final = re.compile(r"^\$\{([^{}]*)\}$")
_PATH: Final = re.compile(r"^(?:\$root|\$data|\$index|[A-Za-z_]\w*)(?:\.[A-Za-z_]\w*)*$")
_DROP: Final = object()


class BindError(ValueError):
    """The template asks for something the data does not have, or uses unsupported syntax."""


@dataclass(frozen=True, slots=True)
class _Scope:
    data: Any
    root: Any
    index: int | None = None


def bind(template: Any, data: Mapping[str, Any]) -> Any:
    """The template with every expression replaced by values from `data`."""
    result = _node(template, _Scope(data=data, root=data), "$")
    return None if result is _DROP else result


def _node(node: Any, scope: _Scope, where: str) -> Any:
    if isinstance(node, dict):
        return _object(node, scope, where)
    if isinstance(node, list):
        return _array(node, scope, where)
    if isinstance(node, str):
        return _string(node, scope, where)
    return node


def _array(items: list[Any], scope: _Scope, where: str) -> list[Any]:
    result: list[Any] = []
    for position, item in enumerate(items):
        at = f"{where}[{position}]"
        if isinstance(item, dict) and "$data" in item:
            result += _repeat(item, scope, at)
            continue
        value = _node(item, scope, at)
        if value is not _DROP:
            result.append(value)
    return result


def _repeat(item: dict[str, Any], scope: _Scope, where: str) -> list[Any]:
    """An array item with `$data`: one copy per list element, or one with a new scope."""
    source = _data_source(item, scope, where)
    body = {key: value for key, value in item.items() if key != "$data"}
    if source is None:
        return []
    scopes = (
        [_Scope(data=element, root=scope.root, index=i) for i, element in enumerate(source)]
        if isinstance(source, list)
        else [_Scope(data=source, root=scope.root)]
    )
    copies = (_object(body, inner, where) for inner in scopes)
    return [copy for copy in copies if copy is not _DROP]


def _object(node: dict[str, Any], scope: _Scope, where: str) -> Any:
    if "$data" in node:
        source = _data_source(node, scope, where)
        if isinstance(source, list):
            raise BindError(f"{where}: $data is a list here; repeat items only inside an array")
        if source is None:
            return _DROP
        scope = _Scope(data=source, root=scope.root)
    if "$when" in node and not _when(node["$when"], scope, where):
        return _DROP
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$data", "$when"):
            continue
        bound = _node(value, scope, f"{where}.{key}")
        if bound is not _DROP and bound is not None:
            result[key] = bound
    return result


def _data_source(node: dict[str, Any], scope: _Scope, where: str) -> Any:
    expression = node["$data"]
    match = _WHOLE.match(expression) if isinstance(expression, str) else None
    if match is None:
        raise BindError(f"{where}: $data must be one ${{path}} expression")
    return _resolve(match.group(1), scope, f"{where}.$data")


def _when(expression: Any, scope: _Scope, where: str) -> bool:
    match = _WHOLE.match(expression) if isinstance(expression, str) else None
    if match is None:
        raise BindError(f"{where}: $when must be ${{path}} or ${{!path}}")
    text = match.group(1).strip()
    negate = text.startswith("!")
    value = _resolve(text.removeprefix("!").strip(), scope, f"{where}.$when")
    return not value if negate else bool(value)


def _string(text: str, scope: _Scope, where: str) -> Any:
    whole = _WHOLE.match(text)
    if whole is not None:
        value = _resolve(whole.group(1), scope, where)
        return _DROP if value is None else value
    return _EXPRESSION.sub(lambda match: _text(match.group(1), scope, where), text)


def _text(expression: str, scope: _Scope, where: str) -> str:
    value = _resolve(expression, scope, where)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise BindError(f"{where}: ${{{expression}}} is a {type(value).__name__}, not text")


def _resolve(expression: str, scope: _Scope, where: str) -> Any:
    path = expression.strip()
    if not _PATH.match(path):
        raise BindError(f"{where}: unsupported expression ${{{expression}}}")
    head, *rest = path.split(".")
    value = _start(head, scope, where)
    for name in rest:
        value = _member(value, name, path, where)
    return value


def _start(head: str, scope: _Scope, where: str) -> Any:
    if head == "$root":
        return scope.root
    if head == "$data":
        return scope.data
    if head == "$index":
        if scope.index is None:
            raise BindError(f"{where}: $index outside a repeated item")
        return scope.index
    return _member(scope.data, head, head, where)


def _member(value: Any, name: str, path: str, where: str) -> Any:
    if not isinstance(value, Mapping) or name not in value:
        raise BindError(f"{where}: ${{{path}}}: no {name!r} in the data")
    return value[name]
