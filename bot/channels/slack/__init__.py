"""Slack, through slack-bolt (AsyncApp) and slack_sdk (AsyncWebClient): the only package that
imports them.

    conversations.py  ids (workspace + channel), kinds, references, callers
    text.py, message.py   mrkdwn, times, limits; a message and its checks
    alert_blocks.py, list_blocks.py, render.py   the Block Kit renderer of the views
    connector.py      post, reply and edit through the Web API; failures with verdicts
    charts.py, chart_upload.py   a view's chart drawn as a PNG, shared with the files API
    people.py         names, Slack admins (user ids, user groups), email -> Entra
    notice_blocks.py  the notice to the affected person in Block Kit
    notices.py        the notice as a direct message (bot.notices' Reach "slack")
    inbound.py        mentions, DMs, the slash command, buttons, channel events
    http.py           POST /slack/events (HTTP mode); Socket Mode is `SlackChannel.socket`
    manifest.py       the app manifest (`alertbot manifest --slack`)

`SlackChannel` holds what the inbound and outbound sides share (the bolt app, the Web API
client, the pacer, the messages already shown) and builds each side; app.py wires them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.delivery import TIME_BUDGET, ChannelNotifier, NotifierStore
from bot.channels.pacing import Pacer, Window
from bot.channels.presenter import AlertPresenter
from bot.channels.shown import ShownMessages
from bot.channels.slack.chart_upload import ChartUploader
from bot.channels.slack.connector import SlackConnector
from bot.channels.slack.http import SLACK_APP, SLACK_PATH, add_routes
from bot.channels.slack.inbound import AlertViewSource, SlackBot
from bot.channels.slack.message import SlackMessage
from bot.channels.slack.notices import SlackDirectMessage
from bot.channels.slack.people import EntraLookup, SlackAdmins, SlackPeople
from bot.channels.slack.render import SlackRenderer
from bot.commands.access import EdgeGate
from bot.commands.base import Router
from bot.models import ChannelKind, Clock
from bot.store.base import ConversationOperations

__all__ = [
    "SLACK_APP",
    "SLACK_PATH",
    "SlackAdmins",
    "SlackChannel",
    "SlackMessage",
    "SlackRenderer",
    "add_routes",
]

#: chat.postMessage: about one message a second per channel, short bursts tolerated
#: (docs.slack.dev/apis/web-api/rate-limits, "special" tier).
CHANNEL_WINDOWS: Final = (Window(3, 1.0), Window(10, 10.0))
#: Per app and workspace: chat.update is Tier 3 (50+ a minute); we keep to that.
APP_WINDOWS: Final = (Window(50, 60.0),)


class SlackChannel:
    """The Slack side of the bot for one workspace's bot token."""

    def __init__(
        self,
        *,
        bot_token: str,
        signing_secret: str | None,
        api_url: str,
        app_token: str | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.client = AsyncWebClient(token=bot_token, base_url=api_url, timeout=8)
        self.app = AsyncApp(
            client=self.client,
            signing_secret=signing_secret or "",
            request_verification_enabled=signing_secret is not None,
            process_before_response=False,
        )
        self._api_url = api_url
        self._app_token = app_token
        self.pacer = pacer or Pacer(conversation_windows=CHANNEL_WINDOWS, app_windows=APP_WINDOWS)
        self.shown = ShownMessages()
        self.renderer = SlackRenderer()
        self.charts = ChartUploader(self.client, pacer=self.pacer)
        self.socket: AsyncSocketModeHandler | None = None

    async def team_id(self) -> str | None:
        """The workspace the bot token belongs to (auth.test)."""
        answer = await self.client.auth_test()
        team = answer.get("team_id")
        return str(team) if team else None

    def admins(self, *, user_ids: tuple[str, ...], usergroup_ids: tuple[str, ...]) -> SlackAdmins:
        return SlackAdmins(self.client, user_ids=user_ids, usergroup_ids=usergroup_ids)

    def listen(
        self,
        *,
        router: Router,
        store: ConversationOperations,
        gate: EdgeGate,
        clock: Callable[[], datetime],
        alert_view: AlertViewSource,
        slash_command: str,
        entra: EntraLookup | None = None,
    ) -> None:
        """Register the listeners: after this the app answers requests."""
        SlackBot(
            router=router,
            store=store,
            renderer=self.renderer,
            gate=gate,
            people=SlackPeople(self.client, entra=entra),
            shown=self.shown,
            pacer=self.pacer,
            clock=clock,
            alert_view=alert_view,
            slash_command=slash_command,
            charts=self.charts,
        ).register(self.app)

    async def start_socket_mode(self) -> None:
        """Connect over Socket Mode (apps.connections.open with the app-level token)."""
        assert self._app_token is not None
        web = AsyncWebClient(base_url=self._api_url, timeout=10)
        self.socket = AsyncSocketModeHandler(self.app, self._app_token, web_client=web)
        await self.socket.connect_async()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]
            self.socket = None
        await self.charts.aclose()
        await self.aclose()

    async def aclose(self) -> None:
        """Close the Web API client's HTTP session, if it opened one."""
        session = self.client.session
        if session is not None and not session.closed:
            await session.close()

    def notice_reach(self, *, store: ConversationOperations, clock: Clock) -> SlackDirectMessage:
        """Notices to the affected person as a Slack direct message (bot.notices' Reach)."""
        return SlackDirectMessage(
            client=self.client, renderer=self.renderer, pacer=self.pacer, store=store, clock=clock
        )

    def notifier(
        self,
        *,
        store: NotifierStore,
        presenter: AlertPresenter,
        time_budget: float = TIME_BUDGET,
        wall: Callable[[], datetime] | None = None,
    ) -> ChannelNotifier[SlackMessage]:
        self.shown.attach(store)
        return ChannelNotifier(
            channel=ChannelKind.SLACK,
            connector=SlackConnector(self.client, charts=self.charts),
            renderer=self.renderer,
            store=store,
            presenter=presenter,
            pacer=self.pacer,
            shown=self.shown,
            time_budget=time_budget,
            wall=wall,
        )
