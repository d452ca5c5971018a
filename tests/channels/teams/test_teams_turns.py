"""Teams turns against the real botbuilder adapter: conversation references kept and pruned,
a message to the router and its reply in the same thread, a card button answered with the
updated card and the posted message updated for everyone, other tenants refused."""

from __future__ import annotations

from typing import Any

from bot.channels.teams.cards import CardRenderer
from bot.commands.base import Reply
from bot.models import ChannelKind, Subscription
from bot.store.sql import SqlStore
from bot.views import alert_card_view
from tests.cards.samples import NOW, alert, job_rule
from tests.channels.teams.conftest import (
    BOT_ID,
    CHANNEL,
    GROUP_CHAT,
    OTHER_TENANT,
    PERSONAL,
    TEAM,
    TENANT,
    USER_AAD,
    Client,
    ScriptedRouter,
    activity,
    card_press,
    channel,
    message,
)
from tests.channels.teams.fake_connector import FakeConnector, Message

ADAPTIVE = "application/vnd.microsoft.card.adaptive"


async def post(bot: Client, body: dict[str, Any]) -> tuple[int, Any]:
    response = await bot.post("/api/messages", json=body)
    text = await response.text()
    return response.status, (await response.json()) if text else None


def card_reply() -> Reply:
    return Reply(view=alert_card_view(alert(), job_rule(), now=NOW))


# --- conversation references ---------------------------------------------------------------


async def test_install_in_a_personal_chat_saves_its_reference(
    bot: Client, service_url: str, store: SqlStore
) -> None:
    status, _ = await post(bot, activity("installationUpdate", service_url, action="add"))
    assert status == 200
    ref = await store.get_conversation(PERSONAL)
    assert ref is not None
    assert (ref.channel, ref.kind) == (ChannelKind.TEAMS, "direct")
    assert ref.reference["serviceUrl"] == service_url
    assert ref.reference["bot"]["id"] == BOT_ID
    assert ref.reference["channelData"] == {"tenant": {"id": TENANT}}


async def test_adding_the_bot_to_a_team_saves_its_general_channel(
    bot: Client, service_url: str, store: SqlStore
) -> None:
    added = activity(
        "conversationUpdate",
        service_url,
        conversation=TEAM,
        conversation_type="channel",
        team=TEAM,
        membersAdded=[{"id": BOT_ID}],
    )
    await post(bot, added)
    ref = await store.get_conversation(TEAM)
    assert ref is not None
    assert ref.kind == "channel"
    assert ref.reference["channelData"] == {
        "tenant": {"id": TENANT},
        "team": {"id": TEAM},
        "channel": {"id": TEAM},
    }


async def test_a_group_chat_install(bot: Client, service_url: str, store: SqlStore) -> None:
    await post(
        bot,
        activity(
            "conversationUpdate",
            service_url,
            conversation=GROUP_CHAT,
            conversation_type="groupChat",
            membersAdded=[{"id": BOT_ID}],
        ),
    )
    ref = await store.get_conversation(GROUP_CHAT)
    assert ref is not None
    assert ref.kind == "group"


async def test_a_message_in_a_thread_saves_the_channel(
    bot: Client, service_url: str, store: SqlStore
) -> None:
    await post(bot, message(service_url, "help", **channel(thread_of="1700000000001")))
    ref = await store.get_conversation(CHANNEL)
    assert ref is not None
    assert ref.reference["conversation"]["id"] == CHANNEL
    assert [r.conversation_id for r in await store.list_conversations()] == [CHANNEL]


async def subscribed(store: SqlStore, conversation_id: str) -> None:
    await store.subscribe(
        Subscription(
            conversation_id=conversation_id,
            channel=ChannelKind.TEAMS,
            target="all",
            created_by=USER_AAD,
            created_at=NOW,
        )
    )


async def test_removing_the_bot_prunes_the_conversation(
    bot: Client, service_url: str, store: SqlStore
) -> None:
    await post(bot, activity("installationUpdate", service_url, action="add"))
    await subscribed(store, PERSONAL)
    removed = activity("conversationUpdate", service_url, membersRemoved=[{"id": BOT_ID}])
    assert (await post(bot, removed))[0] == 200
    assert await store.get_conversation(PERSONAL) is None
    assert await store.list_subscriptions() == []


async def test_uninstalling_prunes_the_conversation(
    bot: Client, service_url: str, store: SqlStore
) -> None:
    await post(bot, activity("installationUpdate", service_url, action="add"))
    await post(bot, activity("installationUpdate", service_url, action="remove"))
    assert await store.list_conversations() == []


