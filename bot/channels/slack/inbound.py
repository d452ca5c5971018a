"""Slack requests, through slack-bolt: the same Router (commands, questions, buttons) as Teams.

- `app_mention` in channels, `message` in DMs and the slash command go to
  `Router.handle_text`; the answer is a reply in the message's thread (the slash command
  answers through its response_url). The conversation's reference is saved first.
- Buttons and the snooze select (`block_actions`) are acknowledged at once (Slack wants an
  answer within 3 s), then go to `Router.handle_card_action`; the message is edited in
  place (chat.update, for everyone) with the reply's view, and the reply's text is shown
  to the person who pressed (chat.postEphemeral). "Show query" posts the KQL in the thread.
  A notice's answers (`notice.*`) go the same way; the caller carries the email Slack
  holds for them (users.info), which bot.notices matches with the notice's person.
- An answer with a chart (a trend) gets the chart as an image after it, in the same thread
  (the slash command's: in the channel); without it the answer's table stands alone.
- The bot leaving or being removed from a channel, an archived or deleted channel, the app
  uninstalled or its tokens revoked: the conversations are pruned (with their
  subscriptions and pending deliveries).

Every request passes the shared EdgeGate first (other workspaces are refused, nothing is
saved), and an Events API delivery whose `event_id` was already handled (Slack retries,
`X-Slack-Retry-Num`) is acknowledged and not processed again.
"""

from __future__ import annotations

import json
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Final

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.channels.pacing import Pacer
from bot.channels.shown import ShownMessages
from bot.channels.slack import conversations
from bot.channels.slack.alert_blocks import SHOW_QUERY
from bot.channels.slack.chart_upload import ChartUploader
from bot.channels.slack.message import SlackMessage
from bot.channels.slack.people import SlackPeople
from bot.channels.slack.render import SlackRenderer
from bot.channels.slack.text import code, escape, mrkdwn
from bot.commands.access import EdgeGate
from bot.commands.base import Caller, Principal, Reply, Router
from bot.models import ChannelKind
from bot.store.base import ConversationOperations
from bot.views.model import AlertCardView

log = logging.getLogger(__name__)

#: The alert view as chat shows it now, by alert id (for "Show query").
AlertViewSource = Callable[[int], Awaitable[AlertCardView | None]]
_MENTION: Final = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_ACTIONS: Final = re.compile(r"^(alert|rule|ask|notice)\.")
_SEEN_LIMIT: Final = 5000
_PRUNING_EVENTS: Final = (
    "channel_left",
    "group_left",
    "channel_archive",
    "group_archive",
    "channel_deleted",
    "group_deleted",
)


