"""A fake Bot Connector service: the REST routes the bot uses, with the documented shapes.

    POST /v3/conversations                                  create (a channel post: new thread)
    POST /v3/conversations/{conversationId}/activities      send to a conversation
    POST /v3/conversations/{conversationId}/activities/{activityId}   reply to an activity
    PUT  /v3/conversations/{conversationId}/activities/{activityId}   update an activity

A 1:1 create (`isGroup` false, `members: [{"id": <Entra object id>}]`, `tenantId`) answers
201 `{"id": "a:<new>"}` for a person the app is installed for (`installed_for`), else 403
Forbidden (send-proactive-messages.md: it works only once the app is installed for them).
A channel post (`isGroup` with `channelData.channel.id`) answers 201
`{"id": "<channel>;messageid=<id>", "activityId": "<id>"}`, as Teams does; sends and
replies answer 201 `{"id"}`; an update answers 200 `{"id"}`, or 404 if there is no such
message in that conversation (or its thread). Errors have Teams' body
`{"error": {"code", "message"}}`. `fail(...)` queues failures for the next matching
requests: 429 with Retry-After, 403 BotNotInConversationRoster, 413 MessageSizeTooBig, ...
`answer_later(kind, wait)` makes the next request of that kind do its work (the message
exists) and then await `wait()` before answering: Teams accepted it but answered slowly.
Every request is recorded, with its Authorization header.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

THREAD = ";messageid="


@dataclass(frozen=True)
class Call:
    method: str
    kind: str  # create | send | reply | update
    conversation_id: str | None
    activity_id: str | None
    body: dict[str, Any]
    authorization: str | None

    @property
    def card(self) -> dict[str, Any] | None:
        """The Adaptive Card the call carried, if any."""
        activity = self.body.get("activity", self.body)
        for attachment in activity.get("attachments") or ():
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                content: dict[str, Any] = attachment["content"]
                return content
        return None

    @property
    def text(self) -> str | None:
        activity = self.body.get("activity", self.body)
        text: str | None = activity.get("text")
        return text


@dataclass
class Failure:
    status: int
    code: str | None = None
    retry_after: str | None = None
    kind: str | None = None  # only for requests of this kind


@dataclass
class Message:
    conversation_id: str
    activity: dict[str, Any]
    versions: list[dict[str, Any]] = field(default_factory=list)


class FakeConnector:
    """The service's state: messages by id, recorded calls, queued failures."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[str, Message] = {}
        self._failures: deque[Failure] = deque()
        self._ids = itertools.count(1000)
        #: Entra object ids the app is installed for (a 1:1 create works for them).
        self.installed_for: set[str] = set()
        self._late: dict[str, deque[Callable[[], Awaitable[None]]]] = {}

    def answer_later(self, kind: str, wait: Callable[[], Awaitable[None]]) -> None:
        """The next `kind` request is carried out, then answered once `wait()` returns."""
        self._late.setdefault(kind, deque()).append(wait)

    async def _answered(self, kind: str, response: web.Response) -> web.Response:
        waits = self._late.get(kind)
        if waits:
            await waits.popleft()()
        return response

    def fail(
        self,
        status: int,
        code: str | None = None,
        *,
        retry_after: str | None = None,
        kind: str | None = None,
        times: int = 1,
    ) -> None:
        self._failures.extend(Failure(status, code, retry_after, kind) for _ in range(times))

    def of_kind(self, *kinds: str) -> list[Call]:
        return [call for call in self.calls if call.kind in kinds]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{cid}/activities", self._send)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._reply)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._update)
        return app

    # --- routes -------------------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.Response:
        body, failed = await self._begin(request, "create")
        if failed is not None:
            return failed
        channel = (body.get("channelData") or {}).get("channel", {}).get("id")
        if not body.get("isGroup"):
            return self._create_personal(body)
        if not channel:
            return _error(400, "BadArgument", "only channel posts are supported here")
        message_id = self._new_message(channel, body["activity"], thread=True)
        return await self._answered(
            "create",
            web.json_response(
                {"id": f"{channel}{THREAD}{message_id}", "activityId": message_id}, status=201
            ),
        )

    async def _send(self, request: web.Request) -> web.Response:
        body, failed = await self._begin(request, "send")
        if failed is not None:
            return failed
        message_id = self._new_message(request.match_info["cid"], body)
        return await self._answered("send", web.json_response({"id": message_id}, status=201))

    async def _reply(self, request: web.Request) -> web.Response:
        body, failed = await self._begin(request, "reply")
        if failed is not None:
            return failed
        message_id = self._new_message(request.match_info["cid"], body)
        return web.json_response({"id": message_id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        body, failed = await self._begin(request, "update")
        if failed is not None:
            return failed
        conversation, message_id = request.match_info["cid"], request.match_info["aid"]
        message = self.messages.get(message_id)
        if (
            message is None
            or message.conversation_id.split(THREAD)[0] != conversation.split(THREAD)[0]
        ):
            return _error(404, "NotFound", "The message does not exist")
        message.versions.append(message.activity)
        message.activity = body
        return web.json_response({"id": message_id})

    def _create_personal(self, body: dict[str, Any]) -> web.Response:
        members = body.get("members") or []
        # botbuilder writes `tenantID` (the service reads JSON case-insensitively), and
        # the tenant also in channelData.
        tenant = body.get("tenantId") or body.get("tenantID")
        tenant = tenant or (body.get("channelData") or {}).get("tenant", {}).get("id")
        if len(members) != 1 or not tenant:
            return _error(400, "BadArgument", "a 1:1 conversation needs one member and a tenant")
        member = str(members[0].get("id", "")).lower()
        if member not in self.installed_for:
            return _error(403, "Forbidden", "The bot is not installed for the user")
        return web.json_response({"id": f"a:{next(self._ids)}-{member}"}, status=201)

    # --- helpers ------------------------------------------------------------------------

    async def _begin(
        self, request: web.Request, kind: str
    ) -> tuple[dict[str, Any], web.Response | None]:
        body = await request.json()
        self.calls.append(
            Call(
                method=request.method,
                kind=kind,
                conversation_id=request.match_info.get("cid"),
                activity_id=request.match_info.get("aid"),
                body=body,
                authorization=request.headers.get("Authorization"),
            )
        )
        failure = self._next_failure(kind)
        if failure is None:
            return body, None
        headers = {"Retry-After": failure.retry_after} if failure.retry_after else None
        return body, _error(failure.status, failure.code, "injected", headers=headers)

    def _next_failure(self, kind: str) -> Failure | None:
        for failure in list(self._failures):
            if failure.kind in (None, kind):
                self._failures.remove(failure)
                return failure
        return None

    def _new_message(
        self, conversation: str, activity: dict[str, Any], *, thread: bool = False
    ) -> str:
        message_id = str(next(self._ids))
        where = f"{conversation}{THREAD}{message_id}" if thread else conversation
        self.messages[message_id] = Message(where, activity)
        return message_id


def _error(
    status: int, code: str | None, message: str, *, headers: dict[str, str] | None = None
) -> web.Response:
    body = {"error": {"code": code or "ServiceError", "message": message}}
    return web.json_response(body, status=status, headers=headers)
