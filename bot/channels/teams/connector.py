"""Posting, replying and editing in Teams conversations through the Bot Connector REST API.

The calls the notifier makes, on a stored conversation reference:

- `post`: a new message. In a channel it starts a new thread (POST /v3/conversations with
  the channel in channelData, as TeamsInfo.send_message_to_teams_channel would, which
  fails under CloudAdapter without an app id); in a chat it is a plain message (POST
  /v3/conversations/{id}/activities). Returns the new message's id.
- `reply`: a reply in a message's thread: in a channel, into the thread's conversation
  `<channel>;messageid=<id>`; in a chat, POST /v3/conversations/{id}/activities/{id}.
- `update`: edit a message in place (PUT /v3/conversations/{id}/activities/{id}).

`limit` is each request's time limit in seconds (handed to the HTTP client: a request
cannot be cancelled once sent, so it must end by itself before the outbox gives up on it).

Failures become `ConnectorError` (a bot.channels.delivery.DeliveryError) with the HTTP
status, Teams' error code and Retry-After (a post with no answer, or a 500/502/504, may
have been accepted: `maybe_posted`); its `verdict` says what they mean for a delivery:
412/429/502/503/504, other 5xx and no answer at all are retried (after Retry-After when
Teams gives one); 403 BotNotInConversationRoster and a vanished conversation prune it;
413 and other 4xx give up. Clients are made once per service URL
(tuned: no msrest retries, a timeout under the ~9 s clients give up after) and reused.
"""

from __future__ import annotations

import copy
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final

from botbuilder.core import TurnContext
from botbuilder.schema import ChannelAccount, ConversationParameters
from msrest.exceptions import ClientException, HttpOperationError

from bot.channels.delivery import DeliveryError, Verdict
from bot.channels.teams.adapter import REQUEST_TIMEOUT, tune_client
from bot.channels.teams.conversations import stored_reference, stored_tenant, thread_id
from bot.models import ConversationRef

log = logging.getLogger(__name__)

#: Worth another try, after Retry-After if Teams gave one.
RETRY_STATUSES: Final = frozenset({412, 429, 502, 503, 504})
#: No answer, or an answer from a gateway that may have passed the request on.
MAYBE_POSTED: Final = frozenset({None, 500, 502, 504})
#: The bot was removed from the conversation, or the conversation is gone.
GONE_CODES: Final = frozenset({"BotNotInConversationRoster", "ConversationNotFound"})


class ConnectorError(DeliveryError):
    """A Bot Connector call failed. `status` is None when no HTTP answer came."""

    def __init__(
        self,
        operation: str,
        *,
        status: int | None,
        code: str | None = None,
        retry_after: float | None = None,
        detail: str = "",
    ) -> None:
        self.status = status
        self.code = code
        super().__init__(
            operation,
            verdict=_verdict(operation, status, code),
            retry_after=retry_after,
            detail=detail,
            serious=status == 413,
            maybe_posted=operation in ("post", "reply") and status in MAYBE_POSTED,
        )

    def describe(self) -> str:
        status = f"HTTP {self.status}" if self.status is not None else "no answer"
        code = f" {self.code}" if self.code else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.operation}: {status}{code}{detail}"


def _verdict(operation: str, status: int | None, code: str | None) -> Verdict:
    """retry (throttled, busy, no answer), prune (the bot is out), or give up."""
    if status is None or status in RETRY_STATUSES or status >= 500:
        return "retry"
    if code in GONE_CODES or (status == 404 and operation != "update"):
        return "prune"
    if status == 403 and code == "BotNotInConversationRoster":
        return "prune"
    return "give_up"


