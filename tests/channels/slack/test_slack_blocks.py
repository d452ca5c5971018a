"""Block Kit messages from the neutral views, checked with slack_sdk's own validation of
Slack's documented limits (docs.slack.dev/reference/block-kit: 50 blocks, header 150,
section 3000, field 2000, 10 fields, 25 action elements, button text 75, option value 150)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.channels.slack.message import SlackMessage
from bot.channels.slack.render import SlackRenderer
from bot.models import AlertStatus
from bot.views import alert_card_view
from bot.views.model import CardView
from bot.views.notice import NoticeView
from tests.cards.samples import NOW, alert, huge_views, job_rule, notice_views, sample_views

RENDERER = SlackRenderer()


def slack_views(views: dict[str, CardView]) -> list[tuple[str, CardView]]:
    """The views Slack shows: every one, notices to the affected person included (a DM)."""
    return sorted(views.items())


def elements(message: SlackMessage) -> list[dict[str, Any]]:
    return [e for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


@pytest.mark.parametrize(("name", "view"), slack_views(sample_views()))
def test_every_view_renders_within_slacks_limits(name: str, view: CardView) -> None:
    message = RENDERER.render(view)
    assert message.problems() == []
    assert message.text.strip()


@pytest.mark.parametrize(("name", "view"), slack_views(huge_views()))
def test_huge_views_are_shrunk_until_they_fit(name: str, view: CardView) -> None:
    message = RENDERER.render(view)
    assert message.problems() == []
    assert message.size() <= RENDERER.max_payload


def test_a_firing_alert_has_its_buttons_with_their_data() -> None:
    firing = alert()
    message = RENDERER.render(alert_card_view(firing, job_rule(), now=NOW))
    by_id = {e["action_id"]: e for e in elements(message)}
    assert list(by_id) == ["alert.ack", "alert.snooze", "alert.resolve", "alert.query"]
    assert json.loads(by_id["alert.ack"]["value"]) == {
        "alertId": firing.id,
        "version": firing.version,
    }
    assert by_id["alert.ack"]["style"] == "primary"
    assert by_id["alert.resolve"]["style"] == "danger"
    assert "confirm" in by_id["alert.resolve"]
    options = [json.loads(o["value"])["duration"] for o in by_id["alert.snooze"]["options"]]
    assert options == ["1h", "4h", "24h", "7d"]
    assert message.blocks[0]["type"] == "header"
    assert any(b["type"] == "table" for b in message.blocks)


def test_a_snoozed_alert_offers_to_end_the_snooze() -> None:
    message = RENDERER.render(alert_card_view(alert(AlertStatus.SNOOZED), job_rule(), now=NOW))
    ids = [e["action_id"] for e in elements(message)]
    assert "alert.unsnooze" in ids
    assert "alert.snooze" not in ids
    assert "*Snoozed* until <!date^" in json.dumps(message.blocks)


def test_text_from_logs_is_never_markup() -> None:
    hostile = "<!channel> *bold* <https://evil.example|click>"
    view = alert_card_view(alert(dimensions={"JobId": hostile}), job_rule(), now=NOW)
    dumped = json.dumps(RENDERER.render(view).blocks)
    assert "<!channel>" not in dumped
    assert "<https://evil.example" not in dumped


def test_every_sample_view_kind_has_a_slack_rendering_notices_included() -> None:
    kinds = {type(view) for view in sample_views().values()}
    assert NoticeView in kinds
    for view in sample_views().values():
        assert RENDERER.render(view).blocks


def test_a_notice_asks_with_both_answers_and_the_security_info_link() -> None:
    view = notice_views()["notice"]
    assert isinstance(view, NoticeView)
    message = RENDERER.render(view)
    by_id = {e["action_id"]: e for e in elements(message)}
    assert list(by_id) == ["notice.was_me", "notice.not_me", "notice.security_info"]
    assert json.loads(by_id["notice.not_me"]["value"]) == {
        "notice_id": view.notice_id,
        "events_shown": 2,
    }
    assert by_id["notice.not_me"]["style"] == "danger"
    assert by_id["notice.security_info"]["url"] == "https://mysignins.microsoft.com/security-info"
    dumped = json.dumps(message.blocks)
    assert view.person in dumped
    for row in view.events:
        assert f"<!date^{int(row.at.timestamp())}^" in dumped  # in the reader's time zone
        assert row.who is not None
        assert row.who in dumped
    assert "Was this you?" in dumped
    assert view.person in message.text
    assert view.events[0].text in message.text


@pytest.mark.parametrize(
    ("name", "said"),
    [("notice-was-me", "you said this was you"), ("notice-not-me", "You said this wasn't you")],
)
def test_an_answered_notice_says_what_was_answered_and_when_without_buttons(
    name: str, said: str
) -> None:
    view = notice_views()[name]
    assert isinstance(view, NoticeView)
    assert view.answered_at is not None
    message = RENDERER.render(view)
    assert [e["action_id"] for e in elements(message)] == ["notice.security_info"]
    dumped = json.dumps(message.blocks)
    assert said in dumped
    assert f"Noted at <!date^{int(view.answered_at.timestamp())}^{{time}}|" in dumped
    if name == "notice-not-me":
        assert "(alert 12)" in dumped


def test_notice_text_from_logs_is_never_markup() -> None:
    view = notice_views()["notice"]
    assert isinstance(view, NoticeView)
    hostile = view.events[0].model_copy(update={"text": "<!channel> *x*", "ip_address": "<@U1>"})
    dumped = json.dumps(RENDERER.render(view.model_copy(update={"events": (hostile,)})).blocks)
    assert "<!channel>" not in dumped
    assert "<@U1>" not in dumped
