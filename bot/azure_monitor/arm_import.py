"""Azure Monitor log search alert rules (`Microsoft.Insights/scheduledQueryRules`) as rule files.

Pure: parsed JSON in, rule documents (plain dicts in the YAML rule format of
config/rules/README.md) and a report of what could not be carried over out.

Accepted inputs (API versions 2021-08-01 to 2023-12-01):
- an ARM template: `resources[]` of that type; `[parameters('x')]` resolved from a
  parameters file or the template's `defaultValue`, any other expression reported;
- one resource as the REST API returns it (`properties` nested);
- Azure CLI / SDK output, one rule or a list (`properties` flattened into the resource).

Semantic differences that the output says aloud (see `SEMANTIC_NOTES`): Azure evaluates
`numberOfEvaluationPeriods` windows inside one run while the bot counts runs (equal only
when frequency equals window); `muteActionsDuration` becomes reminders only for stateless
rules; the bot never reads several workspaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote

from bot.timespans import TimeSpanError, parse_duration

RESOURCE_TYPE: Final = "microsoft.insights/scheduledqueryrules"
DEFAULT_CATEGORY: Final = "Imported"
PORTAL_RESOURCE: Final = "https://portal.azure.com/#resource"
MAX_ID: Final = 64
MAX_TITLE: Final = 120

_OPERATORS: Final = {
    "Equals": "==",
    "GreaterThan": ">",
    "GreaterThanOrEqual": ">=",
    "LessThan": "<",
    "LessThanOrEqual": "<=",
}
_AGGREGATIONS: Final = {"Total": "sum", "Average": "avg", "Minimum": "min", "Maximum": "max"}
_PARAMETER_EXPRESSION: Final = re.compile(r"^\[\s*parameters\(\s*'([^']+)'\s*\)\s*\]$")
_IDENTIFIER_JUNK: Final = re.compile(r"[^A-Za-z0-9_]+")
#: Properties with no counterpart in a rule file, and why.
_DROPPED: Final = {
    "ruleResolveConfiguration": "the bot resolves a stateful alert at the first clear run",
    "resourceIdColumn": "the bot alerts per dimension, not per Azure resource",
    "targetResourceTypes": "the bot alerts per dimension, not per Azure resource",
    "skipQueryValidation": "`alertbot rules validate` always checks the query",
    "checkWorkspaceAlertsStorageConfigured": "the bot keeps its own alert history",
}

SEMANTIC_NOTES: Final = (
    "Failing periods: Azure evaluates numberOfEvaluationPeriods windows inside one run; the "
    "bot counts its own runs. The two agree only when frequency equals window.",
    "muteActionsDuration becomes `renotify.interval` for stateless rules (autoMitigate "
    "false) only; a stateful rule notifies once and reminds per `renotify`.",
    "The bot queries its one configured workspace: the rule's `scopes` are not read.",
    "Action groups are not imported: subscribe conversations to the rule's category "
    "(`subscribe <category>`) instead.",
)


class ArmImportError(ValueError):
    """The input is not something this importer reads (one line, for the CLI)."""


@dataclass(frozen=True, slots=True)
class Note:
    """Something of one Azure rule that was not carried over, and why."""

    rule: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.where}: {self.message}"


@dataclass(frozen=True, slots=True)
class ImportedRule:
    """One converted rule: its rule-file dict, and what of the original was left behind."""

    name: str
    #: The Azure resource id (or name) it came from.
    origin: str
    document: dict[str, Any]
    notes: tuple[Note, ...]


@dataclass(slots=True)
class ImportResult:
    """The converted rules and the rules refused (each with why)."""

    rules: list[ImportedRule] = field(default_factory=list)
    refused: list[Note] = field(default_factory=list)


def import_rules(document: Any, *, parameters: Mapping[str, Any] | None = None) -> ImportResult:
    """Convert every scheduled query rule in `document` (see the module docstring)."""
    result = ImportResult()
    taken: set[str] = set()
    resolver = _Resolver(document, parameters or {})
    for where, resource in _resources(document):
        converter = _Converter(str(resource.get("name") or where), where, resolver)
        try:
            rule = converter.convert(resource)
        except _RefusedError as refusal:
            result.refused.append(Note(converter.name, refusal.where, refusal.message))
            result.refused += converter.notes
            continue
        rule["id"] = _unique(rule["id"], taken)
        result.rules.append(
            ImportedRule(converter.name, converter.origin, rule, tuple(converter.notes))
        )
    if not result.rules and not result.refused:
        raise ArmImportError(
            "no Microsoft.Insights/scheduledQueryRules resource found (expected an ARM "
            "template, a resource from the REST API, or `az monitor scheduled-query` output)"
        )
    return result


class _RefusedError(Exception):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where, self.message = where, message


def _resources(document: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(JSON path, resource) of every scheduled query rule in the document."""
    if isinstance(document, list):
        items = [(f"[{i}]", item) for i, item in enumerate(document)]
    elif isinstance(document, dict) and isinstance(document.get("resources"), list):
        items = [(f"resources[{i}]", r) for i, r in enumerate(document["resources"])]
    elif isinstance(document, dict) and isinstance(document.get("value"), list):
        items = [(f"value[{i}]", r) for i, r in enumerate(document["value"])]
    elif isinstance(document, dict):
        items = [("$", document)]
    else:
        raise ArmImportError("the file holds no JSON object or list")
    for where, item in items:
        if isinstance(item, dict) and str(item.get("type", "")).lower() == RESOURCE_TYPE:
            yield where, item