class Connector:
    """Bot Connector calls on stored conversations; see the module docstring."""

    def __init__(self, adapter: Any, *, app_id: str, timeout: float = REQUEST_TIMEOUT) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._timeout = timeout
        self._clients: dict[str, Any] = {}

    async def post(self, ref: ConversationRef, activity: Any, *, limit: float) -> str | None:
        reference = stored_reference(ref)
        client = await self._client(reference.service_url)
        outgoing = _addressed(activity, reference)
        if ref.kind != "channel":
            sent = await _call(
                "post",
                client.conversations.send_to_conversation(
                    ref.conversation_id, outgoing, timeout=limit
                ),
            )
            return _id(sent, "post")
        tenant = stored_tenant(ref)
        data: dict[str, Any] = {"channel": {"id": ref.conversation_id}}
        if tenant:
            data["tenant"] = {"id": tenant}
        parameters = ConversationParameters(
            is_group=True, bot=reference.bot, channel_data=data, activity=outgoing, tenant_id=tenant
        )
        created = await _call(
            "post", client.conversations.create_conversation(parameters, timeout=limit)
        )
        return _id(created, "post", attribute="activity_id")

    async def reply(
        self, ref: ConversationRef, message_id: str, activity: Any, *, limit: float
    ) -> str | None:
        reference = stored_reference(ref)
        client = await self._client(reference.service_url)
        outgoing = _addressed(activity, reference)
        if ref.kind == "channel":
            thread = thread_id(ref.conversation_id, message_id)
            outgoing.conversation.id = thread
            call = client.conversations.send_to_conversation(thread, outgoing, timeout=limit)
        else:
            outgoing.reply_to_id = message_id
            call = client.conversations.reply_to_activity(
                ref.conversation_id, message_id, outgoing, timeout=limit
            )
        return _id(await _call("reply", call), "reply")

    async def update(
        self, ref: ConversationRef, message_id: str, activity: Any, *, limit: float
    ) -> None:
        reference = stored_reference(ref)
        client = await self._client(reference.service_url)
        outgoing = _addressed(activity, reference)
        where = ref.conversation_id
        if ref.kind == "channel":
            where = thread_id(ref.conversation_id, message_id)
        outgoing.conversation.id = where
        outgoing.id = message_id
        await _call(
            "update",
            client.conversations.update_activity(where, message_id, outgoing, timeout=limit),
        )

    async def create_personal(
        self, template: ConversationRef, member_id: str, *, limit: float
    ) -> str:
        """A 1:1 conversation with `member_id` (an Entra object id) in the tenant of
        `template` (any stored conversation: it gives the service URL and the bot):
        POST /v3/conversations with isGroup false. It works when the app is installed
        for the person; returns the conversation id."""
        reference = stored_reference(template)
        client = await self._client(reference.service_url)
        tenant = stored_tenant(template)
        parameters = ConversationParameters(
            is_group=False,
            bot=reference.bot,
            members=[ChannelAccount(id=member_id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        created = await _call(
            "create", client.conversations.create_conversation(parameters, timeout=limit)
        )
        found = _id(created, "create")
        if found is None:
            raise ConnectorError("create", status=None, detail="no conversation id returned")
        return found

    async def _client(self, service_url: str) -> Any:
        client = self._clients.get(service_url)
        if client is None:
            authentication = self._adapter.bot_framework_authentication
            claims = self._adapter.create_claims_identity(self._app_id)
            factory = authentication.create_connector_factory(claims)
            client = tune_client(await factory.create(service_url, None), timeout=self._timeout)
            self._clients[service_url] = client
        return client


def _addressed(activity: Any, reference: Any) -> Any:
    """`activity` from the bot into the reference's conversation: a shallow copy (its
    attachments are shared, never changed), with a copy of the conversation account,
    which callers change. Copying the whole activity through msrest cost about 2 ms of
    CPU per post, most of it walking the card (issue 14)."""
    addressed = TurnContext.apply_conversation_reference(copy.copy(activity), reference)
    addressed.conversation = type(reference.conversation)().deserialize(
        reference.conversation.serialize()
    )
    return addressed


async def _call(operation: str, call: Any) -> Any:
    try:
        return await call
    except HttpOperationError as error:
        raise _http_failure(operation, error) from error
    except (ClientException, PermissionError, OSError) as error:
        # No HTTP answer: connection refused or reset, timeout, or no token for the bot.
        raise ConnectorError(operation, status=None, detail=type(error).__name__) from error


def _http_failure(operation: str, error: Any) -> ConnectorError:
    response = error.response
    status = getattr(response, "status_code", None)
    headers = getattr(response, "headers", None) or {}
    inner = getattr(getattr(error, "error", None), "error", None)
    return ConnectorError(
        operation,
        status=status,
        code=getattr(inner, "code", None),
        retry_after=retry_after(headers.get("Retry-After")),
        detail=(getattr(inner, "message", None) or "")[:200],
    )


def retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After in seconds: a number of seconds, or an HTTP date; None if absent or bad."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def _id(answer: Any, operation: str, *, attribute: str = "id") -> str | None:
    """The new message's id. Without one it cannot be edited later, but it was posted:
    trying again would post it twice."""
    found = getattr(answer, attribute, None) if answer is not None else None
    if not found:
        log.warning("teams: %s succeeded but returned no message id", operation)
        return None
    return str(found)
