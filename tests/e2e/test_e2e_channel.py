"""A team channel in the Agents Playground, as its admin uses it: help, subscribe, the
alert cards that arrive, and acknowledge / snooze / resolve from the card."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from typing import Any

from bot.playground.events import Event, card_text
from tests.e2e.teams import (
    ANSWER_SECONDS,
    SPREAD_SECONDS,
    TeamsWorld,
    alert_id,
    invoke_card,
    is_alert_card,
)
from tests.support.playground import action_titles

#: The rules fire within the spread; their queries and deliveries take a few seconds more.
ALERT_SECONDS = SPREAD_SECONDS + 30


async def test_help_in_the_team_channel_answers_with_the_help_card(teams: TeamsWorld) -> None:
    admin = teams.admin
    await admin.client.install(admin.ids.team_id)

    answer = await admin.say(admin.ids.channel_id, "help")

    assert answer.is_thread_reply
    assert answer.channel_id == admin.ids.channel_id
    assert answer.card is not None, answer.describe()
    shown = card_text(answer.card)
    for command in ("subscribe", "alerts", "ack", "snooze", "resolve", "rules"):
        assert command in shown, f"{command!r} missing from the help card: {shown[:300]}"


async def test_a_firing_rule_posts_its_card_in_the_subscribed_channel_only(
    teams: TeamsWorld,
) -> None:
    admin = teams.admin
    ids = admin.ids
    await admin.client.install(ids.personal_chat_id)
    await admin.say(ids.personal_chat_id, "help")  # the bot knows the chat, unsubscribed
    answer = await teams.subscribe_channel()
    assert answer.shows("now hears about all alerts"), answer.describe()

    admin.events.mark()
    await teams.start_alerting()
    first = await admin.events.wait_for(is_alert_card, within=ALERT_SECONDS, what="a card")
    second = await admin.events.wait_for(
        lambda e: is_alert_card(e) and e.message_id != first.message_id,
        within=ALERT_SECONDS,
        what="the second rule's card",
    )
    cards = [first, second]
    await asyncio.sleep(2)  # time enough for a stray delivery to show up

    titles = {card_text(c.card or {}) for c in cards}
    assert any("access review was deleted" in t for t in titles), titles
    assert any("lifecycle workflow run failed" in t for t in titles), titles
    for card in cards:
        assert card.channel_id == ids.channel_id
        assert card.new_post_conversation_id, "an alert starts a thread of its own"
    posted_cards = [e for e in admin.events.since_mark() if e.card is not None]
    assert {e.channel_id for e in posted_cards} == {ids.channel_id}, [
        e.describe() for e in posted_cards
    ]


async def test_acknowledge_snooze_and_resolve_change_the_card_for_everyone(
    teams: TeamsWorld,
) -> None:
    admin = teams.admin
    ids = admin.ids
    await teams.subscribe_channel()
    await admin.client.install(ids.personal_chat_id)
    await admin.say(ids.personal_chat_id, "subscribe all")
    await teams.start_alerting()
    card = await admin.events.wait_for(is_alert_card, within=ALERT_SECONDS, what="an alert card")
    copy = await admin.events.wait_for(
        lambda e: e.channel_id == ids.personal_chat_id and alert_id(e) == alert_id(card),
        within=ANSWER_SECONDS,
        what=f"alert {alert_id(card)} in the personal chat too",
    )

    for button, inputs, shown in (
        ("Acknowledge", None, r"Acknowledged by Alex Wilber at \S+"),
        ("Snooze", {"duration": "1h"}, r"Snoozed until \S+ by Alex Wilber"),
        ("Resolve", None, r"Resolved at \S+"),
    ):
        card, copy = await _press(teams, card, copy, button, inputs, shown=shown)

    assert "Acknowledge" not in action_titles(card.card or {})


async def _press(
    teams: TeamsWorld,
    card: Event,
    copy: Event,
    button: str,
    inputs: dict[str, str] | None,
    *,
    shown: str,
) -> tuple[Event, Event]:
    """Press `button` on `card`: the invoke answer is the updated card, and the card and
    its `copy` (posted elsewhere) are edited in place to match `shown`, and still do once
    every edit has arrived. Their last edits."""
    events = teams.admin.events
    events.mark()
    answer = await teams.admin.client.press(card, button, inputs)

    answered = invoke_card(answer)
    assert answered is not None, f"{button}: the invoke answer is not a card: {answer}"
    assert _matches(answered, shown), f"{button}: invoke answer: {card_text(answered)[:400]}"
    for posted in (card, copy):
        await events.wait_for(
            _edited_to(posted, shown),
            within=ANSWER_SECONDS,
            what=f"the card in {posted.channel_id} edited to show {shown!r} after {button}",
        )
    edited = await events.settle(quiet=1.0)
    last = []
    for posted in (card, copy):
        final = [e for e in edited if _edits(e, posted)][-1]
        assert _matches(final.card or {}, shown), (
            f"{button}: the last edit in {posted.channel_id}: {card_text(final.card or {})}"
        )
        last.append(_as_posted(final, posted))
    return last[0], last[1]


def _edits(event: Event, posted: Event) -> bool:
    return event.action == "updateMessage" and event.message_id == posted.message_id


def _edited_to(posted: Event, pattern: str) -> Callable[[Event], bool]:
    return lambda event: _edits(event, posted) and _matches(event.card or {}, pattern)


def _matches(card: Mapping[str, Any], pattern: str) -> bool:
    return re.search(pattern, " ".join(card_text(card).split())) is not None


def _as_posted(edited: Event, posted: Event) -> Event:
    """The edited message, addressed as the post it edits (for the next press)."""
    message = dict(edited.message)
    if posted.new_post_conversation_id:
        message["postConversationId"] = posted.new_post_conversation_id
    return Event(edited.action, posted.conversation_id, message)
