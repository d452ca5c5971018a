"""Reading a JSON request body within the edge's limits, and the one error answer.

`read_json` refuses, in this order and before decoding anything:

    a Content-Type other than application/json                 415
    a Content-Encoding other than identity                      415
    a body over `max_body` bytes (declared or actually sent)    413
    a body not fully received within `body_timeout`             408
    JSON nested deeper than `max_depth`, or not JSON at all     400

The depth is measured on the raw bytes (strings skipped) before `json.loads` runs, so the
decoder never recurses deeper than `max_depth`: Python's decoder recurses once per level
and a body of 1,000 `[` would otherwise end in RecursionError.
"""

from __future__ import annotations

import asyncio
import json
import re
from itertools import accumulate
from typing import Final

from aiohttp import web

from bot.edge.limits import EdgeLimits

_JSON: Final = "application/json"
_IDENTITY: Final = frozenset({"", "identity"})
#: A JSON string, escapes included, or an unterminated one up to the end: every quote
#: that starts a match ends it, so one left-to-right pass is linear (no backtracking).
_STRING: Final = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS: Final = bytes(c for c in range(256) if chr(c) not in "[]{}")
#: +1 for an opening bracket, -1 for a closing one, by byte value.
_STEP: Final = [1 if chr(c) in "[{" else -1 if chr(c) in "]}" else 0 for c in range(256)]


class EdgeError(Exception):
    """The request cannot be served: answer `status` with `message` (and `headers`)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """`{"error": message}`: short, the same for every route, never a stack trace."""
    extra = dict(headers or {})
    if status == 401:
        extra.setdefault("WWW-Authenticate", "Bearer")
    return web.json_response({"error": message}, status=status, headers=extra or None)


def check_headers(request: web.Request, limits: EdgeLimits) -> None:
    """What the headers alone refuse (type, encoding, declared size): free to check, so a
    route checks them before anything costly, authentication included."""
    if request.content_type != _JSON:
        raise EdgeError(415, "expected application/json")
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in _IDENTITY:
        raise EdgeError(415, "unsupported content encoding", {"Accept-Encoding": "identity"})
    if request.content_length is not None and request.content_length > limits.max_body:
        raise EdgeError(413, "request body too large")


async def read_json(request: web.Request, limits: EdgeLimits) -> object:
    """The request's JSON body, decoded within `limits`; EdgeError otherwise."""
    check_headers(request, limits)
    body = await read_body(request, limits)
    if too_deep(body, limits.max_depth):
        raise EdgeError(400, "JSON nested too deeply")
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError
        raise EdgeError(400, "malformed JSON") from None


async def read_body(request: web.Request, limits: EdgeLimits) -> bytes:
    """At most `max_body` bytes, received within `body_timeout`."""
    if request.content_length is not None and request.content_length > limits.max_body:
        raise EdgeError(413, "request body too large")
    body = bytearray()
    try:
        async with asyncio.timeout(limits.body_timeout):
            async for chunk in request.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > limits.max_body:
                    raise EdgeError(413, "request body too large")
    except TimeoutError:
        raise EdgeError(408, "request body not received in time", {"Connection": "close"}) from None
    except web.HTTPException:
        raise
    except (ConnectionError, ValueError) as error:  # a lying chunked encoding, a reset
        raise EdgeError(400, f"unreadable body ({type(error).__name__})") from None
    return bytes(body)


def too_deep(body: bytes, max_depth: int) -> bool:
    """Whether arrays and objects in `body` nest deeper than `max_depth` (strings skipped).

    Linear: strings are cut out and everything but brackets dropped (regex and translate,
    in C), then the running depth is summed (map and accumulate, in C too). A body that is
    not JSON gets an upper bound, which the decoder then refuses anyway."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if len(brackets) <= max_depth:
        return False
    return max(accumulate(map(_STEP.__getitem__, brackets))) > max_depth
