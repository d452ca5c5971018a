"""The alert card's buttons: each press answers with the card as the alert now stands.

Buttons are pressed on the rendered card, with the data its template bound, as Teams
sends them; an outdated card still acts when the action makes sense.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import messages
from bot.models import AlertEventKind, AlertStatus
from bot.views.model import AlertCardView
from tests.support.chat import CHANNEL, ChatHarness, ChatReply

SPIKE = "provisioning-failure-spike"


async def fired(chat: ChatHarness) -> ChatReply:
    reply = await chat.say(f"run {SPIKE}")
    assert isinstance(reply.view, AlertCardView)
    return reply


def card_of(reply: ChatReply) -> AlertCardView:
    assert isinstance(reply.view, AlertCardView), reply
    return reply.view


async def test_acknowledge_updates_the_card(chat: ChatHarness) -> None:
    await chat.say("subscribe all")
    card = await fired(chat)

    reply = await chat.press(card, "alert.ack")

    view = card_of(reply)
    assert reply.text is None  # the card says it
    assert view.status.state == "acknowledged"
    assert view.status.actor == "Alex Admin"
    assert reply.verbs == ["alert.snooze", "alert.resolve"]
    assert view.buttons[0].data["version"] > card_of(card).buttons[0].data["version"]
    updates = [
        i.event.kind for i in await chat.store.list_outbox(conversation_id=CHANNEL)
    ]  # the card is updated for everyone in the channel, through the outbox
    assert updates == [AlertEventKind.FIRED, AlertEventKind.UPDATED]
    assert [e.action for e in await chat.audit() if e.alert_id] == ["ack"]


async def test_snooze_uses_the_chosen_duration(chat: ChatHarness) -> None:
    card = await fired(chat)

    default = await chat.press(card, "alert.snooze")  # the card's choice starts at 4 hours
    woken = await chat.press(default, "alert.unsnooze")
    one_hour = await chat.press(woken, "alert.snooze", duration="1h")

    assert card_of(default).status.state == "snoozed"
    assert card_of(default).status.until.isoformat() == "2026-03-02T16:00:00+00:00"
    assert default.verbs == ["alert.ack", "alert.unsnooze", "alert.resolve"]
    assert card_of(woken).status.state == "firing"
    assert card_of(one_hour).status.until.isoformat() == "2026-03-02T13:00:00+00:00"


async def test_snooze_with_a_duration_that_is_no_duration(chat: ChatHarness) -> None:
    card = await fired(chat)

    reply = await chat.press(card, "alert.snooze", duration="forever")
    too_long = await chat.press(card, "alert.snooze", duration="90d")
    overflowing = await chat.press(card, "alert.snooze", duration="99999999999d")

    assert reply.text == messages.bad_duration("forever")
    assert too_long.text is not None
    assert "out of range" in too_long.text
    assert overflowing.text == messages.duration_out_of_range(
        "99999999999d", timedelta(minutes=1), timedelta(days=30)
    )
    alert = await chat.store.get_alert(card_of(card).alert_id)
    assert alert is not None
    assert alert.status is AlertStatus.FIRING


async def test_resolve_leaves_no_buttons(chat: ChatHarness) -> None:
    card = await fired(chat)

    reply = await chat.press(card, "alert.resolve")

    assert card_of(reply).status.state == "resolved"
    assert reply.verbs == []


async def test_an_outdated_card_still_acts_and_shows_the_current_state(chat: ChatHarness) -> None:
    card = await fired(chat)
    alert_id = card_of(card).alert_id
    await chat.say(f"ack {alert_id}")  # the card above is outdated now

    reply = await chat.press(card, "alert.snooze")

    assert reply.text == messages.stale_card(alert_id)
    view = card_of(reply)
    assert view.status.state == "snoozed"
    assert view.status.acknowledged_by is not None


async def test_an_outdated_button_that_no_longer_applies_shows_why(chat: ChatHarness) -> None:
    card = await fired(chat)
    alert_id = card_of(card).alert_id
    await chat.press(card, "alert.ack")

    again = await chat.press(card, "alert.ack")
    await chat.press(card, "alert.resolve")
    after_resolve = await chat.press(card, "alert.snooze")

    assert again.text == messages.already_acknowledged(alert_id, "Alex Admin")
    assert card_of(again).status.state == "acknowledged"
    assert after_resolve.text == messages.alert_not_open(alert_id)
    assert card_of(after_resolve).status.state == "resolved"
    assert [e.action for e in await chat.audit() if e.alert_id] == ["ack", "resolve"]


async def test_unsnooze_on_an_alert_that_is_not_snoozed(chat: ChatHarness) -> None:
    card = await fired(chat)
    snoozed = await chat.press(card, "alert.snooze")
    await chat.say(f"unsnooze {card_of(card).alert_id}")

    reply = await chat.press(snoozed, "alert.unsnooze")

    assert reply.text == messages.not_snoozed(card_of(card).alert_id)
    assert card_of(reply).status.state == "firing"


async def test_run_now_on_the_rule_card(chat: ChatHarness) -> None:
    rule_card = await chat.say(f"rule {SPIKE}")

    reply = await chat.press(rule_card, "rule.run")

    assert reply.text == f"Rule `{SPIKE}` fired:"
    assert card_of(reply).rule_id == SPIKE


async def test_buttons_that_send_nonsense(chat: ChatHarness) -> None:
    unknown = await chat.router.handle_card_action(chat.caller, "alert.explode", {"alertId": 1})
    unreadable = await chat.router.handle_card_action(chat.caller, "alert.ack", {"alertId": "x"})
    no_alert = await chat.router.handle_card_action(chat.caller, "alert.ack", {"version": 1})
    gone = await chat.router.handle_card_action(chat.caller, "alert.ack", {"alertId": 77})
    no_rule = await chat.router.handle_card_action(chat.caller, "rule.run", {"ruleId": "nope"})

    assert unknown.text == messages.unknown_button()
    assert unreadable.text == messages.bad_button()
    assert no_alert.text == messages.bad_button()
    assert gone.text == messages.alert_not_found(77)
    assert no_rule.text == messages.rule_not_found("nope")
    assert [unknown.view, unreadable.view, no_alert.view, gone.view, no_rule.view] == [None] * 5


@pytest.mark.parametrize("alert_id", [2**31, 10**9, 0, -1, 2**63])
async def test_an_alert_id_no_card_of_ours_sends_is_refused_politely(
    chat: ChatHarness, alert_id: int
) -> None:
    # A 32-bit column overflows from 2**31 (PostgreSQL: an error, once a 500); ids people
    # type have at most 9 digits, and a card sends only ids the bot handed out.
    for verb in ("alert.ack", "alert.snooze", "alert.resolve"):
        data = {"alertId": alert_id, "version": 0, "duration": "1h"}
        reply = await chat.router.handle_card_action(chat.caller, verb, data)
        assert reply.text == messages.bad_button()
    assert await chat.store.list_audit() == []
