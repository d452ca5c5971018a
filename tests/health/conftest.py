"""Fixtures for the provisioning health tests: the real catalog and the demo at a fixed time.

`raw` runs plain SQL over the generated rows, so figures can be computed by hand, without
the KQL engine, and compared with what the catalog's KQL returns.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import duckdb_kql
import pytest

from bot.ask.catalog import Catalog, load_catalog
from bot.workspace.demo import DemoManifest, DemoSpec, load_demo
from bot.workspace.local import LocalWorkspace

ROOT = Path(__file__).resolve().parents[2]
#: A Wednesday 08:00 UTC, when a daily digest goes out.
NOW = datetime(2026, 11, 18, 8, tzinfo=UTC)


class Raw:
    """Plain SQL over raw.AADProvisioningLogs (no KQL)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with self._con.cursor() as cursor:
            return cursor.execute(sql, list(params)).fetchall()


@pytest.fixture(scope="session")
def health_catalog() -> Catalog:
    return load_catalog([ROOT / "config" / "health"])


@pytest.fixture(scope="session")
def health_demo() -> Iterator[tuple[LocalWorkspace, DemoManifest, Raw]]:
    con = duckdb_kql.connect()
    manifest = load_demo(con, DemoSpec(now=NOW))
    yield LocalWorkspace(con, clock=lambda: NOW), manifest, Raw(con)
    con.close()
