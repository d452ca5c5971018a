"""Fixtures for the question tests: the real catalog and the demo workspace at a fixed time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb_kql
import pytest

from bot.ask.catalog import Catalog, load_catalog
from bot.ask.entities import EntityIndex, index_from_results
from bot.ask.matcher import Matcher
from bot.ask.mentions import AliasTable
from bot.workspace.demo import DemoManifest, DemoSpec, load_demo
from bot.workspace.local import LocalWorkspace

ROOT = Path(__file__).resolve().parents[2]
CATALOG_DIR = ROOT / "config" / "questions"
#: A Wednesday: "since Monday" is two and a half days back.
NOW = datetime(2026, 11, 18, 12, tzinfo=UTC)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog([CATALOG_DIR])


@pytest.fixture(scope="session")
def matcher(catalog: Catalog) -> Matcher:
    return Matcher(catalog)


@pytest.fixture(scope="session")
def demo() -> Iterator[tuple[LocalWorkspace, DemoManifest]]:
    con = duckdb_kql.connect()
    manifest = load_demo(con, DemoSpec(now=NOW))
    workspace = LocalWorkspace(con, clock=lambda: NOW)
    yield workspace, manifest
    con.close()


@pytest.fixture(scope="session")
def workspace(demo: tuple[LocalWorkspace, DemoManifest]) -> LocalWorkspace:
    return demo[0]


@pytest.fixture(scope="session")
def manifest(demo: tuple[LocalWorkspace, DemoManifest]) -> DemoManifest:
    return demo[1]


@pytest.fixture(scope="session")
def index(catalog: Catalog, workspace: LocalWorkspace) -> EntityIndex:
    """The demo's names, read with the catalog's own entity queries."""
    window = catalog.limits.entity_window
    return index_from_results(
        {
            kind: workspace.run_sync(source.query, timespan=window)
            for kind, source in catalog.entities.items()
        }
    )


@pytest.fixture(scope="session")
def aliases(index: EntityIndex, catalog: Catalog, matcher: Matcher) -> AliasTable:
    return AliasTable.build(index, catalog.vocabulary, matcher.lexicon.common)
