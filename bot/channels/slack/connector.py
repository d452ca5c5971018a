"""Posting, replying and editing in Slack through the Web API (slack_sdk's AsyncWebClient).

- `post`: chat.postMessage; the message id is its `ts`.
- `reply`: chat.postMessage with `thread_ts` (the alert message's ts).
- `update`: chat.update of that ts (edit in place, for everyone).
- `find_post`: the bot's own message carrying a delivery's key in its message metadata
  (every post has `metadata: {event_type: "alertbot_delivery", event_payload: {key}}`),
  read back with conversations.history (or conversations.replies in a thread) with
  `include_all_metadata`, from shortly before the attempt began (bot.channels.maybe_sent).
  This needs the `*:history` scopes; Slack limits conversations.history for apps
  distributed outside the Marketplace to 1 request a minute (docs.slack.dev/reference/
  methods/conversations.history), so a look-up may be throttled and retried. A look-up
  Slack refuses for good (e.g. `missing_scope`) is logged and the post goes again.

A posted message with a chart (the provisioning digest) gets the chart as an image in its
thread, shared in the background (bot.channels.slack.chart_upload) so the outbox records
the post at once: only a post shares, so an edit or a redelivered UPDATED never shares
again, and an image that cannot be shared leaves the message as it is.

Failures become `SlackDeliveryError` (a DeliveryError) with a verdict
(docs.slack.dev/apis/web-api: errors; rate limits): HTTP 429 / `ratelimited` is retried
after Retry-After, as are 5xx, `internal_error`, `fatal_error`, `service_unavailable`,
`request_timeout` and no answer at all; `channel_not_found`, `not_in_channel`,
`is_archived`, `account_inactive`, `invalid_auth`, `token_revoked`, `missing_scope` on a
channel prune the conversation; anything else (`invalid_blocks`, `msg_too_long`,
`message_not_found`, `cant_update_message`, `edit_window_closed`) gives up. No answer
or a 5xx to a post may hide an accepted one (`maybe_posted`). The client has no retry
handlers of its own: the outbox decides when to try again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any, Final

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.delivery import DeliveryError, Verdict
from bot.channels.maybe_sent import EVENT_TYPE, PostMark
from bot.channels.slack.chart_upload import ChartUploader
from bot.channels.slack.conversations import channel_of
from bot.channels.slack.message import SlackMessage
from bot.models import ConversationRef

log = logging.getLogger(__name__)

#: A look-up starts this long before the attempt began (clocks differ).
LOOK_BACK: Final = timedelta(minutes=2)
#: Messages read per look-up (Slack allows 15 to apps outside the Marketplace).
LOOK_UP_LIMIT: Final = 15

RETRY_ERRORS: Final = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
GONE_ERRORS: Final = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "account_inactive",
        "invalid_auth",
        "token_revoked",
    }
)


class SlackDeliveryError(DeliveryError):
    def __init__(
        self, operation: str, *, status: int | None, error: str | None, retry_after: float | None
    ) -> None:
        self.status = status
        self.error = error
        detail = f"HTTP {status}" if status is not None else "no answer"
        if error:
            detail += f" {error}"
        super().__init__(
            operation,
            verdict=verdict(status, error),
            retry_after=retry_after,
            detail=detail,
            serious=error in ("invalid_blocks", "msg_too_long", "invalid_arguments"),
            maybe_posted=operation in ("post", "reply") and (status is None or status >= 500),
        )


def verdict(status: int | None, error: str | None) -> Verdict:
    if status is None or status == 429 or status >= 500 or error in RETRY_ERRORS:
        return "retry"
    if error in GONE_ERRORS:
        return "prune"
    return "give_up"


class SlackConnector:
    """bot.channels.delivery.MessageConnector for Slack."""

    can_find = True

    def __init__(self, client: AsyncWebClient, *, charts: ChartUploader | None = None) -> None:
        self._client = client
        self._charts = charts

    async def post(
        self, ref: ConversationRef, payload: SlackMessage, *, limit: float, mark: PostMark
    ) -> str | None:
        channel = channel_of(ref)
        answer = await self._call(
            "post",
            limit,
            channel=channel,
            unfurl_links=False,
            metadata=_metadata(mark),
            **payload.arguments(),
        )
        ts = _ts(answer)
        if ts is not None and payload.chart is not None and self._charts is not None:
            self._charts.share_later(
                payload.chart, channel=channel, thread_ts=ts, conversation_id=ref.conversation_id
            )
        return ts

    async def reply(
        self,
        ref: ConversationRef,
        parent_id: str,
        payload: SlackMessage,
        *,
        limit: float,
        mark: PostMark,
    ) -> str | None:
        answer = await self._call(
            "reply",
            limit,
            channel=channel_of(ref),
            thread_ts=parent_id,
            metadata=_metadata(mark),
            **payload.arguments(),
        )
        return _ts(answer)

    async def find_post(
        self,
        ref: ConversationRef,
        *,
        key: str,
        since: datetime,
        parent_id: str | None,
        limit: float,
    ) -> str | None:
        arguments: dict[str, Any] = {
            "channel": channel_of(ref),
            "oldest": f"{(since - LOOK_BACK).timestamp():.6f}",
            "include_all_metadata": True,
            "limit": LOOK_UP_LIMIT,
        }
        if parent_id is not None:
            arguments["ts"] = parent_id
        try:
            answer = await self._call("look up", limit, **arguments)
        except SlackDeliveryError as error:
            if error.verdict == "retry":
                raise
            log.warning("slack: could not look up an earlier post (%s)", error.describe())
            return None
        return _marked(answer.get("messages"), key)

    async def update(
        self, ref: ConversationRef, message_id: str, payload: SlackMessage, *, limit: float
    ) -> None:
        await self._call(
            "update", limit, channel=channel_of(ref), ts=message_id, **payload.arguments()
        )

    async def _call(self, operation: str, seconds: float, /, **arguments: Any) -> dict[str, Any]:
        method = _METHODS.get(operation, "chat.postMessage")
        request: dict[str, Any] = {"json": arguments}
        if operation == "look up":  # read methods take form arguments, not JSON
            method = "conversations.replies" if "ts" in arguments else "conversations.history"
            request = {"http_verb": "GET", "params": {k: _form(v) for k, v in arguments.items()}}
        try:
            async with asyncio.timeout(seconds):
                response = await self._client.api_call(method, **request)
        except SlackApiError as error:
            raise delivery_error(operation, error) from error
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as error:
            raise SlackDeliveryError(
                operation, status=None, error=type(error).__name__, retry_after=None
            ) from error
        data: dict[str, Any] = response.data if isinstance(response.data, dict) else {}
        return data


def delivery_error(operation: str, error: SlackApiError) -> SlackDeliveryError:
    """What a refused Web API call means for a delivery (its verdict and Retry-After)."""
    response = error.response
    status = getattr(response, "status_code", None)
    data = getattr(response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    headers = getattr(response, "headers", None) or {}
    retry_after = _seconds(headers.get("Retry-After") or headers.get("retry-after"))
    return SlackDeliveryError(operation, status=status, error=code, retry_after=retry_after)


def _seconds(value: object) -> float | None:
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(float(str(value)), 0.0) if value is not None else None
    except ValueError:
        return None


_METHODS: Final = {"update": "chat.update"}


def _form(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _metadata(mark: PostMark) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE, "event_payload": {"key": mark.key}}


def _marked(messages: Any, key: str) -> str | None:
    """The ts of the bot's message (one with a bot_id) whose metadata carries `key`."""
    for message in messages if isinstance(messages, list) else ():
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if (
            message.get("bot_id")
            and metadata.get("event_type") == EVENT_TYPE
            and payload.get("key") == key
        ):
            return _ts(message)
    return None


def _ts(answer: dict[str, Any]) -> str | None:
    ts = answer.get("ts")
    return str(ts) if ts else None
