"""The digest's governance changes (config/health/governance.yaml), checked against counts made
by hand on the demo data, and its activity names against the alert rules that watch them.

"By hand" is plain SQL over raw.AuditLogs (no KQL engine) sorted into kinds in Python,
plus what the demo plants in the 24 h before now (bot/workspace/demo/scenarios.py): the
Northwind partner added, its sync setting created and turned on, one access review
deleted, Tailspin Toys' connected organization, one PIM alert disabled and one failed
run of the failing workflow.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import messages
from bot.alerts.rules import load_rules
from bot.ask.catalog import Catalog
from bot.health import kpis
from bot.health.digest import governance
from bot.workspace.demo import DemoManifest
from bot.workspace.demo.catalog import FAILING_WORKFLOW
from bot.workspace.demo.scenarios import CONNECTED_ORG, NEW_PARTNER, PIM_ALERT, REVIEWS
from bot.workspace.local import LocalWorkspace
from tests.health.conftest import NOW, ROOT, Raw

DAY = (NOW - timedelta(hours=24), NOW)
Demo = tuple[LocalWorkspace, DemoManifest, Raw]
GOVERNANCE_KQL = ROOT / "config" / "health" / "governance.yaml"

#: The kinds written out again here, independently of the KQL's case().
BY_ACTIVITY = {
    "Delete access review": "Access reviews deleted",
    "Create connected organization": "Connected organizations added",
    "Add a partner to cross-tenant access setting": "Cross-tenant settings changed",
    "Update a partner cross-tenant access setting": "Cross-tenant settings changed",
    "Create a partner cross-tenant identity sync setting": "Cross-tenant settings changed",
    "Update a partner cross-tenant identity sync setting": "Cross-tenant settings changed",
    "Delete a partner cross-tenant identity sync setting": "Cross-tenant settings changed",
    "Disable PIM alert": "PIM alerts and role settings changed",
    "Update role setting in PIM": "PIM alerts and role settings changed",
}
WORKFLOW_RUNS = ("On-demand workflow execution completed", "Scheduled workflow execution completed")
_ROWS = """
select TimeGenerated, ActivityDisplayName, Category, Result,
       json_extract_string(InitiatedBy, '$.user.userPrincipalName'),
       json_extract_string(InitiatedBy, '$.app.displayName'),
       json_extract_string(TargetResources, '$[0].displayName')
from raw.AuditLogs where TimeGenerated >= ? and TimeGenerated < ?
"""


def by_hand(raw: Raw, span: tuple[datetime, datetime]) -> dict[str, tuple[int, Any, str, str]]:
    """Kind -> (count, latest time, latest by, latest target)."""
    kinds: dict[str, list[tuple[Any, str, str]]] = defaultdict(list)
    naive = [moment.replace(tzinfo=None) for moment in span]
    for at, activity, category, result, upn, app, target in raw.rows(_ROWS, *naive):
        kind = BY_ACTIVITY.get(activity)
        if activity in WORKFLOW_RUNS and category == "WorkflowManagement" and result == "failure":
            kind = "Lifecycle workflow runs failed"
        if kind is not None:
            kinds[kind].append((at, upn or app, target))
    return {kind: (len(rows), *max(rows, key=lambda row: row[0])) for kind, rows in kinds.items()}


async def test_counts_and_latest_changes_match_the_rows_counted_by_hand(
    health_demo: Demo, health_catalog: Catalog
) -> None:
    workspace, _, raw = health_demo
    found = await kpis.governance_changes(workspace, health_catalog, DAY)
    assert {g.change: (g.count, g.last_at.replace(tzinfo=None), g.last_by, g.last_target)
            for g in found} == by_hand(raw, DAY)  # fmt: skip


async def test_the_planted_changes_of_the_last_day_are_there(
    health_demo: Demo, health_catalog: Catalog
) -> None:
    workspace, _, _ = health_demo
    found = {g.change: g for g in await kpis.governance_changes(workspace, health_catalog, DAY)}
    assert {change: g.count for change, g in found.items()} == {
        "Cross-tenant settings changed": 3,  # partner added, sync created, sync turned on
        "Access reviews deleted": 1,
        "Connected organizations added": 1,
        "PIM alerts and role settings changed": 1,
        "Lifecycle workflow runs failed": 1,
    }
    assert found["Access reviews deleted"].last_target == REVIEWS[1][0]
    assert found["Connected organizations added"].last_target == CONNECTED_ORG[0]
    assert found["Cross-tenant settings changed"].last_target == NEW_PARTNER
    assert found["PIM alerts and role settings changed"].last_target == PIM_ALERT
    assert found["Lifecycle workflow runs failed"].last_target == FAILING_WORKFLOW
    assert found["Lifecycle workflow runs failed"].last_by == "Lifecycle Workflows"
    assert found["Access reviews deleted"].area == "Access Reviews"
    assert found["Cross-tenant settings changed"].area == "Multitenant collaboration"


async def test_a_week_counts_the_history_too(health_demo: Demo, health_catalog: Catalog) -> None:
    workspace, _, raw = health_demo
    week = (NOW - timedelta(days=7), NOW)
    found = await kpis.governance_changes(workspace, health_catalog, week)
    expected = by_hand(raw, week)
    assert {g.change: g.count for g in found} == {k: v[0] for k, v in expected.items()}


async def test_a_quiet_period_is_one_line(health_demo: Demo, health_catalog: Catalog) -> None:
    workspace, _, _ = health_demo
    quiet = (NOW - timedelta(days=60), NOW - timedelta(days=59, hours=23))
    assert await kpis.governance_changes(workspace, health_catalog, quiet) == []
    section = governance([])
    assert section.changes == ()
    assert section.note == messages.digest_no_governance_changes()


#: The rules whose activity names the digest's kinds reuse.
RULES = (
    "access-review-deleted",
    "connected-organization-created",
    "cross-tenant-partner-added",
    "cross-tenant-sync-enabled",
    "pim-alert-disabled",
    "workflow-failed",
)
_CONDITION = re.compile(r"(?:ActivityDisplayName|OperationName)\s*(?:==|in)\s*\(?([^|]*)")


@pytest.mark.parametrize("rule_id", RULES)
def test_the_kinds_use_the_activity_names_of_the_rules(rule_id: str) -> None:
    (rule,) = [r for r in load_rules([ROOT / "config" / "rules"]) if r.id == rule_id]
    names = {n for part in _CONDITION.findall(rule.query) for n in re.findall(r'"([^"]+)"', part)}
    assert names
    query = Path(GOVERNANCE_KQL).read_text(encoding="utf-8")
    for name in names:
        assert f'"{name}"' in query, (rule_id, name)
        assert name in BY_ACTIVITY or name in WORKFLOW_RUNS
