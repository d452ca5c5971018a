"""Syntax checks of KQL text, remembered when clean, so a restart does not parse again.

Checking the rules and the question catalogs at start-up parses every query with
duckdb-kql's ANTLR parser, in pure Python: about 50 ms a query, more than half of the
time to /readyz, and its caches keep ~10 MB afterwards. A text that parsed cleanly once
parses cleanly again under the same duckdb-kql and rewrites (`translations.code_version`
is part of the key), so that verdict is kept: in memory, and, once `remember_under` has
been given the cache directory, as an empty marker file per text, named by the hash of
the key (created atomically: several processes may share the directory). Only "no
problems" is kept; a text with a problem is parsed again, to say what the problem is.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import duckdb_kql
from duckdb_kql.errors import Diagnostic

from bot.workspace.translations import code_version


class SyntaxVerdicts:
    """Texts known to parse cleanly: in memory, and under `directory` if set."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._clean: set[str] = set()

    def diagnostics(self, text: str) -> list[Diagnostic]:
        """duckdb-kql's syntax diagnostics for `text`: empty when it parses."""
        key = hashlib.sha256(f"{_version()}\0{text}".encode()).hexdigest()
        if key in self._clean or self._on_disk(key):
            self._clean.add(key)
            return []
        found = list(duckdb_kql.validate(text))
        if not found:
            self._clean.add(key)
            self._write(key)
        return found

    def _on_disk(self, key: str) -> bool:
        return self.directory is not None and (self.directory / key).exists()

    def _write(self, key: str) -> None:
        if self.directory is None:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.directory / key, os.O_CREAT | os.O_WRONLY, 0o644))
        except OSError:
            pass  # a read-only or full cache directory only costs a parse next time


#: The process's verdicts (rules and catalogs are checked through it).
VERDICTS = SyntaxVerdicts()


def remember_under(cache_dir: Path | None) -> None:
    """Keep clean verdicts in `cache_dir`'s kql-parsed/ too (None: in memory only)."""
    VERDICTS.directory = None if cache_dir is None else cache_dir / "kql-parsed"


def diagnostics(text: str) -> list[Diagnostic]:
    """duckdb-kql's syntax diagnostics for `text`: empty when it parses."""
    return VERDICTS.diagnostics(text)


@functools.cache
def _version() -> str:
    return code_version()
