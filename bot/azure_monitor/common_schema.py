"""Azure Monitor's common alert schema (action-group webhooks) and what the bot makes of it.

Follows "Common alert schema" and "Sample alert payloads" (learn.microsoft.com,
azure-monitor/alerts): `{"schemaId": "azureMonitorCommonAlertSchema", "data":
{"essentials", "alertContext", "customProperties"}}`. Log search alerts V2
(conditionType LogQueryCriteria) carry the query, threshold, measured value, dimensions
and links to the results; metric alerts their metric; activity log alerts the operation
and caller. Unknown fields are kept out of the way, never refused: Azure adds fields.

Routing: the `category` custom property if the rule sets one (action rule custom
properties), otherwise the alert rule's name, so `subscribe <rule name>` works; `all`
always does.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.alerts.external import ExternalSignal
from bot.alerts.rule_model import Aggregation, Link, Measure, Operator
from bot.timespans import TimeSpanError, parse_duration

SCHEMA_ID: Final = "azureMonitorCommonAlertSchema"
SOURCE: Final = "azure-monitor"
SOURCE_NAME: Final = "Azure Monitor"
PORTAL_ALERT: Final = "https://portal.azure.com/#view/Microsoft_Azure_Monitoring_Alerts/AlertDetails.ReactView/alertId/"
_OPERATORS: Final[dict[str, Operator]] = {
    "greaterthan": ">",
    "greaterthanorequal": ">=",
    "lessthan": "<",
    "lowerthan": "<",
    "lessthanorequal": "<=",
    "lowerthanorequal": "<=",
    "equal": "==",
    "equals": "==",
    "notequal": "!=",
}
_AGGREGATIONS: Final[dict[str, Aggregation]] = {
    "total": "sum",
    "sum": "sum",
    "average": "avg",
    "minimum": "min",
    "maximum": "max",
}


class PayloadError(ValueError):
    """The body is not a common-schema alert; the message says what is wrong (for a 400)."""


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class Essentials(_Loose):
    alert_id: str = Field(alias="alertId", min_length=1, max_length=512)
    alert_rule: str = Field(alias="alertRule", min_length=1, max_length=260)
    severity: Literal["Sev0", "Sev1", "Sev2", "Sev3", "Sev4"]
    signal_type: str = Field(alias="signalType", default="Log")
    monitor_condition: Literal["Fired", "Resolved"] = Field(alias="monitorCondition")
    monitoring_service: str = Field(alias="monitoringService", default="")
    fired_at: datetime = Field(alias="firedDateTime")
    resolved_at: datetime | None = Field(alias="resolvedDateTime", default=None)
    description: str | None = None
    configuration_items: list[str] = Field(alias="configurationItems", default_factory=list)
    investigation_link: str | None = Field(alias="investigationLink", default=None)

    @field_validator("fired_at", "resolved_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("a time needs its offset (Azure sends UTC with Z)")
        return value


class Dimension(_Loose):
    name: str
    value: Any = None


class Criterion(_Loose):
    search_query: str | None = Field(alias="searchQuery", default=None)
    metric_name: str | None = Field(alias="metricName", default=None)
    metric_namespace: str | None = Field(alias="metricNamespace", default=None)
    metric_measure_column: str | None = Field(alias="metricMeasureColumn", default=None)
    operator: str | None = None
    threshold: Any = None
    time_aggregation: str | None = Field(alias="timeAggregation", default=None)
    dimensions: list[Dimension] = Field(default_factory=list)
    metric_value: float | None = Field(alias="metricValue", default=None)
    link_ui: str | None = Field(alias="linkToFilteredSearchResultsUI", default=None)
    link_all_ui: str | None = Field(alias="linkToSearchResultsUI", default=None)


class Condition(_Loose):
    window_size: str | None = Field(alias="windowSize", default=None)
    all_of: list[Criterion] = Field(alias="allOf", default_factory=list)


class AlertContext(_Loose):
    condition_type: str | None = Field(alias="conditionType", default=None)
    condition: Condition | None = None
    # Activity log alerts
    operation_name: str | None = Field(alias="operationName", default=None)
    caller: str | None = None
    status: str | None = None
    event_timestamp: str | None = Field(alias="eventTimestamp", default=None)


class AlertData(_Loose):
    essentials: Essentials
    alert_context: AlertContext | None = Field(alias="alertContext", default=None)
    custom_properties: dict[str, Any] | None = Field(alias="customProperties", default=None)


class CommonAlert(_Loose):
    schema_id: str = Field(alias="schemaId")
    data: AlertData


def parse_alert(body: Any) -> CommonAlert:
    """The payload as a CommonAlert, or PayloadError saying (in one line) why not."""
    if not isinstance(body, dict):
        raise PayloadError("the body is not a JSON object")
    if body.get("schemaId") != SCHEMA_ID:
        raise PayloadError(
            f"schemaId is {body.get('schemaId')!r}: turn on the common alert schema in the "
            "action group's webhook"
        )
    try:
        return CommonAlert.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise PayloadError(f"{where}: {first['msg']}") from None


def to_signal(alert: CommonAlert) -> ExternalSignal:
    """The bot's view of an Azure Monitor alert."""
    essentials = alert.data.essentials
    context = alert.data.alert_context or AlertContext()
    criterion = _criterion(context)
    return ExternalSignal(
        source=SOURCE,
        source_name=SOURCE_NAME,
        external_id=essentials.alert_id,
        condition="fired" if essentials.monitor_condition == "Fired" else "resolved",
        rule_name=essentials.alert_rule,
        description=essentials.description or None,
        category=_category(alert),
        severity=int(essentials.severity[-1]),
        signal_type=essentials.signal_type or "Log",
        fired_at=essentials.fired_at,
        resolved_at=essentials.resolved_at,
        query=_query(criterion, context),
        measure=_measure(criterion),
        operator=_OPERATORS.get((criterion.operator or "").replace(" ", "").lower(), ">"),
        threshold=_number(criterion.threshold) or 0.0,
        value=criterion.metric_value,
        dimensions={d.name: _text(d.value) for d in criterion.dimensions[:6] if d.name},
        window=_window(context),
        links=_links(essentials, criterion),
        evidence=_evidence(essentials, context),
    )


