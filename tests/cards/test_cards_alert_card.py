"""The alert card: content per state, buttons per state, what the buttons send."""

from __future__ import annotations

import base64
import gzip
from typing import Any
from urllib.parse import unquote

import pytest

from bot.channels.teams.cards import CardRenderer
from bot.models import AlertEventKind, AlertStatus
from bot.timespans import parse_duration
from bot.views import SNOOZE_DURATIONS, ActionData, Verb, alert_card_view, reply_kinds, reply_view
from tests.cards.conftest import actions, nodes, texts
from tests.cards.samples import JOB, NOW, TARGET, alert, event, evidence_row, job_rule

BUTTONS = {
    AlertStatus.FIRING: ["Acknowledge", "Snooze", "Resolve", "Show query", "Open in Log Analytics"],
    AlertStatus.ACKNOWLEDGED: ["Snooze", "Resolve", "Show query", "Open in Log Analytics"],
    AlertStatus.SNOOZED: ["End snooze", "Resolve", "Show query", "Open in Log Analytics"],
    AlertStatus.RESOLVED: ["Show query", "Open in Log Analytics"],
}


def render(renderer: CardRenderer, status: AlertStatus, **overrides: Any) -> dict[str, Any]:
    view = alert_card_view(alert(status, **overrides), job_rule(), now=NOW, log_analytics=TARGET)
    return renderer.render(view)


@pytest.mark.parametrize(("status", "titles"), BUTTONS.items())
def test_only_the_buttons_that_apply_are_shown(
    renderer: CardRenderer, status: AlertStatus, titles: list[str]
) -> None:
    assert list(actions(render(renderer, status))) == titles


@pytest.mark.parametrize(
    ("status", "line"),
    [
        (AlertStatus.FIRING, "Firing since {{TIME(2026-05-04T10:42:00Z)}}"),
        (
            AlertStatus.ACKNOWLEDGED,
            "Acknowledged by \nAlex Wilber\n at {{TIME(2026-05-04T10:47:00Z)}}",
        ),
        (AlertStatus.SNOOZED, "Snoozed until {{TIME(2026-05-04T14:00:00Z)}} by \nSam Lee"),
        (AlertStatus.RESOLVED, "Resolved at {{TIME(2026-05-04T11:30:00Z)}}"),
    ],
)
def test_the_header_says_the_state_who_and_when(
    renderer: CardRenderer, status: AlertStatus, line: str
) -> None:
    card = render(renderer, status)
    assert line in texts(card)
    others = {"Firing since", "Acknowledged by \n", "Snoozed until", "Resolved at"}
    assert sum(other in texts(card) for other in others) == 1 + (status is AlertStatus.SNOOZED)


def test_a_persons_note_is_shown_but_not_the_engines(renderer: CardRenderer) -> None:
    assert "on it, SCIM down" in texts(render(renderer, AlertStatus.ACKNOWLEDGED))
    assert "Note: " not in texts(render(renderer, AlertStatus.RESOLVED))


def test_the_card_says_what_was_found_and_when(renderer: CardRenderer) -> None:
    text = texts(render(renderer, AlertStatus.FIRING))
    assert "Sev1 · Error" in text
    assert "Failures on a business-critical provisioning job" in text
    assert "Provisioning · alert 42" in text
    assert "Rows: \n12\n (alerts when > 5)" in text
    assert f"JobId: \n{JOB}" in text
    assert "Window: the 6h up to {{TIME(2026-05-04T10:45:00Z)}}, checked every 15m" in text
    assert "group the failures by error code" in text
    assert "[Known issues for provisioning](https://learn.microsoft.com/" in text