class SlackBot:
    """Registers the bot's listeners on a bolt AsyncApp; see the module docstring."""

    def __init__(
        self,
        *,
        router: Router,
        store: ConversationOperations,
        renderer: SlackRenderer,
        gate: EdgeGate,
        people: SlackPeople,
        shown: ShownMessages,
        pacer: Pacer,
        clock: Callable[[], datetime],
        alert_view: AlertViewSource,
        slash_command: str,
        charts: ChartUploader,
    ) -> None:
        self._router = router
        self._store = store
        self._renderer = renderer
        self._gate = gate
        self._people = people
        self._shown = shown
        self._pacer = pacer
        self._clock = clock
        self._alert_view = alert_view
        self._slash_command = slash_command
        self._charts = charts
        self._seen: OrderedDict[str, None] = OrderedDict()

    def register(self, app: AsyncApp) -> None:
        app.middleware(self._admit)
        app.event("app_mention")(self._on_mention)
        app.event("message")(self._on_message)
        app.event("member_joined_channel")(self._on_joined)
        app.event("member_left_channel")(self._on_member_left)
        for name in _PRUNING_EVENTS:
            app.event(name)(self._on_channel_gone)
        app.event("app_uninstalled")(self._on_uninstalled)
        app.event("tokens_revoked")(self._on_uninstalled)
        app.command(self._slash_command)(self._on_command)
        app.action(_ACTIONS)(self._on_action)

    # --- the gate ------------------------------------------------------------------------

    async def _admit(
        self,
        body: dict[str, Any],
        next: Callable[[], Awaitable[None]],
    ) -> BoltResponse | None:
        team = conversations.team_of(body)
        if not self._gate.allows(_principal_of(body, team)):
            log.info("slack: refused a request from workspace %s", team)
            text = messages.other_tenant() if body.get("command") else ""
            return BoltResponse(status=200, body=text)
        event_id = body.get("event_id")
        if isinstance(event_id, str):
            if event_id in self._seen:
                log.info("slack: event %s already handled (a retry); not again", event_id)
                return BoltResponse(status=200, body="")
            self._seen[event_id] = None
            while len(self._seen) > _SEEN_LIMIT:
                self._seen.popitem(last=False)
        await next()
        return None

    # --- text: mentions, DMs, the slash command -----------------------------------------

    async def _on_mention(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await self._answer_text(event, body, client)

    async def _on_message(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return  # channels are heard through mentions; edits, joins and bots are not asks
        await self._answer_text(event, body, client)

    async def _answer_text(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        team = conversations.team_of(body) or ""
        channel = str(event.get("channel", ""))
        await self._remember(team, channel, event.get("channel_type"))
        caller = await self._caller(
            team, str(event.get("user", "")), channel, event.get("channel_type")
        )
        text = _MENTION.sub("", str(event.get("text", ""))).strip()
        reply = await self._router.handle_text(caller, text)
        message = self.message(reply)
        if message is None:
            return
        thread = event.get("thread_ts") or event.get("ts")
        await self._pacer.acquire(caller.conversation_id)
        posted = await _quietly(
            client.api_call(
                "chat.postMessage",
                json={"channel": channel, "thread_ts": thread, **message.arguments()},
            ),
            "answer",
        )
        if posted and message.chart is not None:
            await self._charts.share(
                message.chart,
                channel=channel,
                thread_ts=str(thread) if thread else None,
                conversation_id=caller.conversation_id,
            )

    async def _on_command(self, ack: Any, command: dict[str, Any], respond: Any) -> None:
        await ack()
        team, channel = str(command.get("team_id", "")), str(command.get("channel_id", ""))
        kind = "im" if command.get("channel_name") == "directmessage" else None
        await self._remember(team, channel, kind)
        caller = await self._caller(team, str(command.get("user_id", "")), channel, kind)
        reply = await self._router.handle_text(caller, str(command.get("text", "")).strip())
        message = self.message(reply)
        if message is None:
            return
        answered = await _quietly(
            respond(response_type="in_channel", **message.arguments()), "respond"
        )
        if answered and message.chart is not None:
            await self._charts.share(
                message.chart,
                channel=channel,
                thread_ts=None,
                conversation_id=caller.conversation_id,
            )

    # --- buttons -----------------------------------------------------------------------

    async def _on_action(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()  # first: Slack wants an answer within 3 seconds
        action = (body.get("actions") or [{}])[0]
        verb = str(action.get("action_id", "")).split(":", 1)[0]
        data = _action_data(action)
        team = conversations.team_of(body) or ""
        channel = str(
            (body.get("channel") or {}).get("id")
            or (body.get("container") or {}).get("channel_id", "")
        )
        user = str((body.get("user") or {}).get("id", ""))
        message_ts = (body.get("container") or {}).get("message_ts") or (
            body.get("message") or {}
        ).get("ts")
        caller = await self._caller(team, user, channel, None)
        if verb == SHOW_QUERY:
            await self._show_query(client, channel, message_ts, data)
            return
        if verb == "alert.portal" or data is None:
            return
        reply = await self._router.handle_card_action(caller, verb, data)
        if reply.view is not None and message_ts:
            await self._update_pressed(client, caller, channel, str(message_ts), reply)
        if reply.text:
            await _quietly(
                client.chat_postEphemeral(channel=channel, user=user, text=reply.text),
                "ephemeral answer",
            )

    async def _update_pressed(
        self, client: AsyncWebClient, caller: Caller, channel: str, ts: str, reply: Reply
    ) -> None:
        assert reply.view is not None
        message = self._renderer.render(reply.view)
        if await self._shown.shows(caller.conversation_id, ts, message):
            return
        await self._pacer.acquire(caller.conversation_id)
        done = await _quietly(
            client.api_call(
                "chat.update", json={"channel": channel, "ts": ts, **message.arguments()}
            ),
            "update the pressed message",
        )
        if done:
            await self._shown.remember(caller.conversation_id, ts, message)

    async def _show_query(
        self, client: AsyncWebClient, channel: str, ts: Any, data: Mapping[str, Any] | None
    ) -> None:
        alert_id = (data or {}).get("alertId")
        view = await self._alert_view(alert_id) if isinstance(alert_id, int) else None
        if view is None:
            return
        blocks = [
            {
                "type": "section",
                "text": mrkdwn(f"*KQL of alert {view.alert_id}* (`{escape(view.rule_id)}`)"),
            },
            {"type": "section", "text": mrkdwn(code(view.query_lines))},
        ]
        await _quietly(
            client.api_call(
                "chat.postMessage",
                json={
                    "channel": channel,
                    "thread_ts": ts,
                    "text": f"KQL of alert {view.alert_id}",
                    "blocks": blocks,
                },
            ),
            "show query",
        )

    # --- conversations -----------------------------------------------------------------

    async def _on_joined(
        self, event: dict[str, Any], body: dict[str, Any], context: dict[str, Any]
    ) -> None:
        if event.get("user") == context.get("bot_user_id"):
            team = conversations.team_of(body) or ""
            await self._remember(team, str(event.get("channel", "")), event.get("channel_type"))

    async def _on_member_left(
        self, event: dict[str, Any], body: dict[str, Any], context: dict[str, Any]
    ) -> None:
        if event.get("user") == context.get("bot_user_id"):
            await self._forget(
                conversations.team_of(body) or "", str(event.get("channel", "")), "bot removed"
            )

    async def _on_channel_gone(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        channel = event.get("channel")
        channel_id = channel.get("id") if isinstance(channel, dict) else channel
        await self._forget(
            conversations.team_of(body) or "", str(channel_id or ""), str(event.get("type"))
        )

    async def _on_uninstalled(self, body: dict[str, Any]) -> None:
        team = conversations.team_of(body) or ""
        prefix = conversations.conversation_id(team, "")
        for ref in await self._store.list_conversations():
            if ref.channel is ChannelKind.SLACK and ref.conversation_id.startswith(prefix):
                await self._store.delete_conversation(ref.conversation_id)
        log.info("slack: app uninstalled or tokens revoked in %s: its conversations pruned", team)

    async def _remember(self, team: str, channel: str, channel_type: Any) -> None:
        if team and channel:
            ref = conversations.conversation_ref(
                team,
                channel,
                channel_type=channel_type if isinstance(channel_type, str) else None,
                now=self._clock(),
            )
            await self._store.upsert_conversation(ref)

    async def _forget(self, team: str, channel: str, why: str) -> None:
        if await self._store.delete_conversation(conversations.conversation_id(team, channel)):
            log.info("slack: %s: conversation %s in %s pruned", why, channel, team)

    async def _caller(self, team: str, user: str, channel: str, channel_type: Any) -> Caller:
        person = await self._people.person(user)
        return conversations.caller(
            team_id=team or None,
            user_id=user,
            channel_id=channel,
            channel_type=channel_type if isinstance(channel_type, str) else None,
            name=person.name,
            entra_object_id=person.entra_object_id,
            email=person.email,
        )

    def message(self, reply: Reply) -> SlackMessage | None:
        """A reply as one message: its text first, then the view's blocks."""
        if reply.view is None:
            return SlackMessage(text=reply.text) if reply.text else None
        rendered = self._renderer.render(reply.view)
        if not reply.text:
            return rendered
        lead = {"type": "section", "text": mrkdwn(escape(reply.text))}
        return SlackMessage(
            text=reply.text, blocks=[lead, *rendered.blocks][:50], chart=rendered.chart
        )


def _principal_of(body: Mapping[str, Any], team: str | None) -> Any:

    user = (
        body.get("user_id") or (body.get("user") or {}).get("id")
        if isinstance(body.get("user"), dict)
        else body.get("user_id")
    )
    return Principal(channel=ChannelKind.SLACK, user_id=str(user or ""), org_id=team)


def _action_data(action: Mapping[str, Any]) -> dict[str, Any] | None:
    raw = action.get("value") or (action.get("selected_option") or {}).get("value")
    try:
        data = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


async def _quietly(call: Awaitable[Any], what: str) -> bool:
    """A call whose failure is logged, not raised: the person has their answer already."""
    try:
        await call
    except SlackApiError as error:
        log.warning("slack: could not %s: %s", what, error.response.get("error"))
        return False
    return True
