"""POST /slack/events: Events API, interactivity and slash commands in HTTP mode.

One route hands the request to the bolt app (`async_dispatch`) through slack-bolt's aiohttp
converters; bolt verifies the signature (HMAC-SHA256 with the signing secret, timestamps
older than 5 minutes refused: 401) and answers url_verification. Bodies are small: the
route refuses more than 1 MB (Slack's own payloads stay far below).
"""

from __future__ import annotations

import logging
from typing import Final

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)

SLACK_PATH: Final = "/slack/events"
SLACK_APP: Final = web.AppKey("slack_app", AsyncApp)
MAX_BODY: Final = 1024 * 1024


async def slack_events(request: web.Request) -> web.StreamResponse:
    app = request.app.get(SLACK_APP)
    if app is None:
        return web.json_response({"error": "Slack is not configured"}, status=404)
    if request.content_length is not None and request.content_length > MAX_BODY:
        return web.json_response({"error": "request too large"}, status=413)
    return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))


def add_routes(app: web.Application) -> None:
    app.router.add_post(SLACK_PATH, slack_events)