def test_evidence_shows_varying_columns_and_says_what_was_left_out(
    renderer: CardRenderer,
) -> None:
    card = render(renderer, AlertStatus.FIRING)
    table = next(n for n in nodes(card) if n.get("type") == "Table" and n.get("firstRowAsHeaders"))
    header = [c["items"][0]["inlines"][0]["text"] for c in table["rows"][0]["cells"]]
    # SourceIdentity varies but is JSON text (a dynamic column): unreadable in a narrow
    # column (it overlapped its neighbours in the Playground), so it is named, not shown.
    assert header == ["TimeGenerated"]
    assert len(table["rows"]) == 6
    first = [c["items"][0]["inlines"][0]["text"] for c in table["rows"][1]["cells"]]
    assert first[0] == "2026-05-04 10:30:00"
    text = texts(card)
    assert "…and 7 more rows" in text  # 12 rows matched, 5 kept by the engine
    assert "ResultSignature: \nSchemaAttributeNotFound" in text
    assert text.count("JobId: ") == 1  # a dimension: shown once, not again with the rows
    assert "Not shown: SourceIdentity, ServicePrincipal, DurationMs" in text


def test_alert_buttons_send_the_alert_id_and_version(renderer: CardRenderer) -> None:
    buttons = actions(render(renderer, AlertStatus.FIRING))
    assert buttons["Acknowledge"]["verb"] == Verb.ACKNOWLEDGE
    assert buttons["Resolve"]["verb"] == Verb.RESOLVE
    for title in ("Acknowledge", "Resolve"):
        data = ActionData.model_validate(buttons[title]["data"])
        assert (data.alert_id, data.version) == (42, 3)
    snooze = buttons["Snooze"]["card"]
    assert snooze["actions"][0]["verb"] == Verb.SNOOZE
    assert snooze["actions"][0]["data"] == {"alertId": 42, "version": 3}
    assert actions(render(renderer, AlertStatus.SNOOZED))["End snooze"]["verb"] == Verb.UNSNOOZE


def test_snooze_offers_the_presets_as_the_snooze_command_spells_them(
    renderer: CardRenderer,
) -> None:
    choice_set = actions(render(renderer, AlertStatus.FIRING))["Snooze"]["card"]["body"][0]
    assert choice_set["id"] == "duration"
    assert [c["title"] for c in choice_set["choices"]] == [
        "1 hour",
        "4 hours",
        "24 hours",
        "1 week",
    ]
    values = tuple(c["value"] for c in choice_set["choices"])
    assert values == SNOOZE_DURATIONS
    assert [parse_duration(v).total_seconds() / 3600 for v in values] == [1, 4, 24, 168]
    pressed = ActionData.model_validate({"alertId": 42, "version": 3, "duration": "4h"})
    assert pressed.duration == "4h"


def test_every_verb_in_the_templates_is_a_known_verb(renderer: CardRenderer) -> None:
    import json

    from bot.channels.teams.cards.render import TEMPLATES_DIR

    verbs = {
        node["verb"]
        for path in TEMPLATES_DIR.glob("*.json")
        for node in nodes(json.loads(path.read_text()))
        if "verb" in node
    }
    assert verbs == {verb.value for verb in Verb}


def test_show_query_toggles_the_hidden_kql_block(renderer: CardRenderer) -> None:
    card = render(renderer, AlertStatus.FIRING)
    assert actions(card)["Show query"]["targetElements"] == ["query"]
    block = next(n for n in nodes(card) if n.get("id") == "query")
    assert block["isVisible"] is False
    lines = [n["text"] for n in nodes(block) if n.get("fontType") == "Monospace"]
    assert lines == job_rule().query.rstrip().splitlines()


def test_open_in_log_analytics_carries_query_workspace_and_window(
    renderer: CardRenderer,
) -> None:
    url = actions(render(renderer, AlertStatus.FIRING))["Open in Log Analytics"]["url"]
    prefix = f"https://portal.azure.com/#@{TARGET.tenant_id}/blade/Microsoft_Azure_Monitoring_Logs"
    assert url.startswith(prefix)
    segments = url.split("/")
    resource = unquote(segments[segments.index("resourceId") + 1])
    assert resource == TARGET.resource_id
    q = unquote(segments[segments.index("q") + 1])
    assert gzip.decompress(base64.b64decode(q)).decode() == job_rule().query
    timespan = unquote(segments[segments.index("timespan") + 1])
    assert timespan == "2026-05-04T04:45:00Z/2026-05-04T10:45:00Z"


