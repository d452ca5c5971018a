"""DuckDB result values to the normalised Python values of bot.workspace.base, by column.

The conversion a column needs follows from its DuckDB type, so it is chosen once per
column and most columns (text, numbers) need none; a value of a type not listed
goes through the general rule, which is the one every column used to pay for.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from bot.workspace.base import ColumnType

Converter = Callable[[Any], Any]

#: Decodes without `json.loads`' wrapping (type checks, two whitespace regexes), which
#: cost more than the decoding itself for the small documents of dynamic columns.
_DECODER: Final = json.JSONDecoder()

#: DuckDB types whose Python values are already what base documents.
_AS_THEY_ARE: Final = frozenset(
    {
        "VARCHAR",
        "BIGINT",
        "INTEGER",
        "SMALLINT",
        "TINYINT",
        "UBIGINT",
        "UINTEGER",
        "USMALLINT",
        "UTINYINT",
        "HUGEINT",
        "DOUBLE",
        "FLOAT",
        "BOOLEAN",
        "INTERVAL",
    }
)


def converters(columns: Iterable[tuple[ColumnType, str]]) -> list[Converter | None]:
    """Per column (Log Analytics type, DuckDB type): how to convert a non-null value,
    or None when values are kept as they are."""
    return [_converter(kind, duckdb_type) for kind, duckdb_type in columns]


def _converter(kind: ColumnType, duckdb_type: str) -> Converter | None:
    if duckdb_type in _AS_THEY_ARE:
        return None
    if kind == "datetime":
        return _datetime
    if kind == "dynamic":
        return _dynamic
    if kind == "decimal":
        return _decimal
    return _general


def _datetime(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return _general(value)


def _dynamic(value: Any) -> Any:
    if not isinstance(value, str):
        return _general(value)
    try:
        decoded, end = _DECODER.raw_decode(value)
    except ValueError:
        return json.loads(value)  # leading whitespace is allowed there; or its error
    # Trailing text (whitespace, or an error json.loads reports) goes the long way.
    return decoded if end == len(value) else json.loads(value)


def _decimal(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


def _general(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    return value
