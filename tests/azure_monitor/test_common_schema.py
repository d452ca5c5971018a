"""The common alert schema as Azure Monitor sends it, in the bot's terms.

Payloads follow "Sample alert payloads" and "Common alert schema" (learn.microsoft.com,
azure-monitor/alerts): a log search alert V2 fired and resolved, a metric alert and an
activity log alert; plus the ways a body can be wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.alerts.external import external_rule
from bot.alerts.rule_model import Rule
from bot.alerts.rules import check_rules
from bot.azure_monitor.common_schema import PayloadError, parse_alert, to_signal

DATA = Path(__file__).parent / "data"


def payload(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / name).read_text())
    return loaded


def test_a_fired_log_search_alert() -> None:
    signal = to_signal(parse_alert(payload("log-alert-fired.json")))
    assert signal.condition == "fired"
    assert signal.rule_id == "azure-monitor-provisioning-failure-spike"
    assert (signal.severity, signal.category, signal.signal_type) == (2, "Provisioning", "Log")
    assert signal.query is not None
    assert signal.query.startswith("AADProvisioningLogs")
    assert (signal.operator, signal.threshold, signal.value) == (">", 10.0, 25.0)
    assert signal.dimensions == {
        "JobId": "scim.3ed727b241f74b28a1e90478f05825e5.6417b88f-b93c-4137-8a73-e7e3daadd60a"
    }
    assert signal.window.total_seconds() == 86400
    titles = [link.title for link in signal.links]
    assert titles == [
        "Open the alert in the Azure portal",
        "See the search results in Log Analytics",
    ]
    assert "/filtered/" in signal.links[1].url  # the filtered results, for this dimension


def test_resolved_shares_the_alert_id_but_not_the_notification_key() -> None:
    fired = to_signal(parse_alert(payload("log-alert-fired.json")))
    resolved = to_signal(parse_alert(payload("log-alert-resolved.json")))
    assert resolved.condition == "resolved"
    assert resolved.external_id == fired.external_id
    assert resolved.notification_key != fired.notification_key
    assert resolved.resolved_at is not None


def test_a_metric_alert_is_shown_with_its_metric() -> None:
    signal = to_signal(parse_alert(payload("metric-alert.json")))
    assert signal.category == "Bot container CPU"  # no category property: the rule's name
    assert (
        signal.query
        == "// Azure Monitor metric alert on UsageNanoCores (Microsoft.App/containerApps)"
    )
    assert signal.measure.describe() == "avg(UsageNanoCores)"
    assert signal.value == pytest.approx(912000000.5)
    assert signal.links[0].url.startswith(
        "https://portal.azure.com/#view/Microsoft_Azure_Monitoring_Alerts/AlertDetails"
    )


def test_an_activity_log_alert_is_shown_with_its_operation_and_caller() -> None:
    signal = to_signal(parse_alert(payload("activity-log-alert.json")))
    assert signal.severity == 1
    assert {
        "Operation": "microsoft.insights/diagnosticSettings/delete",
        "Caller": "admin@contoso.com",
        "Status": "Succeeded",
    } in signal.evidence
    assert {"Resource": "entra-logs"} in signal.evidence


@pytest.mark.parametrize(
    "name", ["log-alert-fired.json", "metric-alert.json", "activity-log-alert.json"]
)
def test_the_rule_it_is_shown_with_survives_the_store(name: str) -> None:
    rule = external_rule(to_signal(parse_alert(payload(name))))
    assert rule.description.startswith("From Azure Monitor: ")
    assert rule.remediation.links[0].url.startswith("https://portal.azure.com/")
    assert Rule.model_validate(rule.model_dump(mode="json")) == rule  # as the store keeps it


def test_a_log_alert_rule_checks_like_a_rule_file(tmp_path: Path) -> None:
    rule = external_rule(to_signal(parse_alert(payload("log-alert-fired.json"))))
    path = tmp_path / "rule.yaml"
    path.write_text(yaml.safe_dump({"rules": [rule.model_dump(mode="json")]}))
    assert check_rules([path]).errors == []


def _broken(change: Any) -> dict[str, Any]:
    body = payload("log-alert-fired.json")
    change(body)
    return body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([1, 2], "not a JSON object"),
        (
            {"schemaId": "Microsoft.Insights/LogAlert", "data": {}},
            "turn on the common alert schema",
        ),
        (_broken(lambda b: b["data"]["essentials"].pop("alertId")), "data.essentials.alertId"),
        (_broken(lambda b: b["data"]["essentials"].update(severity="Sev9")), "severity"),
        (
            _broken(lambda b: b["data"]["essentials"].update(monitorCondition="Maybe")),
            "monitorCondition",
        ),
        (
            _broken(lambda b: b["data"]["essentials"].update(firedDateTime="yesterday")),
            "firedDateTime",
        ),
        (
            _broken(lambda b: b["data"]["essentials"].update(firedDateTime="2026-12-04T08:05:12")),
            "offset",
        ),
    ],
)
def test_a_body_that_is_no_alert_says_why(body: Any, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse_alert(body)


def test_unknown_fields_are_tolerated() -> None:
    body = _broken(lambda b: b["data"]["essentials"].update(somethingNew={"x": 1}))
    assert to_signal(parse_alert(body)).external_id.endswith("83a997729330")