def _criterion(context: AlertContext) -> Criterion:
    if context.condition and context.condition.all_of:
        return context.condition.all_of[0]
    return Criterion()


def _category(alert: CommonAlert) -> str:
    for key, value in (alert.data.custom_properties or {}).items():
        if key.lower() == "category" and isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return alert.data.essentials.alert_rule


def _query(criterion: Criterion, context: AlertContext) -> str | None:
    if criterion.search_query:
        return criterion.search_query
    if criterion.metric_name:
        namespace = f" ({criterion.metric_namespace})" if criterion.metric_namespace else ""
        return f"// Azure Monitor metric alert on {criterion.metric_name}{namespace}"
    if context.operation_name:
        return f"// Azure Monitor activity log alert on {context.operation_name}"
    return None


def _measure(criterion: Criterion) -> Measure:
    aggregation = _AGGREGATIONS.get((criterion.time_aggregation or "").lower())
    column = criterion.metric_measure_column or criterion.metric_name
    if aggregation is None or not column:
        return Measure()
    return Measure(aggregation=aggregation, column=column)


def _window(context: AlertContext) -> timedelta:
    size = context.condition.window_size if context.condition else None
    try:
        return parse_duration(size) if size else timedelta(minutes=5)
    except TimeSpanError:
        return timedelta(minutes=5)


def _links(essentials: Essentials, criterion: Criterion) -> tuple[Link, ...]:
    portal = essentials.investigation_link
    if not _https(portal):
        portal = PORTAL_ALERT + quote(essentials.alert_id, safe="")
    links = [Link(title="Open the alert in the Azure portal", url=_clean(portal or ""))]
    results = criterion.link_ui or criterion.link_all_ui
    if _https(results):
        links.append(
            Link(title="See the search results in Log Analytics", url=_clean(results or ""))
        )
    return tuple(links)


def _evidence(essentials: Essentials, context: AlertContext) -> tuple[dict[str, Any], ...]:
    facts: list[dict[str, Any]] = [
        {"Resource": item} for item in essentials.configuration_items[:5] if item
    ]
    if context.operation_name:
        facts.append(
            {
                "Operation": context.operation_name,
                "Caller": context.caller or "",
                "Status": context.status or "",
            }
        )
    return tuple(facts)


def _https(url: str | None) -> bool:
    return bool(url) and str(url).startswith("https://")


def _clean(url: str) -> str:
    """A link fit for a card: no spaces or control characters."""
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str:
    return "" if value is None else str(value)[:500]
