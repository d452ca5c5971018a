"""Functions and aggregates that published rules use and duckdb-kql 1.1 lacks or maps loosely.

Installed into duckdb-kql's aggregate registry (`install`, idempotent):

- ``make_list(x, N)`` / ``make_set(x, N)``: Kusto keeps at most N values; duckdb-kql
  accepts N and ignores it, so a rule that counts the set's elements could fire
  locally and not in Log Analytics. N is honoured here.
- ``make_list_if(x, p[, N])`` / ``make_set_if(x, p[, N])``: the values where p holds.
- ``make_bag(b[, N])`` / ``make_bag_if(b, p[, N])``: one property bag holding the keys
  of every bag (non-bag values are skipped, as in Kusto). Where two rows carry the
  same key Kusto keeps an arbitrary one of the values; here the later one (merged
  per JSON merge-patch for nested bags). N is not applied to bags.

Scalar functions:

- ``datetime_utc_to_local(t, tz)`` / ``datetime_local_to_utc(t, tz)``: the IANA time
  zone conversions, by DuckDB's ICU time zones.
- ``set_difference(a, b)``: the distinct values of array a that are not in b.

`dcount` stays exact (duckdb-kql's choice, which matches Kusto's estimate at the
cardinalities of Entra rules); Kusto's dcount is an estimate whose error grows with
cardinality (about 1 % at the default accuracy), so a rule that thresholds on a
dcount near its threshold can differ from Log Analytics. The rules README says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from duckdb_kql.translate import functions as kql_functions

_LIST: Final = "coalesce(list({0}) FILTER (WHERE {0} IS NOT NULL{when}), [])"
_SET: Final = (
    "coalesce(list_distinct(flatten(list("
    "CASE WHEN json_type(TRY_CAST({0} AS JSON)) = 'ARRAY' "
    "THEN CAST(to_json({0}) AS JSON[]) ELSE [to_json({0})] END"
    ") FILTER (WHERE {0} IS NOT NULL{when}))), [])"
)
_BAG: Final = (
    "list_reduce(list_prepend('{{{{}}}}'::JSON, list(TRY_CAST({0} AS JSON)) FILTER ("
    "WHERE json_type(TRY_CAST({0} AS JSON)) = 'OBJECT'{when})), "
    "lambda acc, bag: json_merge_patch(acc, bag))"
)


@dataclass(frozen=True)
class _ByArity(kql_functions.AggregateSpec):
    """An aggregate whose SQL depends on how many arguments the call has."""

    by_arity: tuple[tuple[int, str], ...] = ()

    def render(self, args: list[str]) -> str:
        templates = dict(self.by_arity)
        if len(args) not in templates:
            raise ValueError(f"{self.name}() takes {tuple(templates)} argument(s), got {len(args)}")
        return templates[len(args)].format(*args)


def _limited(template: str, count_at: int) -> str:
    return f"({template})[1:{{{count_at}}}]"


def _spec(name: str, prefix: str, by_arity: dict[int, str]) -> _ByArity:
    return _ByArity(
        name,
        "",
        tuple(by_arity),
        name_prefix=prefix,
        note="bot.workspace.kql_aggregates",
        by_arity=tuple(by_arity.items()),
    )


def _specs() -> list[_ByArity]:
    plain_list, if_list = _LIST.format("{0}", when=""), _LIST.format("{0}", when=" AND ({1})")
    plain_set, if_set = _SET.format("{0}", when=""), _SET.format("{0}", when=" AND ({1})")
    plain_bag, if_bag = _BAG.format("{0}", when=""), _BAG.format("{0}", when=" AND ({1})")
    return [
        _spec("make_list", "list", {1: plain_list, 2: _limited(plain_list, 1)}),
        _spec("make_list_if", "list", {2: if_list, 3: _limited(if_list, 2)}),
        _spec(
            "make_set",
            "set",
            {1: f"to_json({plain_set})", 2: f"to_json({_limited(plain_set, 1)})"},
        ),
        _spec(
            "make_set_if", "set", {2: f"to_json({if_set})", 3: f"to_json({_limited(if_set, 2)})"}
        ),
        _spec("make_bag", "bag", {1: plain_bag, 2: plain_bag}),
        _spec("make_bag_if", "bag", {2: if_bag, 3: if_bag}),
    ]


_SCALARS: Final = {
    "datetime_utc_to_local": "((CAST({0} AS TIMESTAMP)) AT TIME ZONE 'UTC') AT TIME ZONE ({1})",
    "datetime_local_to_utc": "((CAST({0} AS TIMESTAMP)) AT TIME ZONE ({1})) AT TIME ZONE 'UTC'",
    "set_difference": (
        "to_json(list_distinct(list_filter(CAST(to_json({0}) AS JSON[]), "
        "lambda item: NOT list_contains(CAST(to_json({1}) AS JSON[]), item))))"
    ),
}


def install() -> None:
    """Register the functions and aggregates above in duckdb-kql (idempotent)."""
    for spec in _specs():
        kql_functions.AGGREGATE_FUNCTIONS[spec.name] = spec
    for name, template in _SCALARS.items():
        kql_functions.SCALAR_FUNCTIONS[name] = kql_functions.FunctionSpec(
            name, "template", template, (2,), (), "bot.workspace.kql_aggregates"
        )
