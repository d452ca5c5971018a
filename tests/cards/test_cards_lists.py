"""The list and help cards, and the query-result card with its chart."""

from __future__ import annotations

import pytest

from bot.channels.teams.cards import CardRenderer
from bot.command_help import COMMANDS
from bot.models import AlertStatus, RuleHealth
from bot.views import (
    CommandHelp,
    alert_list_view,
    help_view,
    query_result_view,
    rule_detail_view,
    rule_list_view,
    subscription_list_view,
)
from tests.cards.conftest import actions, nodes, texts
from tests.cards.samples import NOW, alert, job_rule, query_result, subscriptions

#: The commands of issue 4, item 3, as the registry will describe them.
ISSUE_COMMANDS = [
    "subscribe <category|rule id|all> [min severity]",
    "unsubscribe <category|rule id|all>",
    "subscriptions",
    "alerts [open|all]",
    "ack <id> [note]",
    "snooze <id> <duration>",
    "unsnooze <id>",
    "resolve <id> [note]",
    "rules",
    "rule <id>",
    "run <rule id>",
    "help",
    "health [job or app]",
    "digest [now|daily 08:00 [tz]|weekly mon 08:00|off]",
]


def test_help_lists_every_command_with_description_and_examples(renderer: CardRenderer) -> None:
    assert sorted(c.usage for c in COMMANDS) == sorted(ISSUE_COMMANDS)
    text = texts(renderer.render(help_view(COMMANDS)))
    for command in COMMANDS:
        assert command.usage in text
        assert command.description in text
        assert "   ·   ".join(command.examples) in text
    assert text.count("  admins") == sum(c.admin_only for c in COMMANDS)


def test_help_renders_whatever_the_registry_provides(renderer: CardRenderer) -> None:
    commands = [CommandHelp(name="ping", usage="ping", description="Answer pong.")]
    card = renderer.render(help_view(commands, intro="Unknown text: here is what I do."))
    assert "ping\nAnswer pong." in texts(card)
    assert "Unknown text: here is what I do." in texts(card)


def test_alert_list_puts_open_and_severe_first_and_filters_open(renderer: CardRenderer) -> None:
    rule = job_rule()
    low = job_rule(id="low", title="Low one", severity=4)
    alerts = [
        alert(AlertStatus.RESOLVED, id=1),
        alert(id=2, rule_id="low"),
        alert(AlertStatus.ACKNOWLEDGED, id=3),
    ]
    rules = {rule.id: rule, low.id: low}
    open_view = alert_list_view(alerts, rules, scope="open", now=NOW)
    assert [r.alert_id for r in open_view.rows] == ["3", "2"]
    all_view = alert_list_view(alerts, rules, scope="all", now=NOW)
    assert [r.alert_id for r in all_view.rows] == ["3", "2", "1"]
    text = texts(renderer.render(all_view))
    assert "All alerts (3)" in text
    assert "acknowledged by Alex Wilber" in text
    assert "resolved {{TIME(2026-05-04T11:30:00Z)}}" in text
    assert "firing since {{TIME(2026-05-04T10:42:00Z)}}" in text


def test_an_empty_alert_list_says_so(renderer: CardRenderer) -> None:
    text = texts(renderer.render(alert_list_view([], {}, scope="open", now=NOW)))
    assert "Open alerts (0)" in text
    assert "no alert is open" in text
    assert not any(
        n.get("type") == "Table"
        for n in nodes(renderer.render(alert_list_view([], {}, scope="open", now=NOW)))
    )


def test_long_alert_lists_are_cut_with_a_count(renderer: CardRenderer) -> None:
    view = alert_list_view([alert(id=n) for n in range(60)], {}, scope="open", now=NOW)
    assert len(view.rows) == 25
    assert "…and 35 more alerts" in texts(renderer.render(view))