def test_no_portal_button_without_a_workspace_resource_id(renderer: CardRenderer) -> None:
    card = renderer.render(alert_card_view(alert(), job_rule(), now=NOW))
    assert "Open in Log Analytics" not in actions(card)


def test_untrusted_text_is_never_read_as_markdown(renderer: CardRenderer) -> None:
    """Log values and names go in TextRuns; only rule and template text is markdown."""
    hostile = "[Reset your password](https://evil.example) **now**"
    rows = [{**evidence_row(n), "ResultDescription": f"{hostile} {n}"} for n in range(3)]
    card = render(
        renderer,
        AlertStatus.ACKNOWLEDGED,
        dimensions={"JobId": hostile},
        evidence=rows,
        history=[],
        acknowledged_by=hostile,
    )
    markdown = [n["text"] for n in nodes(card) if n.get("type") == "TextBlock"]
    runs = [n["text"] for n in nodes(card) if n.get("type") == "TextRun"]
    assert not any("evil.example" in text for text in markdown)
    assert sum("evil.example" in text for text in runs) >= 4


def test_the_date_is_shown_for_other_days(renderer: CardRenderer) -> None:
    from datetime import timedelta

    view = alert_card_view(alert(), job_rule(), now=NOW + timedelta(days=2))
    stamp = "2026-05-04T10:42:00Z"
    assert f"Firing since {{{{DATE({stamp}, SHORT)}}}} {{{{TIME({stamp})}}}}" in texts(
        renderer.render(view)
    )


def test_views_hold_datetimes_and_buttons_not_card_markup() -> None:
    view = alert_card_view(alert(), job_rule(), now=NOW)
    assert view.status.since == alert().opened_at
    assert [b.verb for b in view.buttons] == [Verb.ACKNOWLEDGE, Verb.SNOOZE, Verb.RESOLVE]
    assert [o.value for o in view.buttons[1].options] == ["1h", "4h", "24h", "7d"]
    assert "{{" not in view.model_dump_json()


# --- Thread replies ---------------------------------------------------------------


def test_renotify_says_it_is_still_firing_with_the_value(renderer: CardRenderer) -> None:
    card = renderer.render(reply_view(event(AlertEventKind.RENOTIFY), job_rule(), now=NOW))
    assert "Still firing: \nRows now 12\n (alerts when > 5)" in texts(card)


def test_resolved_and_snooze_expired_replies(renderer: CardRenderer) -> None:
    rule = job_rule()
    resolved = texts(renderer.render(reply_view(event(AlertEventKind.RESOLVED), rule, now=NOW)))
    assert "Resolved at {{TIME(2026-05-04T10:50:00Z)}}: " in resolved
    expired = texts(
        renderer.render(reply_view(event(AlertEventKind.SNOOZE_EXPIRED), rule, now=NOW))
    )
    assert "Snooze ended at {{TIME(2026-05-04T10:50:00Z)}} and the alert is still firing" in expired


def test_an_evaluation_error_names_the_rule_the_error_and_what_to_check(
    renderer: CardRenderer,
) -> None:
    view = reply_view(event(AlertEventKind.EVALUATION_ERROR), job_rule(), now=NOW, failures=3)
    text = texts(renderer.render(view))
    assert "Could not evaluate the rule" in text
    assert "provisioning-job-failure-spike" in text
    assert "Failed to resolve column or scalar expression named 'JobIdd'" in text
    assert "Failed 3 times in a row." in text
    assert "What to check" in text


def test_only_follow_up_events_have_replies() -> None:
    assert AlertEventKind.FIRED not in reply_kinds()
    with pytest.raises(ValueError, match="update the card"):
        reply_view(event(AlertEventKind.UPDATED), job_rule(), now=NOW)
