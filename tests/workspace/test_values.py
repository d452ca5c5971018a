"""Result conversion: dynamic values decode exactly as json.loads decodes them."""

from __future__ import annotations

import json

import pytest

from bot.workspace.values import converters

DOCUMENTS = [
    '{"user": {"displayName": "Alex", "id": null}, "app": null}',
    "[]",
    '[{"key": "Description", "value": "Contoso\\n1111"}]',
    '"just a string"',
    '"\\u00e9t\\u00e9 \\ud83d\\ude00"',
    "12345678901234567890",
    "-0.5e3",
    "true",
    "null",
    '  {"padded": 1}  ',
    '{"a": 1}\n',
    '{"dup": 1, "dup": 2}',
    "NaN",
    "[1, 2, 3]",
]
BROKEN = ["", "{", '{"a": 1} x', "\ufeff{}", "[1,]", "'single'"]


@pytest.fixture
def dynamic() -> object:
    (convert,) = converters([("dynamic", "JSON")])
    assert convert is not None
    return convert


@pytest.mark.parametrize("document", DOCUMENTS)
def test_dynamic_values_decode_as_json_loads_does(dynamic: object, document: str) -> None:
    expected = json.loads(document)
    decoded = dynamic(document)  # type: ignore[operator]
    assert json.dumps(decoded) == json.dumps(expected)
    assert type(decoded) is type(expected)


@pytest.mark.parametrize("document", BROKEN)
def test_undecodable_text_fails_as_json_loads_does(dynamic: object, document: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(document)
    with pytest.raises(json.JSONDecodeError) as raised:
        dynamic(document)  # type: ignore[operator]
    assert str(raised.value) == str(expected.value)
