"""Deliver outbox items to Teams: the shared delivery policy (bot.channels.delivery) over
Bot Connector calls carrying Adaptive Cards.

Teams has no idempotency key for bot messages, and the Bot Connector cannot list a
conversation's messages, so a post whose answer was lost cannot be found again: it is
posted again with a line saying it may repeat an earlier card (bot.channels.maybe_sent).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import messages
from bot.channels.delivery import ChannelNotifier
from bot.channels.maybe_sent import PostMark
from bot.channels.teams.cards import Card
from bot.channels.teams.connector import Connector
from bot.channels.teams.conversations import message_activity
from bot.channels.teams.payloads import card_attachment
from bot.models import ConversationRef

#: The Teams notifier: the shared policy with Adaptive Card payloads.
TeamsNotifier = ChannelNotifier[Card]


class CardConnector:
    """bot.channels.delivery.MessageConnector for Teams: each card in a message activity."""

    #: The Bot Connector has no way to list a conversation's messages.
    can_find = False

    def __init__(self, connector: Connector) -> None:
        self._connector = connector

    async def post(
        self, ref: ConversationRef, payload: Card, *, limit: float, mark: PostMark
    ) -> str | None:
        return await self._connector.post(ref, _activity(payload, mark), limit=limit)

    async def reply(
        self, ref: ConversationRef, parent_id: str, payload: Card, *, limit: float, mark: PostMark
    ) -> str | None:
        return await self._connector.reply(ref, parent_id, _activity(payload, mark), limit=limit)

    async def find_post(
        self,
        ref: ConversationRef,
        *,
        key: str,
        since: datetime,
        parent_id: str | None,
        limit: float,
    ) -> str | None:
        return None

    async def update(
        self, ref: ConversationRef, message_id: str, payload: Card, *, limit: float
    ) -> None:
        await self._connector.update(ref, message_id, _activity(payload), limit=limit)


def _activity(card: Card, mark: PostMark | None = None) -> Any:
    text = messages.maybe_repeated() if mark is not None and mark.maybe_repeat else None
    return message_activity(text, [card_attachment(card)])
