"""The Slack way to reach the person a notice is for (bot.notices.delivery.Reach "slack"):
a direct message from the app.

users.lookupByEmail with the person's UPN (scope users:read.email), conversations.open
with their user id (im:write), chat.postMessage of the notice in Block Kit (chat:write).
No Slack user with that email (`users_not_found`) is Unreachable; throttling (HTTP 429,
`ratelimited`), 5xx and no answer are Unreachable(later) with Retry-After; any other
refusal is logged by the notifier and the next way is tried. The DM is kept as a direct
conversation, so its buttons and the person's messages find it. Events joining the
notice later update the DM in place: chat.update of its ts with the notice as it is now.
(docs.slack.dev/reference/methods/users.lookupByEmail, conversations.open, chat.postMessage,
chat.update)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, Final

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.channels.delivery import DeliveryError
from bot.channels.maybe_sent import PostMark
from bot.channels.pacing import Pacer
from bot.channels.slack import conversations
from bot.channels.slack.connector import SlackConnector, SlackDeliveryError, delivery_error
from bot.channels.slack.render import SlackRenderer
from bot.models import Clock
from bot.notices.delivery import Reached, Unreachable
from bot.notices.model import Notice
from bot.store.base import ConversationOperations
from bot.views.notice import NoticeView

#: Seconds one Web API call may take.
REQUEST_LIMIT: Final = 10.0
NOT_FOUND: Final = "users_not_found"


class SlackDirectMessage:
    """Reach "slack": the notice as a direct message from the app."""

    name = "slack"

    def __init__(
        self,
        *,
        client: AsyncWebClient,
        renderer: SlackRenderer,
        pacer: Pacer,
        store: ConversationOperations,
        clock: Clock,
    ) -> None:
        self._client = client
        self._connector = SlackConnector(client)
        self._renderer = renderer
        self._pacer = pacer
        self._store = store
        self._clock = clock

    async def send(self, notice: Notice, view: NoticeView) -> Reached:
        email = notice.person.upn
        if not email or "@" not in email:
            raise Unreachable("no UPN to look them up in Slack by email")
        user = await self._call(
            "users.lookupByEmail", self._client.users_lookupByEmail(email=email)
        )
        user_id = str((user.get("user") or {}).get("id") or "")
        team_id = str((user.get("user") or {}).get("team_id") or "")
        if not user_id:
            raise Unreachable(f"users.lookupByEmail: no user id for {email}")
        opened = await self._call(
            "conversations.open", self._client.conversations_open(users=user_id)
        )
        channel_id = str((opened.get("channel") or {}).get("id") or "")
        if not channel_id:
            raise Unreachable("conversations.open: no channel id")
        ref = conversations.conversation_ref(
            team_id, channel_id, channel_type="im", now=self._clock()
        )
        await self._pacer.acquire(ref.conversation_id)
        message = self._renderer.render(view)
        try:
            ts = await self._connector.post(
                ref, message, limit=REQUEST_LIMIT, mark=PostMark(f"notice:{notice.id}")
            )
        except DeliveryError as error:
            raise unreachable(error) from error
        await self._store.upsert_conversation(ref)
        return Reached(self.name, ref.conversation_id, ts)

    async def update(self, notice: Notice, view: NoticeView) -> None:
        """chat.update of the DM the notice went as, with `view`."""
        if not notice.conversation_id or not notice.message_id:
            raise Unreachable("no DM of it is known (no ts came back when it was sent)")
        ref = await self._store.get_conversation(notice.conversation_id)
        if ref is None:
            raise Unreachable(f"the DM {notice.conversation_id} is no longer known")
        await self._pacer.acquire(ref.conversation_id)
        try:
            await self._connector.update(
                ref, notice.message_id, self._renderer.render(view), limit=REQUEST_LIMIT
            )
        except DeliveryError as error:
            raise unreachable(error) from error

    async def _call(self, method: str, call: Awaitable[AsyncSlackResponse]) -> dict[str, Any]:
        try:
            async with asyncio.timeout(REQUEST_LIMIT):
                response = await call
        except SlackApiError as error:
            failure = delivery_error(method, error)
            if failure.error == NOT_FOUND:
                raise Unreachable(f"{method}: no Slack user with their email") from error
            raise unreachable(failure) from error
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as error:
            raise Unreachable(
                f"{method}: no answer ({type(error).__name__})", later=True
            ) from error
        data = response.data if isinstance(response.data, dict) else {}
        return data


def unreachable(error: DeliveryError) -> Unreachable:
    """What a Slack failure means for reaching the person: later when it may work later."""
    later = error.verdict == "retry"
    detail = error.describe()
    if isinstance(error, SlackDeliveryError) and error.error == "ratelimited":
        detail = f"{error.operation}: throttled (ratelimited)"
    return Unreachable(detail, later=later, retry_after=error.retry_after)
