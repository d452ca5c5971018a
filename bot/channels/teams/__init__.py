"""Microsoft Teams, through the Bot Framework SDK (botbuilder 4.17.1): the only package that
imports it, so moving to the Microsoft 365 Agents SDK later changes this package alone.

    adapter.py           CloudAdapter and its authentication, from the bot's identity
    keys.py              botbuilder's token checks served from bot.edge's signing key cache
    http.py              POST /api/messages: the edge, and its one error path
    activity_handler.py  one turn: conversation references, messages, card buttons
    conversations.py     Teams ids, kinds, tenants and callers; stored references
    payloads.py          card attachments, invoke answers, the cards already shown
    connector.py         post, reply and edit through the Bot Connector REST API
    transport.py         connector clients over one aiohttp session, plain JSON as it is
    notifier.py          the shared delivery policy (bot.channels.delivery) over Teams cards
    pacing.py            Teams' rate limits, per conversation and per app
    cards/               the Adaptive Card renderer of the views, its templates and size limit

`TeamsChannel` holds what the inbound and outbound sides share (the adapter, the pacer,
the cards already shown) and builds each side; app.py wires them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.channels.delivery import TIME_BUDGET, ChannelNotifier, NotifierStore
from bot.channels.presenter import AlertPresenter
from bot.channels.shown import ShownMessages
from bot.channels.teams import keys
from bot.channels.teams.activity_handler import TeamsBot
from bot.channels.teams.adapter import AppType, BotIdentity, build_adapter
from bot.channels.teams.cards import CardRenderer
from bot.channels.teams.connector import Connector
from bot.channels.teams.http import TEAMS_ENDPOINT, TeamsEndpoint, add_routes
from bot.channels.teams.notifier import CardConnector, TeamsNotifier
from bot.channels.teams.pacing import Pacer
from bot.channels.teams.transport import Transport
from bot.commands.access import EdgeGate
from bot.commands.base import Router
from bot.models import ChannelKind
from bot.store.base import ConversationOperations

__all__ = [
    "TEAMS_ENDPOINT",
    "AppType",
    "BotIdentity",
    "TeamsChannel",
    "TeamsEndpoint",
    "TeamsNotifier",
    "add_routes",
]


class TeamsChannel:
    """The Teams side of the bot for one identity: the endpoint's turn logic and the notifier."""

    def __init__(
        self, identity: BotIdentity, *, adapter: Any = None, pacer: Pacer | None = None
    ) -> None:
        self.identity = identity
        if identity.authenticated:
            keys.install()
        self.transport = Transport()
        self.adapter = adapter if adapter is not None else build_adapter(identity, self.transport)
        self.pacer = pacer or Pacer()
        self.shown = ShownMessages()
        self.connector = Connector(self.adapter, app_id=identity.app_id)

    async def close(self) -> None:
        """Close the connections to the Bot Connector (at shutdown)."""
        await self.transport.close()

    def endpoint(
        self,
        *,
        router: Router,
        store: ConversationOperations,
        renderer: CardRenderer,
        gate: EdgeGate,
        clock: Callable[[], datetime],
    ) -> TeamsEndpoint:
        bot = TeamsBot(
            router=router,
            store=store,
            renderer=renderer,
            gate=gate,
            shown=self.shown,
            pacer=self.pacer,
            clock=clock,
        )
        return TeamsEndpoint(
            adapter=self.adapter, bot=bot, authenticated=self.identity.authenticated
        )

    def notifier(
        self,
        *,
        store: NotifierStore,
        presenter: AlertPresenter,
        renderer: CardRenderer,
        time_budget: float = TIME_BUDGET,
        wall: Callable[[], datetime] | None = None,
    ) -> TeamsNotifier:
        self.shown.attach(store)
        return ChannelNotifier(
            channel=ChannelKind.TEAMS,
            connector=CardConnector(self.connector),
            store=store,
            presenter=presenter,
            renderer=renderer,
            pacer=self.pacer,
            shown=self.shown,
            time_budget=time_budget,
            wall=wall,
        )
