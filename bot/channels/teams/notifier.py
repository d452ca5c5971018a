"""Deliver outbox items to Teams: the shared delivery policy (bot.channels.delivery) over
Bot Connector calls carrying Adaptive Cards.

Teams has no idempotency key for bot messages, so the window in which a redelivery can
post twice (the post's round trip plus one database write) cannot be closed from our side.
"""

from __future__ import annotations

from typing import Any

from bot.channels.delivery import ChannelNotifier
from bot.channels.teams.cards import Card
from bot.channels.teams.connector import Connector
from bot.channels.teams.conversations import message_activity
from bot.channels.teams.payloads import card_attachment
from bot.models import ConversationRef

#: The Teams notifier: the shared policy with Adaptive Card payloads.
TeamsNotifier = ChannelNotifier[Card]


class CardConnector:
    """bot.channels.delivery.MessageConnector for Teams: each card in a message activity."""

    def __init__(self, connector: Connector) -> None:
        self._connector = connector

    async def post(self, ref: ConversationRef, payload: Card, *, limit: float) -> str | None:
        return await self._connector.post(ref, _activity(payload), limit=limit)

    async def reply(
        self, ref: ConversationRef, parent_id: str, payload: Card, *, limit: float
    ) -> str | None:
        return await self._connector.reply(ref, parent_id, _activity(payload), limit=limit)

    async def update(
        self, ref: ConversationRef, message_id: str, payload: Card, *, limit: float
    ) -> None:
        await self._connector.update(ref, message_id, _activity(payload), limit=limit)


def _activity(card: Card) -> Any:
    return message_activity(None, [card_attachment(card)])
