"""`tostring(d.a.b)` rendered as one JSON read instead of an extract and a second read.

duckdb-kql renders the string form of a dynamic path as
``coalesce(json_extract(d, '$.a.b') ->> '$', '')``: the document is parsed to pull
out the value as JSON text, which is then parsed again to unquote it. DuckDB's
``d ->> '$.a.b'`` does both in one read and gives the same text for every kind of
value (a string unquoted, a number or composite as its JSON text, a JSON null or a
missing path as null, which the `coalesce` turns into ''); on the large demo a
`tostring(parse_json(SourceIdentity).Id)` filter took 17 % less time.

Only a path written out in full (property names that need no quoting, and array
indexes, `#-1` counting from the end) is rewritten, and only when the whole text is
that one `json_extract` call; anything else is left as duckdb-kql rendered it.
`install` wraps its renderer of a dynamic's string form.
"""

from __future__ import annotations

import functools
import re
from typing import Final

from duckdb_kql import translate as kql_translate

from bot.workspace.sql_text import balanced

_CALL: Final = "json_extract("
#: `, '$.a[0].b[#-1]')` closing the call: the static paths duckdb-kql writes.
_PATH_END: Final = re.compile(r", (?P<path>'\$(?:\.[A-Za-z_][A-Za-z0-9_]*|\[#?-?[0-9]+\])*')\)\Z")


def install() -> None:
    """Render the string form of static paths as above from now on. Idempotent."""
    unwrap = kql_translate._unwrap_json_scalar
    if getattr(unwrap, "reads_paths_once", False):
        return

    @functools.wraps(unwrap)
    def unwrap_json_scalar(rendered: str) -> str:
        return one_read(rendered) or unwrap(rendered)

    unwrap_json_scalar.reads_paths_once = True  # type: ignore[attr-defined]
    kql_translate._unwrap_json_scalar = unwrap_json_scalar


def one_read(rendered: str) -> str | None:
    """``coalesce((d) ->> '$.p', '')`` for exactly ``json_extract(d, '$.p')``, else None."""
    end = _PATH_END.search(rendered)
    if not rendered.startswith(_CALL) or end is None:
        return None
    document = rendered[len(_CALL) : end.start()]
    if not balanced(document):
        return None
    return f"coalesce(({document}) ->> {end['path']}, '')"
