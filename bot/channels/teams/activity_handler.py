"""One Teams turn: translate the activity, ask the Router, show its Reply. Decides nothing.

- conversationUpdate / installationUpdate: the conversation's reference is saved (personal
  chat, group chat, team channel), or pruned when the bot was removed, uninstalled, its
  team deleted, or the channel deleted (store.delete_conversation also drops the
  subscriptions and pending deliveries; leaving a team prunes all of its channels).
- message: the reference is saved, the bot's mention stripped, and the text goes to
  `Router.handle_text`; the reply (text and/or card) goes back into the same thread.
- invoke `adaptiveCard/action` (an Action.Execute button): `Router.handle_card_action`.
  The invoke is answered with the reply's card, which replaces the pressed card for the
  person who pressed, and the message the button was on (replyToId) is updated with it
  so everyone sees it. A reply with text and a card answers with the text (shown to
  the person who pressed) and updates the message with the card.

People from tenants that are not allowed are refused here (the shared EdgeGate of
bot.commands.access), before anything is saved:
a message is answered politely once per conversation, then ignored; a button press
gets the refusal as its answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes
from msrest.exceptions import ClientException

from bot import messages
from bot.channels.pacing import Pacer
from bot.channels.shown import ShownMessages
from bot.channels.teams import conversations
from bot.channels.teams.adapter import tune_client
from bot.channels.teams.cards import Card, CardRenderer
from bot.channels.teams.payloads import (
    card_answer,
    card_attachment,
    error_answer,
    not_implemented,
    text_answer,
)
from bot.commands.access import EdgeGate
from bot.commands.base import Reply, Router
from bot.store.base import ConversationOperations

log = logging.getLogger(__name__)

CARD_ACTION: Final = "adaptiveCard/action"


class TeamsBot:
    """The turn logic CloudAdapter runs for each activity (`on_turn`)."""

    def __init__(
        self,
        *,
        router: Router,
        store: ConversationOperations,
        renderer: CardRenderer,
        gate: EdgeGate,
        shown: ShownMessages,
        pacer: Pacer,
        clock: Callable[[], datetime],
    ) -> None:
        self._router = router
        self._store = store
        self._renderer = renderer
        self._gate = gate
        self._shown = shown
        self._pacer = pacer
        self._clock = clock

    async def on_turn(self, context: Any) -> None:
        tune_client(context.turn_state.get(context.adapter.BOT_CONNECTOR_CLIENT_KEY))
        activity = context.activity
        if not self._gate.allows(conversations.principal(activity)):
            await self._refuse(context)
            return
        handler = {
            ActivityTypes.message: self._on_message,
            ActivityTypes.conversation_update: self._on_conversation_update,
            ActivityTypes.installation_update: self._on_installation_update,
            ActivityTypes.invoke: self._on_invoke,
        }.get(activity.type)
        if handler is not None:
            await handler(context)

    # --- conversation references -------------------------------------------------------

    async def _on_conversation_update(self, context: Any) -> None:
        activity = context.activity
        channel = conversations.deleted_channel(activity)
        if channel is not None:
            await self._forget(channel, why="channel deleted")
        elif conversations.bot_removed(activity):
            await self._forget_activity(activity)
        else:
            await self._remember(activity)

    async def _on_installation_update(self, context: Any) -> None:
        if conversations.bot_removed(context.activity):
            await self._forget_activity(context.activity)
        else:
            await self._remember(context.activity)

    async def _remember(self, activity: Any) -> None:
        await self._store.upsert_conversation(
            conversations.conversation_ref(activity, now=self._clock())
        )

    async def _forget_activity(self, activity: Any) -> None:
        await self._forget(conversations.base_conversation_id(activity.conversation.id))
        team = conversations.team_id(activity)
        if team is None:
            return
        for ref in await self._store.list_conversations():
            if conversations.stored_team(ref) == team:
                await self._forget(ref.conversation_id, why="removed from the team")

    async def _forget(self, conversation_id: str, *, why: str = "bot removed") -> None:
        if await self._store.delete_conversation(conversation_id):
            log.info("teams: %s: conversation %s pruned", why, conversation_id)

    # --- messages and buttons ----------------------------------------------------------

    async def _on_message(self, context: Any) -> None:
        activity = context.activity
        await self._remember(activity)
        TurnContext.remove_recipient_mention(activity)
        text = (activity.text or "").strip()
        reply = await self._router.handle_text(conversations.caller(activity), text)
        await self._send(context, reply)

    async def _on_invoke(self, context: Any) -> None:
        activity = context.activity
        if activity.name != CARD_ACTION:
            await _answer(context, not_implemented())
            return
        action = _execute_action(activity.value)
        if action is None:
            await _answer(context, error_answer("BadRequest", "not an Action.Execute"))
            return
        verb, data = action
        reply = await self._router.handle_card_action(conversations.caller(activity), verb, data)
        card = self._renderer.render(reply.view) if reply.view is not None else None
        if card is not None:
            await self._update_pressed(context, card)
        if reply.text:
            await _answer(context, text_answer(reply.text))
        elif card is not None:
            await _answer(context, card_answer(card))
        else:
            await _answer(context, text_answer(messages.internal_error()))

    async def _update_pressed(self, context: Any, card: Card) -> None:
        """Put `card` on the message whose button was pressed, for everyone."""
        activity = context.activity
        message_id = activity.reply_to_id
        if not message_id:
            return
        conversation_id = conversations.base_conversation_id(activity.conversation.id)
        if await self._shown.shows(conversation_id, message_id, card):
            return
        update = conversations.message_activity(None, [card_attachment(card)])
        update.id = message_id
        await self._pacer.acquire(conversation_id)
        try:
            await context.update_activity(update)
        except (ClientException, OSError, PermissionError) as error:
            # Not fatal: the answer to the press shows the card to the person who pressed.
            log.warning(
                "teams: could not update card %s in %s: %s", message_id, conversation_id, error
            )
            return
        await self._shown.remember(conversation_id, message_id, card)

    async def _send(self, context: Any, reply: Reply) -> None:
        attachments = []
        if reply.view is not None:
            attachments.append(card_attachment(self._renderer.render(reply.view)))
        if not reply.text and not attachments:
            return
        conversation_id = conversations.base_conversation_id(context.activity.conversation.id)
        await self._pacer.acquire(conversation_id)
        await context.send_activity(conversations.message_activity(reply.text, attachments))

    async def _refuse(self, context: Any) -> None:
        activity = context.activity
        who = conversations.tenant_id(activity)
        if activity.type == ActivityTypes.invoke:
            log.info("teams: refused a button press from tenant %s", who)
            await _answer(context, text_answer(messages.other_tenant()))
            return
        if activity.type != ActivityTypes.message:
            log.info("teams: ignored %s from tenant %s", activity.type, who)
            return
        conversation_id = conversations.base_conversation_id(activity.conversation.id)
        if self._gate.first_refusal(conversation_id):
            log.info("teams: refused a message from tenant %s in %s", who, conversation_id)
            await context.send_activity(conversations.message_activity(messages.other_tenant(), []))


async def _answer(context: Any, response: Any) -> None:
    """Leave the invoke's answer for the adapter to return as the HTTP response."""
    await context.send_activity(Activity(type=ActivityTypes.invoke_response, value=response))


def _execute_action(value: object) -> tuple[str, Mapping[str, Any]] | None:
    """(verb, data) of an Action.Execute invoke value, or None if it is not one."""
    if not isinstance(value, dict):
        return None
    action = value.get("action")
    if not isinstance(action, dict) or action.get("type") != "Action.Execute":
        return None
    verb, data = action.get("verb"), action.get("data", {})
    if not isinstance(verb, str) or not verb or not isinstance(data, dict):
        return None
    return verb, data
