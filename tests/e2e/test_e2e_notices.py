"""Tell the affected person directly, in the Agents Playground: the Playground's user is
the person whose password an admin reset (planted in the demo a few minutes before now).
The notice arrives in their Personal Chat; "This wasn't me" turns it into the answer in
place and puts an alert card in the subscribed team channel."""

from __future__ import annotations

import re

from bot.playground.events import Event, card_text
from tests.e2e.teams import ANSWER_SECONDS, SPREAD_SECONDS, TeamsWorld, invoke_card, is_alert_card
from tests.support.playground import action_titles

NOTICE_SECONDS = SPREAD_SECONDS + 30


def is_notice(event: Event) -> bool:
    return event.card is not None and "Was this you?" in card_text(event.card)


async def test_the_person_answers_this_wasnt_me_and_the_channel_is_alerted(
    teams_with_notices: TeamsWorld,
) -> None:
    teams = teams_with_notices
    admin = teams.admin
    ids = admin.ids
    await teams.subscribe_channel()
    await admin.client.install(ids.personal_chat_id)
    await admin.say(ids.personal_chat_id, "help")  # the bot knows the Personal Chat

    await teams.start_alerting()
    notice = await admin.events.wait_for(
        lambda e: e.action == "createMessage" and is_notice(e),
        within=NOTICE_SECONDS,
        what="the notice in the Personal Chat",
    )
    assert notice.channel_id == ids.personal_chat_id
    shown = " ".join(card_text(notice.card or {}).split())
    assert "Reset user password" in shown
    assert "User registered security info" in shown  # grouped: one notice for both
    assert "203.0.113.77" in shown
    titles = action_titles(notice.card or {})
    assert {"This was me", "This wasn't me", "Review your sign-in methods"} <= set(titles)

    admin.events.mark()
    answer = await admin.client.press(notice, "This wasn't me", None)
    answered = invoke_card(answer)
    assert answered is not None, answer
    assert re.search(r"You said this wasn't you", card_text(answered)), card_text(answered)
    assert "This wasn't me" not in action_titles(answered)

    alert = await admin.events.wait_for(is_alert_card, within=ANSWER_SECONDS, what="the alert")
    assert alert.channel_id == ids.channel_id
    alert_text = " ".join(card_text(alert.card or {}).split())
    assert "Your password or sign-in methods changed" in alert_text
    assert "203.0.113.77" in alert_text
    edited = await admin.events.wait_for(
        lambda e: e.action == "updateMessage" and e.message_id == notice.message_id,
        within=ANSWER_SECONDS,
        what="the notice changed in place",
    )
    assert "You said this wasn't you" in card_text(edited.card or {})
    # One notice, never two.
    notices = [e for e in admin.events.events if e.action == "createMessage" and is_notice(e)]
    assert len(notices) == 1
