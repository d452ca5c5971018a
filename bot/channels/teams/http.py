"""`POST /api/messages`: the Teams edge. Every way a request can fail ends here, once.

The request is checked in order, and the first problem answers:

    wrong Content-Type (not application/json)               415
    body over MAX_BODY bytes                                 413
    not JSON, or JSON that is no activity                    400
    a conversation or user id over MAX_ID_BYTES              400
    authentication fails, for any reason                     401
    the turn raises                                          500

Authentication runs on its own, before the turn (botbuilder's `authenticate_request`,
then `process_activity` with its result), so whatever botbuilder raises for a bad token
(PermissionError, but also a KeyError or IndexError for an unknown key id, a jwt error for
an expired token: 500 in botbuilder's own handler) is a 401 here, and errors of the turn
itself are 500. Callers get a short JSON body, `{"error": "..."}`, never a stack trace;
the details go to the log. Invokes are answered with the turn's InvokeResponse, its body
serialized here (msrest models, see payloads.py); other activities with an empty 200.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web
from botbuilder.core import serializer_helper
from botbuilder.schema import Activity
from msrest.serialization import Model

from bot.channels.teams.activity_handler import TeamsBot

log = logging.getLogger(__name__)

ROUTE: Final = "/api/messages"
#: Teams messages are at most about 100 KB; an activity with a card stays far below.
MAX_BODY: Final = 256 * 1024
#: Teams ids are at most a few hundred characters; longer is no Teams id, and stored ids
#: must stay within PostgreSQL's B-tree index row limit (~2.7 KB).
MAX_ID_BYTES: Final = 1024


@dataclass(frozen=True, slots=True)
class TeamsEndpoint:
    """What the route needs: botbuilder's adapter and our turn logic."""

    adapter: Any
    bot: TeamsBot


#: Set while the app runs (after the store and router exist); the route answers 503 before.
TEAMS_ENDPOINT = web.AppKey("teams_endpoint", TeamsEndpoint)


class _RequestError(Exception):
    """The request cannot be served: answer `status` with `message`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def add_routes(app: web.Application) -> None:
    app.router.add_post(ROUTE, messages)


async def messages(request: web.Request) -> web.Response:
    endpoint = request.app.get(TEAMS_ENDPOINT)
    if endpoint is None:
        return _error(503, "not ready")
    activity: Any = None
    try:
        activity = await _read_activity(request)
        auth = await _authenticate(endpoint.adapter, activity, request)
        answer = await endpoint.adapter.process_activity(auth, activity, endpoint.bot.on_turn)
    except _RequestError as refused:
        return _error(refused.status, refused.message)
    except Exception:  # the edge's one catch-all: logged whole, answered briefly
        log.exception("teams: the turn failed (%s)", _describe(activity))
        return _error(500, "internal error")
    return _answer(answer)


async def _read_activity(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise _RequestError(415, "expected application/json")
    data = _parse(await _read_body(request))
    if not isinstance(data, dict) or not _looks_like_activity(data):
        raise _RequestError(400, "not an activity")
    if not _ids_fit(data):
        raise _RequestError(400, "id too long")
    try:
        return Activity().deserialize(data)
    except Exception as error:  # msrest raises its own DeserializationError, or worse
        log.info("teams: unreadable activity: %s", error)
        raise _RequestError(400, "not an activity") from None


async def _read_body(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise _RequestError(413, "request body too large")
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > MAX_BODY:
            raise _RequestError(413, "request body too large")
    return bytes(body)


def _parse(body: bytes) -> object:
    try:
        return json.loads(body)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        raise _RequestError(400, "malformed JSON") from None


def _looks_like_activity(data: object) -> bool:
    """A JSON object with a type, a service URL and a conversation id: what a turn needs."""
    if not isinstance(data, dict):
        return False
    conversation = data.get("conversation")
    return (
        _text(data.get("type"))
        and _text(data.get("serviceUrl"))
        and isinstance(conversation, dict)
        and _text(conversation.get("id"))
    )


def _ids_fit(activity: dict[str, Any]) -> bool:
    """The conversation's and the sender's ids are within MAX_ID_BYTES."""
    sender = activity.get("from")
    sender = sender if isinstance(sender, dict) else {}
    ids = (activity["conversation"].get("id"), sender.get("id"), sender.get("aadObjectId"))
    return all(len(str(found).encode()) <= MAX_ID_BYTES for found in ids if found is not None)


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


async def _authenticate(adapter: Any, activity: Any, request: web.Request) -> Any:
    header = request.headers.get("Authorization", "")
    try:
        return await adapter.bot_framework_authentication.authenticate_request(activity, header)
    except Exception as error:  # every failure to authenticate is a 401, whatever it raised
        log.warning(
            "teams: unauthenticated request from %s refused (%s: %s)",
            request.remote,
            type(error).__name__,
            error,
        )
        raise _RequestError(401, "unauthorized") from None


def _answer(answer: Any) -> web.Response:
    if answer is None:
        return web.Response(status=200)
    body = answer.body
    if body is None:
        return web.Response(status=answer.status)
    if isinstance(body, Model):
        body = serializer_helper(body)
    return web.json_response(body, status=answer.status)


def _error(status: int, message: str) -> web.Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return web.json_response({"error": message}, status=status, headers=headers)


def _describe(activity: Any) -> str:
    if activity is None:
        return "no activity"
    conversation = activity.conversation.id if activity.conversation else None
    return f"{activity.type} {activity.id or ''} in {conversation}".replace("  ", " ")