class _Resolver:
    """Template expressions: `[parameters('x')]` from the parameters file or the default.

    An expression it cannot resolve becomes None, with a note: a required property
    left without a value then refuses the rule, saying where.
    """

    def __init__(self, document: Any, values: Mapping[str, Any]) -> None:
        declared = document.get("parameters", {}) if isinstance(document, dict) else {}
        self._defaults = {
            name: spec["defaultValue"]
            for name, spec in (declared.items() if isinstance(declared, dict) else ())
            if isinstance(spec, dict) and "defaultValue" in spec
        }
        self._values = {
            name: (value["value"] if isinstance(value, dict) and "value" in value else value)
            for name, value in values.items()
        }

    def __call__(self, value: Any, where: str, notes: list[tuple[str, str]]) -> Any:
        if isinstance(value, dict):
            return {k: self(v, f"{where}.{k}", notes) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v, f"{where}[{i}]", notes) for i, v in enumerate(value)]
        if not (isinstance(value, str) and value.startswith("[") and value.endswith("]")):
            return value
        if value.startswith("[["):  # ARM's escape for a literal leading bracket
            return value[1:]
        match = _PARAMETER_EXPRESSION.match(value)
        if match is None:
            notes.append((where, f"template expression {value!r} cannot be resolved offline"))
            return None
        name = match.group(1)
        if name in self._values:
            return self._values[name]
        if name in self._defaults:
            return self._defaults[name]
        notes.append((where, f"parameter {name!r} has no value (pass --parameters FILE)"))
        return None


