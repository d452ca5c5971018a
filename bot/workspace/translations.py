"""KQL -> DuckDB SQL translations, made once and reused (in memory, and on disk if asked).

Translating with duckdb-kql means an ANTLR parse in pure Python: 50-300 ms a query
on this machine, far more than running it on the demo data. A translation depends on
the query text, the tables' columns and the function overrides of kql_compat, never
on the time: `now()` / `ago()` render as the parameter `$kqlnow`, bound at run time.
So a translation made once is valid for every later run of the same text.

The disk cache (one small JSON file per query under `directory`, written atomically)
lets a new process, such as a CLI call or a restarted bot, skip the parse too. Its
key includes the duckdb-kql version and the source of kql_compat, so an upgrade or a
changed rewrite never reuses an old translation. Only translations whose bound values
are plain JSON values are stored on disk; the others stay in memory.

`share_parses` makes duckdb-kql's own parser remember its last parse trees, so the
syntax check and the translation of the same text (rule validation does both) parse
it once.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Final

import duckdb_kql
from duckdb_kql import parser as kql_parser
from duckdb_kql.params import as_datetime
from duckdb_kql.translate import CLOCK_SLOT

from bot.workspace.sql_stages import flattened

#: Stands in for the query's "now" while translating; replaced by the real one at run time.
#: A `set query_now = ...` inside the query pins another value, which is kept.
_CLOCK_STANDIN: Final = datetime(1900, 1, 1, tzinfo=UTC)
_MEMORY_ENTRIES: Final = 512
_PARSES_KEPT: Final = 64
_PLAIN: Final = (str, int, float, bool, type(None))


@dataclass(frozen=True, slots=True)
class Translation:
    """SQL with its bound values; `uses_clock`: `$kqlnow` takes the query's now."""

    sql: str
    parameters: dict[str, Any]
    uses_clock: bool

    def parameters_at(self, now: datetime) -> dict[str, Any]:
        if not self.uses_clock:
            return self.parameters
        return {**self.parameters, CLOCK_SLOT: as_datetime(now, "query_now")}


class Translator:
    """Translations of KQL for one fixed table schema, cached by query text."""

    def __init__(self, schema: dict[str, list[str]], *, directory: Path | None = None) -> None:
        self._schema = schema
        self._directory = directory
        self._memory: OrderedDict[str, Translation] = OrderedDict()
        self._lock = threading.Lock()
        self._salt = _salt(schema)

    def translate(self, kql: str) -> Translation:
        """The translation of `kql`; duckdb-kql's errors propagate and are never cached."""
        key = hashlib.sha256((self._salt + kql).encode()).hexdigest()
        with self._lock:
            found = self._memory.get(key)
            if found is not None:
                self._memory.move_to_end(key)
                return found
        found = self._read(key) or self._translate(kql, key)
        with self._lock:
            self._memory[key] = found
            if len(self._memory) > _MEMORY_ENTRIES:
                self._memory.popitem(last=False)
        return found

    def _translate(self, kql: str, key: str) -> Translation:
        result = duckdb_kql.to_sql(
            kql, schema=self._schema, allow_write=False, query_now=_CLOCK_STANDIN
        )
        if result.unbound:
            raise duckdb_kql.KqlSchemaError(
                ", ".join(result.unbound),
                hint="declared query parameter with no value and no default",
            )
        parameters = dict(result.parameters)
        uses_clock = parameters.get(CLOCK_SLOT) == as_datetime(_CLOCK_STANDIN, "query_now")
        if uses_clock:
            del parameters[CLOCK_SLOT]
        translation = Translation(flattened(str(result)), parameters, uses_clock)
        self._write(key, translation)
        return translation

    def _read(self, key: str) -> Translation | None:
        if self._directory is None:
            return None
        try:
            data = json.loads((self._directory / f"{key}.json").read_text(encoding="utf-8"))
            return Translation(str(data["sql"]), dict(data["parameters"]), bool(data["clock"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or unreadable: translate again (and rewrite it)

    def _write(self, key: str, translation: Translation) -> None:
        values = translation.parameters.values()
        if self._directory is None or not all(isinstance(v, _PLAIN) for v in values):
            return
        document = {
            "sql": translation.sql,
            "parameters": translation.parameters,
            "clock": translation.uses_clock,
        }
        with contextlib.suppress(OSError):  # a cache that cannot be written only costs time
            write_atomically(self._directory / f"{key}.json", json.dumps(document).encode())


def write_atomically(path: Path, data: bytes) -> None:
    """Write `path` so that readers see the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def share_parses() -> None:
    """Keep duckdb-kql's recent parse trees, so one text is parsed once. Idempotent.

    Trees are only read after parsing (lowering walks them), so sharing one between
    a syntax check and a translation, or between threads, is safe.
    """
    build = kql_parser._build
    if not hasattr(build, "cache_info"):
        kql_parser._build = functools.lru_cache(maxsize=_PARSES_KEPT)(build)


@functools.cache
def code_version() -> str:
    """duckdb-kql's version and our rewrites' source: what a translation depends on."""
    digest = hashlib.sha256()
    for module in (
        "kql_compat.py",
        "kql_tokens.py",
        "kql_rewrites.py",
        "kql_aggregates.py",
        "kql_filters.py",
        "kql_json_paths.py",
        "kql_bins.py",
        "sql_text.py",
        "sql_stages.py",
    ):
        digest.update(resources.files("bot.workspace").joinpath(module).read_bytes())
    return f"{duckdb_kql.__version__}:{digest.hexdigest()}"


def _salt(schema: dict[str, list[str]]) -> str:
    return f"{code_version()}:{json.dumps(schema, sort_keys=True)}\n"
