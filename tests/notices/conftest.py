"""Notices: the demo workspace, the catalog's notice rule, a real store (SQLite and
PostgreSQL), and the local Microsoft Graph and Bot Connector."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb_kql
import pytest

from bot.alerts.rule_model import Rule
from bot.alerts.rules import load_rules
from bot.store.sql import SqlStore
from bot.workspace.demo import DemoManifest, DemoSpec, load_demo
from bot.workspace.local import LocalWorkspace
from tests.support.alerting import CATALOG, opened_store
from tests.support.fakes import fake_graph, fake_slack  # noqa: F401

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
RULE_ID = "account-security-notice"
ALEX_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
ALEX_UPN = "alexw@contoso.example"


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[LocalWorkspace, DemoManifest]]:
    con = duckdb_kql.connect()
    manifest = load_demo(con, DemoSpec(now=NOW))
    yield LocalWorkspace(con, clock=lambda: NOW), manifest
    con.close()


@pytest.fixture(scope="module")
def rule() -> Rule:
    return next(r for r in load_rules([CATALOG]) if r.id == RULE_ID)


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStore]:
    async with opened_store(request.param, tmp_path) as opened:
        yield opened
