"""Cut query rows into a card table: the telling columns, a few rows, short cells. Pure.

Log Analytics rows are wide (AuditLogs has over 30 columns, many of them JSON or the
same on every row), and a Teams card is narrow and small. We keep the time, the
alert's dimensions and measure column, then columns that carry a readable, varying
value, and say what was left out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from bot import messages
from bot.views.model import Fact, Row, Table
from bot.views.text import cell

MAX_ROWS: Final = 10
#: More columns overlap in Teams' narrow card column (seen in the Agents Playground).
MAX_COLUMNS: Final = 4
MAX_COMMON: Final = 4
CELL_LIMIT: Final = 80

#: Columns every table has that say nothing about this problem.
_NOISE: Final = frozenset(
    {
        "TenantId", "AADTenantId", "SourceSystem", "Type", "_ResourceId", "ResourceId",
        "Id", "CorrelationId", "OperationVersion", "Level", "Location", "ResourceGroup",
        "ResourceProvider", "Resource", "Identity", "CycleId", "ChangeId", "ResultType",
        "DurationMs", "AADOperationType", "LoggedByService", "Category", "OperationName",
        "ActivityDateTime",
    }
)  # fmt: skip
#: Columns worth showing when nothing more specific fills the table.
_TELLING: Final = (
    "ActivityDisplayName",
    "Result",
    "ResultReason",
    "ResultDescription",
    "ProvisioningAction",
    "Action",
    "ResultSignature",
)


def from_rows(
    rows: Sequence[Mapping[str, Any]],
    *,
    dimensions: Sequence[str] = (),
    measure_column: str | None = None,
    total_rows: int | None = None,
) -> Table | None:
    """A table of the telling columns of `rows` (dicts), or None when there are none."""
    if not rows:
        return None
    names = list(dict.fromkeys(name for row in rows for name in row))
    same = _constant(names, rows) if len(rows) > 1 else []
    varying = [n for n in names if n not in same]
    chosen = choose_columns(varying, rows, dimensions=dimensions, measure_column=measure_column)
    if not chosen:  # every column is the same on every row: show one row
        chosen, same, rows = choose_columns(names, rows, dimensions=dimensions), [], rows[:1]
    # The alert's dimensions are already on the card; other shared values are worth a line.
    common = [n for n in choose_columns(same, rows, limit=MAX_COMMON) if n not in dimensions]
    matrix = [[row.get(name) for name in chosen] for row in rows]
    result = table(chosen, matrix, total_rows=total_rows, all_columns=varying)
    facts = tuple(Fact(name=n, value=cell(rows[0].get(n), CELL_LIMIT)) for n in common)
    return result.model_copy(update={"common": facts})


def _constant(names: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Columns with one plain value, the same in every row."""
    first = rows[0]
    return [
        name
        for name in names
        if not isinstance(first.get(name), dict | list)
        and all(row.get(name) == first.get(name) for row in rows[1:])
    ]


def choose_columns(
    names: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    *,
    dimensions: Sequence[str] = (),
    measure_column: str | None = None,
    limit: int = MAX_COLUMNS,
) -> list[str]:
    """Time first, then dimensions, the measure, well-known columns, then the rest."""
    present = set(names)
    preferred = [
        "TimeGenerated",
        *dimensions,
        *([measure_column] if measure_column else []),
        *_TELLING,
    ]
    ordered = [n for n in dict.fromkeys(preferred) if n in present]
    ordered += [n for n in names if n not in ordered and n not in _NOISE]
    readable = [n for n in ordered if _readable(n, rows) or n in dimensions]
    return readable[:limit]


def _readable(name: str, rows: Sequence[Mapping[str, Any]]) -> bool:
    """Some row has a plain, non-empty value (JSON objects are for the portal, whether
    they come parsed or as the text of a dynamic column, as Log Analytics sends them)."""
    return any(_plain(row.get(name)) for row in rows)


def _plain(value: Any) -> bool:
    if value in (None, "") or isinstance(value, dict | list):
        return False
    return not (isinstance(value, str) and _json_text(value.strip()))


def _json_text(text: str) -> bool:
    if (text[:1], text[-1:]) not in (("{", "}"), ("[", "]")):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    total_rows: int | None = None,
    all_columns: Sequence[str] | None = None,
    max_rows: int = MAX_ROWS,
    cell_limit: int = CELL_LIMIT,
) -> Table:
    """The first `max_rows` rows with cells as short text, and notes on what was cut."""
    shown = [Row(cells=tuple(cell(v, cell_limit) for v in row)) for row in rows[:max_rows]]
    total = max(total_rows if total_rows is not None else len(rows), len(shown))
    more = total - len(shown)
    hidden = [n for n in (all_columns or columns) if n not in columns]
    return Table(
        columns=tuple(cell(c, 40) for c in columns),
        rows=tuple(shown),
        more_rows=more,
        more_note=messages.more_rows(more) if more else "",
        hidden_note=messages.hidden_columns(hidden) if hidden else "",
        cell_limit=cell_limit,
    )