async def test_someone_else_leaving_keeps_the_conversation(
    bot: Client, service_url: str, store: SqlStore
) -> None:
    where = {"conversation": GROUP_CHAT, "conversation_type": "groupChat"}
    await post(bot, activity("installationUpdate", service_url, action="add", **where))
    left = activity(
        "conversationUpdate", service_url, membersRemoved=[{"id": "29:someone"}], **where
    )
    await post(bot, left)
    assert await store.get_conversation(GROUP_CHAT) is not None


async def test_leaving_a_team_prunes_all_its_channels(
    bot: Client, service_url: str, store: SqlStore
) -> None:
    general = {"conversation": TEAM, "conversation_type": "channel", "team": TEAM}
    await post(bot, activity("installationUpdate", service_url, action="add", **general))
    await post(bot, message(service_url, "help", **channel()))
    await post(bot, activity("installationUpdate", service_url, action="add"))  # personal
    removed = activity(
        "conversationUpdate",
        service_url,
        membersRemoved=[{"id": BOT_ID}],
        channelData={
            "tenant": {"id": TENANT},
            "team": {"id": TEAM},
            "eventType": "teamMemberRemoved",
        },
        **{key: value for key, value in general.items() if key != "team"},
    )
    await post(bot, removed)
    assert [r.conversation_id for r in await store.list_conversations()] == [PERSONAL]


async def test_a_deleted_channel_is_pruned(bot: Client, service_url: str, store: SqlStore) -> None:
    await post(bot, message(service_url, "help", **channel()))
    deleted = activity(
        "conversationUpdate",
        service_url,
        conversation=TEAM,
        conversation_type="channel",
        channelData={
            "tenant": {"id": TENANT},
            "team": {"id": TEAM},
            "channel": {"id": CHANNEL},
            "eventType": "channelDeleted",
        },
    )
    await post(bot, deleted)
    assert await store.get_conversation(CHANNEL) is None


# --- messages --------------------------------------------------------------------------------


async def test_a_message_goes_to_the_router_and_the_reply_into_the_thread(
    bot: Client, service_url: str, router: ScriptedRouter, fake: FakeConnector
) -> None:
    router.replies.append(Reply(text="Here is what I can do:", view=card_reply().view))
    thread = f"{CHANNEL};messageid=1700000000001"
    status, _ = await post(
        bot, message(service_url, "  alerts   open ", **channel("1700000000001"))
    )
    assert status == 200
    [(caller, text)] = router.texts
    assert text == "alerts   open"
    assert (caller.user_id, caller.name, caller.org_id) == (USER_AAD, "Alex Wilber", TENANT)
    assert caller.principal.entra_object_id == USER_AAD
    assert (caller.conversation_id, caller.conversation_kind) == (CHANNEL, "channel")
    [sent] = fake.calls
    assert (sent.kind, sent.conversation_id, sent.activity_id) == ("reply", thread, "f:1234")
    assert sent.text == "Here is what I can do:"
    assert sent.card is not None
    assert sent.card["type"] == "AdaptiveCard"


async def test_a_personal_message_has_no_mention_to_strip(
    bot: Client, service_url: str, router: ScriptedRouter, fake: FakeConnector
) -> None:
    await post(bot, message(service_url, "Subscribe Provisioning 2"))
    assert router.texts[0][1] == "Subscribe Provisioning 2"
    assert router.texts[0][0].conversation_kind == "direct"
    assert fake.calls[0].conversation_id == PERSONAL


# --- card buttons ----------------------------------------------------------------------------


def posted_card(fake: FakeConnector, message_id: str = "1700000000001") -> str:
    """A card the bot posted earlier, as the service knows it."""
    fake.messages[message_id] = Message(f"{CHANNEL};messageid={message_id}", {"type": "message"})
    return message_id


