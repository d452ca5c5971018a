"""Log Analytics wire values, as azure-monitor-query hands them over, to normalised Python.

The normalisation is the one bot.workspace.base documents. Two SDK behaviours are
undone here: null `timespan`/`guid` cells arrive as the string "None", and
datetimes with 7 fractional digits arrive unparsed.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from azure.monitor.query import LogsTable

from bot.errors import WorkspaceError
from bot.workspace.base import Column, ColumnType

_LOG = logging.getLogger(__name__)
_TYPE_ALIASES: Final[Mapping[str, ColumnType]] = {
    "boolean": "bool",
    "double": "real",
    "date": "datetime",
    "time": "timespan",
    "uniqueid": "guid",
}
_KNOWN_TYPES: Final = frozenset(
    ("string", "long", "int", "real", "bool", "datetime", "timespan", "guid", "dynamic", "decimal")
)
_TIMESPAN = re.compile(
    r"^(?P<sign>-)?(?:(?P<days>\d+)\.)?(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.(?P<f>\d{1,7}))?$"
)


def convert_table(table: LogsTable) -> tuple[tuple[Column, ...], tuple[tuple[Any, ...], ...]]:
    """Typed columns and normalised rows of one table the SDK returned."""
    columns = tuple(
        Column(name, _column_type(kind))
        for name, kind in zip(table.columns, table.columns_types, strict=True)
    )
    convert = [_NORMALISERS[column.type] for column in columns]
    try:
        rows = tuple(
            tuple(to(value) for to, value in zip(convert, row, strict=True)) for row in table.rows
        )
    except (ValueError, TypeError, InvalidOperation) as error:
        raise WorkspaceError(f"Log Analytics returned a value we cannot read: {error}") from error
    return columns, rows


def _column_type(kind: str) -> ColumnType:
    lowered = kind.lower()
    if lowered in _KNOWN_TYPES:
        return lowered  # type: ignore[return-value]
    if lowered in _TYPE_ALIASES:
        return _TYPE_ALIASES[lowered]
    _LOG.warning("unknown Log Analytics column type %r; values are kept as they came", kind)
    return "string"


def _datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # the SDK leaves what it could not parse as text
        value = _parse_iso(value)
    if not isinstance(value, datetime):
        raise ValueError(f"not a datetime: {value!r}")
    return as_utc(value)


def _parse_iso(text: str) -> datetime:
    # Python's parser takes at most 6 fractional digits; the service sends up to 7.
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", text.strip())
    return datetime.fromisoformat(trimmed.replace("Z", "+00:00"))


def _timespan(value: Any) -> timedelta | None:
    if value is None or value == "None":  # the SDK applies str() to null timespans
        return None
    if isinstance(value, timedelta):
        return value
    found = _TIMESPAN.match(str(value))
    if found is None:
        raise ValueError(f"not a timespan: {value!r}")
    ticks = int((found["f"] or "").ljust(7, "0"))
    span = timedelta(
        days=int(found["days"] or 0),
        hours=int(found["h"]),
        minutes=int(found["m"]),
        seconds=int(found["s"]),
        microseconds=ticks // 10,
    )
    return -span if found["sign"] else span


def _guid(value: Any) -> str | None:
    return None if value is None or value == "None" else str(value)


def _dynamic(value: Any) -> Any:
    """The service sends dynamic cells as JSON text; text that is not JSON stays text."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


def _keep(value: Any) -> Any:
    return value


_NORMALISERS: Final[Mapping[ColumnType, Callable[[Any], Any]]] = {
    "string": _keep,
    "long": _optional(int),
    "int": _optional(int),
    "real": _optional(float),
    "bool": _bool,
    "datetime": _datetime,
    "timespan": _timespan,
    "guid": _guid,
    "dynamic": _dynamic,
    "decimal": _optional(lambda value: Decimal(str(value))),
}


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
