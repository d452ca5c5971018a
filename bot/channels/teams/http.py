"""`POST /api/messages`: the Teams edge. Every way a request can fail ends here, once.

The request is checked in order, and the first problem answers:

    too many requests not yet authenticated (bot.edge)       503 (Retry-After)
    wrong Content-Type or a Content-Encoding                 415
    a declared body size over the limit                      413
    no bearer token signed by a trusted key (auth on)        401
    body over the size limit                                 413
    body not received in time                                408
    nested too deep, not JSON, or JSON that is no activity   400
    a conversation or user id over MAX_ID_BYTES              400
    authentication fails, for any reason                     401
    the turn raises                                          500

The token's signature is checked before the body is read (keys.precheck, from cached
keys, never a blocking fetch); botbuilder's full authentication (issuer, audience,
endorsements, the service URL claim against the activity's) runs on the activity's
channel and service URL alone, before msrest deserializes the whole activity. Whatever
botbuilder raises for a bad token (PermissionError, but also KeyError, IndexError or a
jwt error) is a 401 here, and errors of the turn itself are 500. Callers get a short JSON
body, `{"error": "..."}`, never a stack trace; the details go to the log.

Invokes are answered with the turn's InvokeResponse, its body serialized here (msrest
models, see payloads.py); other activities with an empty 200, as the Bot Framework
documents. An invoke nobody answered (botbuilder's 501) is an empty 200 too: Teams shows
nothing for it, and a 501 would count as a server error of ours.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final

from aiohttp import web
from botbuilder.core import serializer_helper
from botbuilder.schema import Activity
from msrest.serialization import Model

from bot.channels.teams import keys
from bot.channels.teams.activity_handler import TeamsBot
from bot.edge import EdgeError, check_headers, error_response, read_json
from bot.edge.admission import BusyError
from bot.edge.limits import edge_of
from bot.edge.signing_keys import TokenRefusedError

log = logging.getLogger(__name__)

ROUTE: Final = "/api/messages"
#: Teams ids are at most a few hundred characters; longer is no Teams id, and stored ids
#: must stay within PostgreSQL's B-tree index row limit (~2.7 KB).
MAX_ID_BYTES: Final = 1024


@dataclass(frozen=True, slots=True)
class TeamsEndpoint:
    """What the route needs: botbuilder's adapter, our turn logic, and whether tokens are
    required (the bot has an app id)."""

    adapter: Any
    bot: TeamsBot
    authenticated: bool = False


#: Set while the app runs (after the store and router exist); the route answers 503 before.
TEAMS_ENDPOINT = web.AppKey("teams_endpoint", TeamsEndpoint)


def add_routes(app: web.Application) -> None:
    app.router.add_post(ROUTE, messages)


async def messages(request: web.Request) -> web.Response:
    endpoint = request.app.get(TEAMS_ENDPOINT)
    if endpoint is None:
        return error_response(503, "not ready")
    activity: Any = None
    try:
        auth, data = await _admit(endpoint, request)
        activity = _deserialize(data)
        answer = await endpoint.adapter.process_activity(auth, activity, endpoint.bot.on_turn)
    except EdgeError as refused:
        return error_response(refused.status, refused.message, refused.headers)
    except Exception:  # the edge's one catch-all: logged whole, answered briefly
        log.exception("teams: the turn failed (%s)", _describe(activity))
        return error_response(500, "internal error")
    return _answer(answer)


async def _admit(endpoint: TeamsEndpoint, request: web.Request) -> tuple[Any, dict[str, Any]]:
    """The authentication result and the activity's JSON, read and checked under the
    edge's cap on unauthenticated requests."""
    edge = edge_of(request.app)
    try:
        with edge.gate.admitted():
            check_headers(request, edge.limits)
            header = request.headers.get("Authorization", "")
            if endpoint.authenticated:
                await _precheck(header, request)
            data = await read_json(request, edge.limits)
            if not _looks_like_activity(data):
                raise EdgeError(400, "not an activity")
            assert isinstance(data, dict)
            if not _ids_fit(data):
                raise EdgeError(400, "id too long")
            return await _authenticate(endpoint.adapter, data, header, request), data
    except BusyError:
        log.warning("teams: too many unauthenticated requests at once; refused one")
        raise EdgeError(503, "busy", {"Retry-After": "1"}) from None


async def _precheck(header: str, request: web.Request) -> None:
    try:
        await keys.precheck(header)
    except TokenRefusedError as error:
        _log_refusal(request, error)
        raise EdgeError(401, "unauthorized") from None


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
        and isinstance(data.get("channelId", ""), str)
    )


def _ids_fit(activity: dict[str, Any]) -> bool:
    """The conversation's and the sender's ids are within MAX_ID_BYTES."""
    sender = activity.get("from")
    sender = sender if isinstance(sender, dict) else {}
    ids = (activity["conversation"].get("id"), sender.get("id"), sender.get("aadObjectId"))
    return all(len(str(found).encode()) <= MAX_ID_BYTES for found in ids if found is not None)


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


async def _authenticate(
    adapter: Any, data: dict[str, Any], header: str, request: web.Request
) -> Any:
    # What botbuilder's authentication reads of the activity: its channel and service URL.
    head = Activity(channel_id=data.get("channelId"), service_url=data["serviceUrl"])
    try:
        return await adapter.bot_framework_authentication.authenticate_request(head, header)
    except Exception as error:  # every failure to authenticate is a 401, whatever it raised
        _log_refusal(request, error)
        raise EdgeError(401, "unauthorized") from None


def _log_refusal(request: web.Request, error: Exception) -> None:
    log.warning(
        "teams: unauthenticated request from %s refused (%s: %s)",
        request.remote,
        type(error).__name__,
        error,
    )


def _deserialize(data: dict[str, Any]) -> Any:
    try:
        return Activity().deserialize(data)
    except Exception as error:  # msrest raises its own DeserializationError, or worse
        log.info("teams: unreadable activity: %s", error)
        raise EdgeError(400, "not an activity") from None


def _answer(answer: Any) -> web.Response:
    if answer is None or answer.status == HTTPStatus.NOT_IMPLEMENTED:
        return web.Response(status=200)
    body = answer.body
    if body is None:
        return web.Response(status=answer.status)
    if isinstance(body, Model):
        body = serializer_helper(body)
    return web.json_response(body, status=answer.status)


def _describe(activity: Any) -> str:
    if activity is None:
        return "no activity"
    conversation = activity.conversation.id if activity.conversation else None
    return f"{activity.type} {activity.id or ''} in {conversation}".replace("  ", " ")