async def test_a_button_is_answered_with_the_card_and_the_message_updated(
    bot: Client,
    service_url: str,
    router: ScriptedRouter,
    fake: FakeConnector,
    renderer: CardRenderer,
) -> None:
    card_id = posted_card(fake)
    reply = card_reply()
    router.replies.append(reply)
    data = {"alertId": 42, "version": 3}
    press = card_press(service_url, "alert.ack", data, reply_to=card_id, **channel(card_id))
    status, body = await post(bot, press)
    card = renderer.render(reply.view)  # type: ignore[arg-type]
    assert status == 200
    assert body == {"statusCode": 200, "type": ADAPTIVE, "value": card}
    [(caller, verb, got)] = router.actions
    assert (verb, got, caller.conversation_id) == ("alert.ack", data, CHANNEL)
    [update] = fake.of_kind("update")
    assert (update.conversation_id, update.activity_id) == (
        f"{CHANNEL};messageid={card_id}",
        card_id,
    )
    assert update.card == card
    assert fake.messages[card_id].activity["attachments"][0]["content"] == card


async def test_the_same_card_is_not_put_on_a_message_twice(
    bot: Client, service_url: str, router: ScriptedRouter, fake: FakeConnector
) -> None:
    card_id = posted_card(fake)
    router.replies += [card_reply(), card_reply()]
    press = card_press(
        service_url, "alert.ack", {"alertId": 42}, reply_to=card_id, **channel(card_id)
    )
    await post(bot, press)
    await post(bot, press)
    assert len(fake.of_kind("update")) == 1


async def test_a_reply_with_text_answers_with_the_text_and_updates_the_card(
    bot: Client, service_url: str, router: ScriptedRouter, fake: FakeConnector
) -> None:
    card_id = posted_card(fake)
    router.replies.append(
        Reply(text="Only alert admins can acknowledge alerts.", view=card_reply().view)
    )
    press = card_press(
        service_url, "alert.ack", {"alertId": 42}, reply_to=card_id, **channel(card_id)
    )
    status, body = await post(bot, press)
    assert (status, body) == (
        200,
        {
            "statusCode": 200,
            "type": "application/vnd.microsoft.activity.message",
            "value": "Only alert admins can acknowledge alerts.",
        },
    )
    assert len(fake.of_kind("update")) == 1


async def test_a_text_only_reply_leaves_the_card(
    bot: Client, service_url: str, router: ScriptedRouter, fake: FakeConnector
) -> None:
    router.replies.append(Reply(text="That button no longer does anything."))
    press = card_press(service_url, "rule.gone", {}, reply_to="1", **channel("1"))
    status, body = await post(bot, press)
    assert status == 200
    assert body["value"] == "That button no longer does anything."
    assert fake.calls == []


async def test_a_failed_update_still_answers_with_the_card(
    bot: Client, service_url: str, router: ScriptedRouter, fake: FakeConnector
) -> None:
    card_id = posted_card(fake)
    fake.fail(429, "Throttled", retry_after="2")
    router.replies.append(card_reply())
    press = card_press(
        service_url, "alert.ack", {"alertId": 42}, reply_to=card_id, **channel(card_id)
    )
    status, body = await post(bot, press)
    assert status == 200
    assert body["type"] == ADAPTIVE
    assert len(fake.of_kind("update")) == 1  # tried once: no retries inside a turn


async def test_an_invoke_that_is_not_an_execute_action(
    bot: Client, service_url: str, router: ScriptedRouter
) -> None:
    bad = activity(
        "invoke",
        service_url,
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Submit"}},
    )
    status, body = await post(bot, bad)
    assert status == 200
    assert body["statusCode"] == 400
    assert body["type"] == "application/vnd.microsoft.error"
    other = activity("invoke", service_url, name="composeExtension/query", value={})
    assert (await post(bot, other))[0] == 501
    assert router.actions == []


# --- other tenants -----------------------------------------------------------------------------


async def test_another_tenant_is_told_once_and_nothing_is_kept(
    bot: Client, service_url: str, router: ScriptedRouter, fake: FakeConnector, store: SqlStore
) -> None:
    for text in ("alerts", "alerts again"):
        assert (await post(bot, message(service_url, text, tenant=OTHER_TENANT)))[0] == 200
    await post(bot, activity("installationUpdate", service_url, action="add", tenant=OTHER_TENANT))
    assert router.texts == []
    assert [call.text for call in fake.calls] == [
        "This bot only answers people from its own organization."
    ]
    assert await store.list_conversations() == []


async def test_another_tenant_pressing_a_button_is_refused(
    bot: Client, service_url: str, router: ScriptedRouter, fake: FakeConnector
) -> None:
    press = card_press(service_url, "alert.ack", {"alertId": 42}, reply_to="1", tenant=OTHER_TENANT)
    status, body = await post(bot, press)
    assert status == 200
    assert body["value"] == "This bot only answers people from its own organization."
    assert router.actions == []
    assert fake.calls == []
