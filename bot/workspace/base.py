"""The workspace interface: run KQL over a time span and get a typed table back.

Row values are normalised the same way by every implementation, so callers never
care where a query ran: `datetime` values are timezone-aware UTC, `timespan` values
are `timedelta`, `dynamic` values are decoded JSON (dict, list, str, number, bool,
None), `guid` values are strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

#: Log Analytics column type names.
ColumnType = Literal[
    "string", "long", "int", "real", "bool", "datetime", "timespan", "guid", "dynamic", "decimal"
]

#: A query's time range: a duration ending now, or an explicit [start, end) interval.
#: `None` means no time filter beyond what the query itself says.
TimeSpan = timedelta | tuple[datetime, datetime] | None


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType


@dataclass(frozen=True, slots=True)
class QueryResult:
    """The primary table of a query, with how long it took and any partial failure."""

    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]]
    elapsed_ms: float
    partial_error: str | None = None
    render: dict[str, Any] | None = field(default=None)

    def column_index(self, name: str) -> int:
        """Position of a column by name; raises KeyError with the known names."""
        for index, column in enumerate(self.columns):
            if column.name == name:
                return index
        raise KeyError(f"no column {name!r}; columns are {[c.name for c in self.columns]}")

    def as_dicts(self) -> list[dict[str, Any]]:
        names = [c.name for c in self.columns]
        return [dict(zip(names, row, strict=True)) for row in self.rows]


class Workspace(Protocol):
    """Something that answers KQL. Implementations: local (DuckDB) and azure."""

    async def query(self, kql: str, *, timespan: TimeSpan) -> QueryResult:
        """Run `kql` restricted to `timespan` (on TimeGenerated, as Log Analytics does).

        Raises QueryError for a wrong query and RetryableWorkspaceError subclasses
        for failures that may pass on a later try.
        """
        ...

    async def close(self) -> None: ...


def resolve_timespan(timespan: TimeSpan, *, now: datetime) -> tuple[datetime, datetime] | None:
    """Turn a duration into the absolute interval it means at `now`."""
    if timespan is None:
        return None
    if isinstance(timespan, timedelta):
        return (now - timespan, now)
    return timespan
