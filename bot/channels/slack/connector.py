"""Posting, replying and editing in Slack through the Web API (slack_sdk's AsyncWebClient).

- `post`: chat.postMessage; the message id is its `ts`.
- `reply`: chat.postMessage with `thread_ts` (the alert message's ts).
- `update`: chat.update of that ts (edit in place, for everyone).

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
`message_not_found`, `cant_update_message`, `edit_window_closed`) gives up. The client has
no retry handlers of its own: the outbox decides when to try again.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.delivery import DeliveryError, Verdict
from bot.channels.slack.chart_upload import ChartUploader
from bot.channels.slack.conversations import channel_of
from bot.channels.slack.message import SlackMessage
from bot.models import ConversationRef

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
        )


def verdict(status: int | None, error: str | None) -> Verdict:
    if status is None or status == 429 or status >= 500 or error in RETRY_ERRORS:
        return "retry"
    if error in GONE_ERRORS:
        return "prune"
    return "give_up"


class SlackConnector:
    """bot.channels.delivery.MessageConnector for Slack."""

    def __init__(self, client: AsyncWebClient, *, charts: ChartUploader | None = None) -> None:
        self._client = client
        self._charts = charts

    async def post(
        self, ref: ConversationRef, payload: SlackMessage, *, limit: float
    ) -> str | None:
        channel = channel_of(ref)
        answer = await self._call(
            "post", limit, channel=channel, unfurl_links=False, **payload.arguments()
        )
        ts = _ts(answer)
        if ts is not None and payload.chart is not None and self._charts is not None:
            self._charts.share_later(
                payload.chart, channel=channel, thread_ts=ts, conversation_id=ref.conversation_id
            )
        return ts

    async def reply(
        self, ref: ConversationRef, parent_id: str, payload: SlackMessage, *, limit: float
    ) -> str | None:
        answer = await self._call(
            "reply", limit, channel=channel_of(ref), thread_ts=parent_id, **payload.arguments()
        )
        return _ts(answer)

    async def update(
        self, ref: ConversationRef, message_id: str, payload: SlackMessage, *, limit: float
    ) -> None:
        await self._call(
            "update", limit, channel=channel_of(ref), ts=message_id, **payload.arguments()
        )

    async def _call(self, operation: str, limit: float, **arguments: Any) -> dict[str, Any]:
        method = "chat.update" if operation == "update" else "chat.postMessage"
        try:
            async with asyncio.timeout(limit):
                response = await self._client.api_call(method, json=arguments)
        except SlackApiError as error:
            raise _failure(operation, error) from error
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as error:
            raise SlackDeliveryError(
                operation, status=None, error=type(error).__name__, retry_after=None
            ) from error
        data: dict[str, Any] = response.data if isinstance(response.data, dict) else {}
        return data


def _failure(operation: str, error: SlackApiError) -> SlackDeliveryError:
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


def _ts(answer: dict[str, Any]) -> str | None:
    ts = answer.get("ts")
    return str(ts) if ts else None