def test_subscriptions_card(renderer: CardRenderer) -> None:
    view = subscription_list_view(subscriptions(), rule_ids={"workflow-failed"}, now=NOW)
    text = texts(renderer.render(view))
    assert "Everything: \nall alerts\n · all severities" in text
    assert "Category \nProvisioning\n · Sev2 (Warning) and more severe" in text
    assert "Rule \nworkflow-failed\n · Sev1 (Error) and more severe" in text
    empty = texts(renderer.render(subscription_list_view([], now=NOW)))
    assert "subscribe all" in empty


def test_rules_card_shows_id_category_severity_schedule(renderer: CardRenderer) -> None:
    view = rule_list_view([job_rule(), job_rule(id="off", enabled=False, severity=3)])
    text = texts(renderer.render(view))
    assert "provisioning-job-failure-spike\nFailures on a business-critical" in text
    assert "Sev1" in text
    assert "Sev3" in text
    assert "every 15m over 6h" in text
    assert text.count("disabled") == 1


@pytest.mark.parametrize(
    ("health", "expected"),
    [
        (None, "Not evaluated yet."),
        (RuleHealth(rule_id="r", last_evaluated_at=NOW), "query ran"),
        (RuleHealth(rule_id="r", last_evaluated_at=NOW, last_error="Timeout"), "query failed"),
    ],
)
def test_rule_card_shows_kql_schedule_and_last_result(
    renderer: CardRenderer, health: RuleHealth | None, expected: str
) -> None:
    card = renderer.render(rule_detail_view(job_rule(), health=health, open_alerts=2, now=NOW))
    text = texts(card)
    assert expected in text
    assert "every 15m over 6h" in text
    assert "rows > 5" in text
    assert '| where ResultType == "Failure"' in text
    run = actions(card)["Run now"]
    assert (run["verb"], run["data"]) == ("rule.run", {"ruleId": "provisioning-job-failure-spike"})
    if health is not None:
        assert "2 open alerts" in text


def test_query_result_card_has_table_summary_and_collapsed_kql(renderer: CardRenderer) -> None:
    view = query_result_view(query_result(20), kql="AADProvisioningLogs", timespan="last 24h")
    card = renderer.render(view)
    text = texts(card)
    assert "20 rows · 153 ms · last 24h" in text
    assert "…and 5 more rows" in text
    assert "2026-05-03 12:00:00" in text
    assert next(n for n in nodes(card) if n.get("id") == "query")["isVisible"] is False
    assert not any(str(n.get("type", "")).startswith("Chart.") for n in nodes(card))


def test_a_render_column_chart_becomes_a_bar_chart_with_a_fallback_table(
    renderer: CardRenderer,
) -> None:
    result = query_result(4, render={"visualization": "columnchart", "title": "Failures"})
    card = renderer.render(query_result_view(result, kql="x"))
    chart = next(n for n in nodes(card) if n.get("type") == "Chart.VerticalBar")
    assert chart["title"] == "Failures"
    assert chart["data"] == [
        {"x": "SchemaAttributeNotFound", "y": 0.0},
        {"x": "EntryConflict", "y": 1.0},
        {"x": "SchemaAttributeNotFound", "y": 2.0},
        {"x": "EntryConflict", "y": 3.0},
    ]
    assert chart["fallback"]["type"] == "Container"
    assert any(n.get("type") == "Table" for n in nodes(chart["fallback"]))


def test_a_line_chart_has_one_series_per_text_value(renderer: CardRenderer) -> None:
    card = renderer.render(query_result_view(query_result(6), kql="x", chart="line"))
    chart = next(n for n in nodes(card) if n.get("type") == "Chart.Line")
    assert [s["legend"] for s in chart["data"]] == ["SchemaAttributeNotFound", "EntryConflict"]
    assert chart["data"][1]["values"][0] == {"x": "05-03 13:00", "y": 1.0}
    assert chart["xAxisTitle"] == "TimeGenerated"


def test_an_empty_result_says_so_and_has_no_table(renderer: CardRenderer) -> None:
    card = renderer.render(query_result_view(query_result(0), kql="x", chart="bar"))
    assert "The query returned no rows." in texts(card)
    assert not any(n.get("type") in ("Table", "Chart.VerticalBar") for n in nodes(card))
