"""The template binder: the subset of Adaptive Card templating our cards use."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.channels.teams.cards.binder import BindError, bind


def test_a_whole_expression_keeps_the_value_type() -> None:
    data = {"n": 3, "ok": True, "obj": {"a": 1}, "items": [1, 2], "f": 1.5}
    template = {"n": "${n}", "ok": "${ok}", "obj": "${obj}", "items": "${items}", "f": "${f}"}
    assert bind(template, data) == data


def test_expressions_inside_text_become_text() -> None:
    data = {"who": "Alex", "n": 3, "ok": False, "none": None}
    assert bind({"t": "by ${who}: ${n} ${ok}${none}."}, data) == {"t": "by Alex: 3 false."}


def test_null_drops_the_property_and_the_array_item() -> None:
    assert bind({"a": "${x}", "b": 1, "list": ["${x}", 2]}, {"x": None}) == {"b": 1, "list": [2]}


def test_data_over_a_list_repeats_the_item_in_place() -> None:
    template = {"rows": [{"k": "head"}, {"$data": "${rows}", "k": "${name}", "i": "${$index}"}]}
    data = {"rows": [{"name": "a"}, {"name": "b"}]}
    assert bind(template, data) == {"rows": [{"k": "head"}, {"k": "a", "i": 0}, {"k": "b", "i": 1}]}


def test_data_over_strings_and_nested_lists() -> None:
    template = {"rows": [{"$data": "${rows}", "cells": [{"$data": "${cells}", "t": "${$data}"}]}]}
    data = {"rows": [{"cells": ["x", "y"]}, {"cells": []}]}
    assert bind(template, data) == {"rows": [{"cells": [{"t": "x"}, {"t": "y"}]}, {"cells": []}]}


def test_data_over_an_object_changes_scope_and_root_stays_reachable() -> None:
    template = {"x": {"$data": "${inner}", "v": "${v}", "top": "${$root.top}"}}
    assert bind(template, {"inner": {"v": 1}, "top": 2}) == {"x": {"v": 1, "top": 2}}


def test_data_that_is_null_drops_the_object() -> None:
    template = {"items": [{"$data": "${chart}", "t": "${title}"}], "x": {"$data": "${chart}"}}
    assert bind(template, {"chart": None}) == {"items": []}


@pytest.mark.parametrize(
    ("when", "value", "kept"),
    [
        ("${flag}", True, True),
        ("${flag}", False, False),
        ("${!flag}", False, True),
        ("${ !flag }", True, False),
        ("${flag}", [], False),
        ("${flag}", "text", True),
        ("${flag}", None, False),
    ],
)
def test_when_keeps_or_drops(when: str, value: Any, kept: bool) -> None:
    result = bind({"items": [{"$when": when, "t": 1}]}, {"flag": value})
    assert result == {"items": [{"t": 1}] if kept else []}


@pytest.mark.parametrize(
    "template",
    [
        {"t": "${missing}"},
        {"t": "${a.missing}"},
        {"t": "${a.b()}"},
        {"t": "${a + 1}"},
        {"t": "${if(a, 1, 2)}"},
        {"items": [{"$data": "not an expression"}]},
        {"items": [{"$when": "${a} and more"}]},
        {"x": {"$data": "${list}"}},
        {"t": "text ${list}"},
        {"t": "${$index}"},
    ],
)
def test_template_mistakes_are_errors_naming_the_place(template: dict[str, Any]) -> None:
    with pytest.raises(BindError, match=r"^\$"):
        bind(template, {"a": {"b": 1}, "list": [1]})


@pytest.mark.parametrize(
    "hostile",
    [
        '", "injected": true, "x": "',
        "${a}",
        "} ] { \\u0022",
        "</script><b>*bold* [link](https://evil.example)</b>",
        "\n\r\t\x00",
    ],
)
def test_values_never_change_the_structure(hostile: str) -> None:
    template = {"type": "TextRun", "text": "${v}", "label": "before ${v} after", "a": "${a}"}
    result = bind(template, {"v": hostile, "a": "safe"})
    assert set(result) == {"type", "text", "label", "a"}
    assert result["text"] == hostile
    assert result["label"] == f"before {hostile} after"
    assert json.loads(json.dumps(result)) == result


def test_the_template_is_not_modified() -> None:
    template = {"items": [{"$data": "${rows}", "t": "${name}"}]}
    before = json.dumps(template)
    bind(template, {"rows": [{"name": "a"}]})
    assert json.dumps(template) == before