class _Converter:
    """One Azure rule to one rule-file dict, collecting notes as it goes."""

    def __init__(self, name: str, where: str, resolve: _Resolver) -> None:
        self.name, self.where, self._resolve = name, where, resolve
        self.origin = name
        self.notes: list[Note] = []

    def note(self, where: str, message: str) -> None:
        self.notes.append(Note(self.name, where, message))

    def convert(self, resource: dict[str, Any]) -> dict[str, Any]:
        unresolved: list[tuple[str, str]] = []
        resource = self._resolve(resource, self.where, unresolved)
        for where, message in unresolved:
            self.note(where, message)
        if resource.get("name"):
            self.name = str(resource["name"])
        self.origin = str(resource.get("id") or self.name)
        flattened = "properties" not in resource
        props = resource if flattened else resource["properties"]
        base = self.where if flattened else f"{self.where}.properties"
        if not isinstance(props, dict):
            raise _RefusedError(base, "`properties` is not an object")
        self._refuse_unsupported(resource, props, base)
        condition = self._condition(props, base)
        rule: dict[str, Any] = {
            "id": _slug(self.name),
            "title": _title(props.get("displayName") or self.name),
            "description": self._description(props),
            "category": _category(resource, props),
            "severity": self._severity(props, base),
            "enabled": _flag(props.get("enabled"), default=True),
        }
        rule |= self._query_and_measure(condition, f"{base}.criteria.allOf[0]")
        rule |= self._schedule(props, base, condition)
        rule["remediation"] = _remediation(resource, self.name)
        self._note_dropped(props, base)
        return rule

    def _refuse_unsupported(
        self, resource: dict[str, Any], props: dict[str, Any], base: str
    ) -> None:
        kind = resource.get("kind")
        if kind not in (None, "LogAlert"):
            raise _RefusedError(f"{self.where}.kind", f"kind {kind!r} is not a log search alert")
        if "source" in props or "schedule" in props:
            raise _RefusedError(
                base,
                "a legacy (2018-04-16) log alert: migrate it in Azure to the current API first",
            )

    def _condition(self, props: dict[str, Any], base: str) -> dict[str, Any]:
        all_of = (props.get("criteria") or {}).get("allOf")
        if not isinstance(all_of, list) or not all_of:
            raise _RefusedError(f"{base}.criteria.allOf", "no condition")
        if len(all_of) > 1:
            raise _RefusedError(
                f"{base}.criteria.allOf",
                f"{len(all_of)} conditions; the bot's rules have one: split the rule",
            )
        condition = all_of[0]
        if not isinstance(condition, dict) or not isinstance(condition.get("query"), str):
            raise _RefusedError(f"{base}.criteria.allOf[0].query", "no query")
        if (
            condition.get("criterionType") == "DynamicThresholdCriterion"
            or "alertSensitivity" in condition
        ):
            raise _RefusedError(
                f"{base}.criteria.allOf[0]",
                "dynamic thresholds are learned by Azure and cannot be carried over",
            )
        return condition

    def _severity(self, props: dict[str, Any], base: str) -> int:
        severity = props.get("severity")
        severity = 3 if severity is None else severity  # Azure's default
        if isinstance(severity, str) and severity.strip().isdigit():
            severity = int(severity)
        if isinstance(severity, bool) or not isinstance(severity, int) or not 0 <= severity <= 4:
            raise _RefusedError(f"{base}.severity", f"severity {severity!r} is not 0 to 4")
        return severity

    def _description(self, props: dict[str, Any]) -> str:
        return " ".join(
            str(props.get("description") or props.get("displayName") or self.name).split()
        )

    def _query_and_measure(self, condition: dict[str, Any], where: str) -> dict[str, Any]:
        operator = _OPERATORS.get(str(condition.get("operator")))
        if operator is None:
            raise _RefusedError(
                f"{where}.operator", f"operator {condition.get('operator')!r} is unknown"
            )
        threshold = condition.get("threshold")
        if isinstance(threshold, str):
            threshold = _number(threshold)
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise _RefusedError(f"{where}.threshold", f"threshold {threshold!r} is not a number")
        out: dict[str, Any] = {"query": condition["query"].strip() + "\n"}
        out["measure"] = self._measure(condition, where)
        out["operator"] = operator
        out["threshold"] = int(threshold) if float(threshold).is_integer() else threshold
        dimensions, filters, parameters = self._dimensions(condition, where)
        if filters:
            out["query"] = out["query"] + "".join(f"| {f}\n" for f in filters)
        if dimensions:
            out["dimensions"] = dimensions
        if parameters:
            out["parameters"] = parameters
        periods = condition.get("failingPeriods")
        if isinstance(periods, dict):
            out["failing_periods"] = {
                "min_failing": _whole(periods.get("minFailingPeriodsToAlert")),
                "evaluations": _whole(periods.get("numberOfEvaluationPeriods")),
            }
        if condition.get("metricName"):
            self.note(f"{where}.metricName", "metric names apply to LogToMetric rules; dropped")
        return out

    def _measure(self, condition: dict[str, Any], where: str) -> str | dict[str, str]:
        aggregation = str(condition.get("timeAggregation", "Count"))
        column = condition.get("metricMeasureColumn")
        if aggregation == "Count":
            if column:
                self.note(f"{where}.metricMeasureColumn", "ignored: Count counts rows")
            return "count"
        if aggregation not in _AGGREGATIONS:
            raise _RefusedError(
                f"{where}.timeAggregation", f"aggregation {aggregation!r} is unknown"
            )
        if not column:
            raise _RefusedError(
                f"{where}.metricMeasureColumn", f"{aggregation} needs a measure column"
            )
        return {"aggregation": _AGGREGATIONS[aggregation], "column": str(column)}

    def _dimensions(
        self, condition: dict[str, Any], where: str
    ) -> tuple[list[str], list[str], dict[str, Any]]:
        names: list[str] = []
        filters: list[str] = []
        parameters: dict[str, Any] = {}
        for index, dimension in enumerate(condition.get("dimensions") or []):
            name = str(dimension.get("name", ""))
            operator = dimension.get("operator", "Include")
            values = [str(v) for v in dimension.get("values") or ["*"]]
            names.append(name)
            chosen = [v for v in values if v != "*"]
            if not chosen:
                continue
            parameter = f"{'include' if operator == 'Include' else 'exclude'}_{_identifier(name)}"
            keyword = "in" if operator == "Include" else "!in"
            filters.append(f"where tostring({name}) {keyword} ({parameter})")
            parameters[parameter] = {
                "type": "string_list",
                "value": chosen,
                "description": f"{operator}d {name} values of the Azure rule's dimension {index}",
            }
        return names, filters, parameters

    def _schedule(
        self, props: dict[str, Any], base: str, condition: dict[str, Any]
    ) -> dict[str, Any]:
        frequency = self._duration(props, "evaluationFrequency", base)
        window = props.get("overrideQueryTimeRange") or props.get("windowSize")
        if window is None:
            raise _RefusedError(f"{base}.windowSize", "no window")
        out: dict[str, Any] = {
            "frequency": frequency,
            "window": self._duration_text(window, f"{base}.windowSize"),
        }
        periods = condition.get("failingPeriods") or {}
        if _whole(periods.get("numberOfEvaluationPeriods")) > 1 and frequency != out["window"]:
            self.note(
                f"{base}.criteria.allOf[0].failingPeriods",
                "Azure counts failing windows within one run, the bot counts runs: equal only "
                "when frequency equals window",
            )
        auto_mitigate = _flag(props.get("autoMitigate"), default=True)
        out["auto_resolve"] = auto_mitigate
        mute = props.get("muteActionsDuration")
        if mute:
            if auto_mitigate:
                self.note(
                    f"{base}.muteActionsDuration",
                    "dropped: a stateful rule notifies once (add `renotify` for reminders)",
                )
            else:
                out["renotify"] = {
                    "interval": self._duration_text(mute, f"{base}.muteActionsDuration")
                }
        return out

    def _duration(self, props: dict[str, Any], key: str, base: str) -> str:
        if key not in props:
            raise _RefusedError(f"{base}.{key}", f"no {key}")
        return self._duration_text(props[key], f"{base}.{key}")

    def _duration_text(self, value: Any, where: str) -> str:
        try:
            parse_duration(str(value))
        except TimeSpanError as error:
            raise _RefusedError(where, f"{value!r}: {error}") from None
        return str(value)

    def _note_dropped(self, props: dict[str, Any], base: str) -> None:
        for key, why in _DROPPED.items():
            if props.get(key) not in (None, False, [], {}):
                self.note(f"{base}.{key}", f"dropped: {why}")
        actions = props.get("actions") or {}
        groups = actions.get("actionGroups") if isinstance(actions, dict) else actions
        if groups:
            self.note(
                f"{base}.actions",
                f"{len(groups)} action group(s) not imported: subscribe conversations to the "
                "category instead, or keep the Azure rule and point its action group at the bot",
            )
        scopes = props.get("scopes") or []
        if len(scopes) > 1:
            self.note(f"{base}.scopes", "several scopes: the bot queries its one workspace")


