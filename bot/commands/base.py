"""The boundary between chat channels and what the bot does: who asks, and what comes back.

A channel (Teams, Slack) resolves its caller to a `Principal`, turns its activities into
a `Caller` plus either message text or a button press, asks a `Router`, and shows the
`Reply`. Replies carry views (bot.views), never channel payloads, so each channel renders
them its own way. Nothing here knows a chat platform.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bot.models import ChannelKind, ConversationKind
from bot.views.model import CardView

__all__ = ["Caller", "ConversationKind", "Principal", "Reply", "Router"]


@dataclass(frozen=True, slots=True)
class Principal:
    """A person as their channel knows them, and as Entra does when that is known.

    Teams: `user_id` is the Entra object id (`aadObjectId`, else the Teams id), `org_id`
    the Entra tenant. Slack: `user_id` is the Slack user id, `org_id` the workspace (team
    id), and `entra_object_id` the Entra user with the same email when it was mapped.
    """

    channel: ChannelKind
    user_id: str
    #: The tenant (Teams) or workspace (Slack) the request came from; None when the
    #: channel cannot say (refused by policy).
    org_id: str | None
    name: str | None = None
    #: The person's Entra object id, when known: what admin ids and groups are matched with.
    entra_object_id: str | None = None
    #: The email the channel vouches for (Slack: the profile's confirmed email, users.info).
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Caller:
    """The person behind a message or a button press, and where it came from."""

    principal: Principal
    #: Where to answer. In a Teams channel this is the channel (thread suffix removed).
    conversation_id: str
    conversation_kind: ConversationKind

    @property
    def user_id(self) -> str:
        return self.principal.user_id

    @property
    def name(self) -> str | None:
        return self.principal.name

    @property
    def channel(self) -> ChannelKind:
        return self.principal.channel

    @property
    def org_id(self) -> str | None:
        return self.principal.org_id


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
        """A button (its `verb` and `data`). The reply's view, when given, replaces the
        message the button was on."""
        ...
