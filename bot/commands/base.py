"""The boundary between chat channels and what the bot does: who asks, and what comes back.

A channel (Teams now, Slack later) turns its activities into a `Caller` plus either
message text or a card action, asks a `Router`, and shows the `Reply`. Replies carry
card *views* (bot.cards), never channel payloads, so each channel renders them its own
way. Nothing here knows a chat platform.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from bot.models import ChannelKind
from bot.views.model import CardView

ConversationKind = Literal["personal", "groupChat", "channel"]


@dataclass(frozen=True, slots=True)
class Caller:
    """The person behind a message or a button press, and where it came from."""

    #: Entra object id (Teams `aadObjectId`) when the channel gives one, else its user id.
    user_id: str
    name: str | None
    #: The caller's Entra tenant; None when the channel cannot say (refused by policy).
    tenant_id: str | None
    #: Where to answer. In a Teams channel this is the channel (thread suffix removed).
    conversation_id: str
    channel: ChannelKind
    conversation_kind: ConversationKind


@dataclass(frozen=True, slots=True)
class Reply:
    """What to show: a short text, a card, or both (text first)."""

    text: str | None = None
    view: CardView | None = None


class Router(Protocol):
    """Answers people. Implemented by the command registry (bot.commands)."""

    async def handle_text(self, caller: Caller, text: str) -> Reply:
        """A message addressed to the bot, mention already removed."""
        ...

    async def handle_card_action(self, caller: Caller, verb: str, data: Mapping[str, Any]) -> Reply:
        """A card button (Action.Execute `verb` with its `data`). The reply's view, when
        given, replaces the card the button was on."""
        ...