def _number(text: str) -> float | int | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else value


def _whole(value: Any) -> int:
    """A count of periods; absent or unresolved is Azure's default, 1."""
    number = _number(str(value)) if value is not None else None
    return int(number) if number is not None else 1


def _flag(value: Any, *, default: bool) -> bool:
    """A boolean property; older exports write "true"/"false" as text."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return (slug or "imported-rule")[:MAX_ID].rstrip("-")


def _unique(slug: str, taken: set[str]) -> str:
    candidate, number = slug, 2
    while candidate in taken:
        suffix = f"-{number}"
        candidate, number = slug[: MAX_ID - len(suffix)].rstrip("-") + suffix, number + 1
    taken.add(candidate)
    return candidate


def _identifier(name: str) -> str:
    return _IDENTIFIER_JUNK.sub("_", name).strip("_").lower() or "value"


def _title(text: Any) -> str:
    title = " ".join(str(text).split())
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…"


def _category(resource: dict[str, Any], props: dict[str, Any]) -> str:
    for source in (
        (props.get("actions") or {}).get("customProperties")
        if isinstance(props.get("actions"), dict)
        else None,
        resource.get("tags"),
    ):
        if isinstance(source, dict):
            for key, value in source.items():
                if key.lower() == "category" and str(value).strip():
                    return str(value).strip()
    return DEFAULT_CATEGORY


def _remediation(resource: dict[str, Any], name: str) -> dict[str, Any]:
    text = (
        f"Imported from the Azure Monitor rule {name}: write here what the admin should do "
        "when it fires."
    )
    resource_id = resource.get("id")
    if isinstance(resource_id, str) and resource_id.startswith("/subscriptions/"):
        return {
            "text": text,
            "links": [
                {
                    "title": "The original rule in the Azure portal",
                    "url": PORTAL_RESOURCE + quote(resource_id, safe="/"),
                }
            ],
        }
    return {"text": text}
