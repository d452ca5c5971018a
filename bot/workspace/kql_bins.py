"""`bin(datetime, 1d)` rendered with DuckDB's `time_bucket` from the Unix epoch.

duckdb-kql bins a datetime on epoch seconds as doubles,
``to_timestamp(floor(epoch(t) / epoch(w)) * epoch(w)) AT TIME ZONE 'UTC'``, so that
buckets start at the Unix epoch as in Kusto (`time_bucket`'s default origin is
2000-01-03). Given that origin, ``time_bucket(w, t, TIMESTAMP '1970-01-01')`` is
the same bucket computed on whole microseconds, three times faster on the large
demo (29 ms against 86 ms to bin 1.6 million rows by day).

Only widths written as a whole number of days, hours, minutes or seconds are
rewritten (where the doubles are exact too), and only when the text is exactly
duckdb-kql's datetime form; a timespan binned, a numeric bin or any other width
stays as rendered. `install` wraps the renderer of `bin` and its alias `floor`.
"""

from __future__ import annotations

import functools
import re
from typing import Final

from duckdb_kql import ir
from duckdb_kql import translate as kql_translate

from bot.workspace.sql_text import balanced

_HEAD: Final = "to_timestamp(floor(epoch("
_TAIL: Final = re.compile(
    r"\) / epoch\((?P<width>INTERVAL '[1-9][0-9]{0,5}[dhms]')\)\) \* epoch\((?P=width)\)\) "
    r"AT TIME ZONE 'UTC'\Z"
)


def install() -> None:
    """Render datetime bins as above from now on. Idempotent."""
    forms = kql_translate._SPECIAL_FORMS
    render = forms["bin"]
    if getattr(render, "buckets_from_epoch", False):
        return

    @functools.wraps(render)
    def render_bin(node: ir.FunctionCall) -> str | None:
        sql = render(node)
        return None if sql is None else bucketed(sql) or sql

    render_bin.buckets_from_epoch = True  # type: ignore[attr-defined]
    forms["bin"] = forms["floor"] = render_bin


def bucketed(rendered: str) -> str | None:
    """The `time_bucket` form of exactly duckdb-kql's datetime bin, else None."""
    tail = _TAIL.search(rendered)
    if not rendered.startswith(_HEAD) or tail is None:
        return None
    value = rendered[len(_HEAD) : tail.start()]
    if not balanced(value):
        return None
    return f"time_bucket({tail['width']}, CAST({value} AS TIMESTAMP), TIMESTAMP '1970-01-01')"
