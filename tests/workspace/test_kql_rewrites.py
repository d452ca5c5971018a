"""Each rewrite of kql_rewrites / kql_aggregates returns the same rows as a hand-written
equivalent that duckdb-kql runs natively, on the demo workspace's data.

The equivalents follow the Kusto documentation of each construct (mv-apply,
mv-expand naming, split, extractjson, project-reorder, make_set/make_list with a
maximum size, make_bag, make_list_if).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import duckdb_kql
import pytest
import pytest_asyncio

from bot.errors import UnsupportedQueryError
from bot.workspace.demo import DemoSpec, load_demo
from bot.workspace.kql_compat import adapt
from bot.workspace.local import LocalWorkspace

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
in_module_loop = pytest.mark.asyncio(loop_scope="module")
#: Added to the engine's aggregate registry rather than rewritten in the text.
REGISTERED = {
    "make_list_if, make_set_if and make_list's maximum size",
    "make_bag",
    "time zones and set_difference",
}

PAIRS = {
    "row-wise mv-apply": (
        """AuditLogs
| mv-apply TR = TargetResources on (
    where TR.type =~ "User"
    | extend Upn = tostring(TR.userPrincipalName))
| project Id, Upn, n = array_length(TargetResources)""",
        """AuditLogs
| mv-expand TR = TargetResources
| where TR.type =~ "User"
| extend Upn = tostring(TR.userPrincipalName)
| project Id, Upn, n = array_length(TargetResources)""",
    ),
    "unnamed mv-apply, nested": (
        """AuditLogs
| mv-apply TargetResources on (
    mv-apply P = TargetResources.modifiedProperties on (where isnotempty(P.displayName))
    | extend Name = tostring(P.displayName))
| project Id, Name""",
        """AuditLogs
| mv-expand TargetResources
| mv-expand P = TargetResources.modifiedProperties
| where isnotempty(P.displayName)
| extend Name = tostring(P.displayName)
| project Id, Name""",
    ),
    "unnamed mv-expand of a path and of a function": (
        """AuditLogs
| mv-expand TargetResources
| mv-expand TargetResources.modifiedProperties
| extend v = tostring(TargetResources_modifiedProperties.newValue)
| mv-expand todynamic(v)
| project Id, v""",
        """AuditLogs
| mv-expand TargetResources
| mv-expand TargetResources_modifiedProperties = TargetResources.modifiedProperties
| extend v = tostring(TargetResources_modifiedProperties.newValue)
| mv-expand v = todynamic(v)
| project Id, v""",
    ),
    "parenthesised union": (
        """(union (AuditLogs | where Result == "failure"), (AADProvisioningLogs | take 5))
| summarize n = count()""",
        """union (AuditLogs | where Result == "failure"), (AADProvisioningLogs | take 5)
| summarize n = count()""",
    ),
    "three-argument split and old names": (
        """AuditLogs
| extend Actor = tostring(parsejson(tostring(InitiatedBy)).user.userPrincipalName)
| extend Domain = split(Actor, "@", 1), Nothing = split(Actor, "@", 5)
| summarize makeset(tostring(Domain[0])), makelist(Id, 3) by OperationName""",
        """AuditLogs
| extend Actor = tostring(parse_json(tostring(InitiatedBy)).user.userPrincipalName)
| extend Domain = array_slice(split(Actor, "@"), 1, 1),
         Nothing = array_slice(split(Actor, "@"), 5, 5)
| summarize make_set(tostring(Domain[0])), make_list(Id, 3) by OperationName""",
    ),
    "extractjson": (
        """AuditLogs
| extend j = tostring(TargetResources)
| extend t = extractjson("$[0].type", j), n = extractjson('$[0].modifiedProperties', j),
         c = extractjson("$[0]['id']", j, typeof(string))
| project Id, t, n, c""",
        """AuditLogs
| extend j = tostring(TargetResources)
| extend t = tostring(parse_json(j)[0].type), n = tostring(parse_json(j)[0].modifiedProperties),
         c = tostring(parse_json(j)[0].id)
| project Id, t, n, c""",
    ),
    "project-reorder applied last": (
        """AuditLogs
| project Id, Result, OperationName, TimeGenerated, Category
| project-reorder TimeGenerated, Op*
| where Result == "success"
| extend Extra = 1""",
        """AuditLogs
| project TimeGenerated, OperationName, Id, Result, Category
| where Result == "success"
| extend Extra = 1""",
    ),
    "make_list_if, make_set_if and make_list's maximum size": (
        """AuditLogs
| summarize f = array_length(make_list_if(Id, Result == "failure")),
            s = array_length(make_set_if(Category, Result == "failure")),
            k = array_length(make_list(Id, 2)) by OperationName""",
        """AuditLogs
| summarize f = countif(Result == "failure"), s = dcountif(Category, Result == "failure"),
            k = min_of(count(), 2) by OperationName""",
    ),
    "time zones and set_difference": (
        """AuditLogs
| extend Local = datetime_utc_to_local(TimeGenerated, "Europe/Paris"),
         Tokyo = datetime_utc_to_local(TimeGenerated, "Asia/Tokyo")
