"""The KQL adapter: each rewrite, that nothing else changes, and that it runs."""

from __future__ import annotations

import pytest

from bot.workspace.kql_compat import adapt, render_of


@pytest.mark.parametrize(
    ("original", "adapted"),
    [
        ("T | extend n = tostring(S.[-1].name)", "T | extend n = tostring(S[-1].name)"),
        ("T | extend d = S.[2].description", "T | extend d = S[2].description"),
        ('T | where a == "x.[1]" // keep .[2]', 'T | where a == "x.[1]" // keep .[2]'),
        ("T | parse v with * 'x' rest", "T | parse tostring(v) with * 'x' rest"),
        ("T | parse tostring(v) with * 'x' r", "T | parse tostring(v) with * 'x' r"),
        (
            "T | parse kind=regex flags=i v with 'x' r",
            "T | parse kind=regex flags=i tostring(v) with 'x' r",
        ),
        ("T | parse-where d.a[0] with 'x' r", "T | parse-where tostring(d.a[0]) with 'x' r"),
        ("T | where parse_json(x) == 1", "T | where parse_json(x) == 1"),
    ],
)
def test_rewrites_only_the_known_gaps(original: str, adapted: str) -> None:
    assert adapt(original).kql == adapted


def test_case_colliding_identifiers_get_an_alias_that_is_restored() -> None:
    result = adapt("T | parse v with * ' ' TenantID | where x.tenantid == 1", columns=["TenantId"])
    assert "TenantID__casealias" in result.kql
    assert "x.tenantid" in result.kql  # property accesses are not columns
    assert result.restore("TenantID__casealias") == "TenantID"


def test_exact_column_names_are_left_alone() -> None:
    assert adapt("T | project TenantId", columns=["TenantId"]).kql == "T | project TenantId"


@pytest.mark.parametrize(
    "text",
    ['T | where a == "unterminated\n| take 1', "T | where x == “Failure”", "€€€ | ??"],
)
def test_text_that_does_not_lex_is_kept_verbatim(text: str) -> None:
    assert adapt(text).kql == text


def test_render_is_read_from_the_query() -> None:
    assert render_of("T | summarize count() by bin(t, 1d) | render timechart") == {
        "visualization": "timechart"
    }
    assert render_of("T | where render == 1") is None