| extend Back = datetime_local_to_utc(Tokyo, "Asia/Tokyo")
| extend Ops = set_difference(dynamic(["a", "b", "b"]), pack_array(Result, "a"))
| project Id, Local, Back, Ops = array_sort_asc(Ops), Tokyo""",
        """AuditLogs
| extend Local = TimeGenerated + 2h, Back = TimeGenerated
| extend Ops = iff(Result == "b", dynamic([]), dynamic(["b"]))
| project Id, Local, Back, Ops, Tokyo = TimeGenerated + 9h""",
    ),
    "make_bag": (
        """AuditLogs
| mv-expand d = AdditionalDetails
| summarize b = make_bag(bag_pack(tostring(d.key), tostring(d.value))) by Id
| project Id, v = tostring(b.UsersFailed)
| where isnotempty(v)""",
        """AuditLogs
| mv-expand d = AdditionalDetails
| where d.key == "UsersFailed"
| project Id, v = tostring(d.value)""",
    ),
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def workspace() -> AsyncIterator[LocalWorkspace]:
    con = duckdb_kql.connect()
    load_demo(con, DemoSpec(now=NOW, size="small", days=3))
    ws = LocalWorkspace(con, clock=lambda: NOW)
    yield ws
    await ws.close()


def _sorted(rows: list[list[Any]]) -> list[str]:
    return sorted(repr(row) for row in rows)


@in_module_loop
@pytest.mark.parametrize("name", list(PAIRS))
async def test_a_rewrite_returns_the_rows_of_its_hand_written_equivalent(
    workspace: LocalWorkspace, name: str
) -> None:
    rewritten, hand_written = PAIRS[name]
    assert (adapt(rewritten).kql == rewritten) == (name in REGISTERED)
    got = await workspace.query(rewritten, timespan=None)
    expected = await workspace.query(hand_written, timespan=None)
    assert [c.name for c in got.columns] == [c.name for c in expected.columns]
    assert got.rows, "the demo data must exercise the rewrite"
    assert _sorted(got.rows) == _sorted(expected.rows)


@in_module_loop
async def test_make_set_honours_its_maximum_size(workspace: LocalWorkspace) -> None:
    result = await workspace.query(
        "AuditLogs | summarize all = make_set(OperationName), two = make_set(OperationName, 2)",
        timespan=None,
    )
    everything, two = result.rows[0]
    assert len(everything) > 2
    assert len(two) == 2
    assert set(two) <= set(everything)


@pytest.mark.parametrize(
    "kql",
    [
        # a per-row summarize is not row-wise: left for the engine to refuse by name
        "AuditLogs | mv-apply T = TargetResources on (summarize c = count())",
        # a project inside the subquery would drop the outer columns if inlined
        "AuditLogs | mv-apply T = TargetResources on (project T)",
    ],
)
@in_module_loop
async def test_mv_apply_that_is_not_row_wise_is_left_as_written(
    workspace: LocalWorkspace, kql: str
) -> None:
    assert "mv-apply" in adapt(kql).kql
    with pytest.raises(UnsupportedQueryError, match=r"mv-apply|Mvapply"):
        await workspace.query(kql, timespan=None)


@pytest.mark.parametrize(
    "kql",
    [
        # a project after project-reorder decides the order itself
        "AuditLogs | project-reorder Id | project OperationName, Id",
        # sort orders inside project-reorder are not applied afterwards
        "AuditLogs | project-reorder Id asc",
    ],
)
def test_project_reorder_is_deferred_only_when_the_order_survives(kql: str) -> None:
    adapted = adapt(kql)
    assert adapted.reorder == ()
    assert "project-reorder" in adapted.kql


def test_rewrites_leave_strings_and_comments_alone() -> None:
    kql = 'AuditLogs | where x == "mv-apply a on (where b)" // split(a, b, 1)\n| take 1'
    assert adapt(kql).kql == kql


@in_module_loop
@pytest.mark.parametrize(
    ("kql", "message"),
    [
        (
            "AuditLogs | evaluate bag_unpack(AdditionalDetails)",
            "the embedded engine cannot run `evaluate`; Log Analytics runs it",
        ),
        (
            "AuditLogs | extend g = geo_info_from_ip_address('20.53.203.50')",
            "the embedded engine cannot run the function geo_info_from_ip_address(); "
            "Log Analytics runs it",
        ),
    ],
)
async def test_an_engine_gap_is_named_in_the_querys_own_words(
    workspace: LocalWorkspace, kql: str, message: str
) -> None:
    with pytest.raises(UnsupportedQueryError) as raised:
        await workspace.query(kql, timespan=None)
    assert raised.value.message == message


@in_module_loop
async def test_the_other_entra_tables_exist_with_their_columns(workspace: LocalWorkspace) -> None:
    result = await workspace.query(
        """AuditLogs
| where OperationName == "Add member to group"
| extend UserId = tostring(TargetResources[0].id)
| join kind=leftouter (SigninLogs | project UserId, Status, RiskLevelDuringSignIn) on UserId
| join kind=leftouter (IdentityInfo | project UserId = AccountObjectId, Department) on UserId
| project TimeGenerated, UserId, Status, Department""",
        timespan=None,
    )
    assert [(c.name, c.type) for c in result.columns] == [
        ("TimeGenerated", "datetime"),
        ("UserId", "string"),
        ("Status", "dynamic"),
        ("Department", "string"),
    ]
    assert result.rows
