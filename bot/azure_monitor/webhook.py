"""POST /api/azure-monitor: Azure Monitor action groups post their alerts here.

Follows "Action groups" (webhook retry behaviour) and "Common alert schema"
(learn.microsoft.com, azure-monitor/alerts). Azure retries only on 408, 429, 503, 504
and connection errors (5 tries over about 75 s, then it stops calling for 15 minutes),
and never on 500: a transient failure of ours is a 503 with Retry-After. A retry carries
the same body; the intake records (alertId, monitorCondition) once, so it posts nothing
new. Authentication: the secure webhook's Entra token, or a long secret in the URL
(`?secret=`), compared in constant time; anything else is 401. Bodies over the schema's
256 KB limit (plus room) are 413; anything that is not a common-schema alert is 400 with
the reason.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from aiohttp import web

from bot.alerts.intake import ExternalIntake
from bot.azure_monitor.common_schema import PayloadError, parse_alert, to_signal
from bot.azure_monitor.entra_token import EntraTokenValidator, TokenRejected
from bot.store import StoreError

log = logging.getLogger(__name__)

PATHS: Final = ("/api/azure-monitor", "/api/azure-monitor/alerts")
#: The common schema's limit is 256 KB per alert; a little room for the envelope.
MAX_BODY: Final = 300 * 1024
RETRY_AFTER: Final = "30"


@dataclass(frozen=True, slots=True)
class AzureMonitorEndpoint:
    """What the route needs: how to authenticate, and where alerts go."""

    intake: ExternalIntake
    clock: Callable[[], datetime]
    secret: str | None = None
    tokens: EntraTokenValidator | None = None


ENDPOINT = web.AppKey("azure_monitor_endpoint", AzureMonitorEndpoint)


def add_routes(app: web.Application) -> None:
    for path in PATHS:
        app.router.add_post(path, receive)


async def receive(request: web.Request) -> web.Response:
    endpoint = request.app.get(ENDPOINT)
    if endpoint is None:
        raise web.HTTPNotFound(text="Azure Monitor intake is not configured")
    if not await _authenticated(request, endpoint):
        return _problem(401, "unauthorized")
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    try:
        signal = to_signal(parse_alert(body))
    except PayloadError as error:
        return _problem(400, str(error))
    try:
        outcome = await endpoint.intake.receive(signal, now=endpoint.clock())
    except StoreError as error:
        log.warning(
            "azure monitor: %s not taken in, asking for a retry: %s", signal.external_id, error
        )
        return _problem(503, "temporarily unavailable", retry_after=RETRY_AFTER)
    status = "duplicate" if outcome.duplicate else "accepted"
    alert_id = outcome.alert.id if outcome.alert else None
    return web.json_response({"status": status, "alertId": alert_id})


async def _authenticated(request: web.Request, endpoint: AzureMonitorEndpoint) -> bool:
    given = request.query.get("secret")
    if endpoint.secret is not None and given is not None:
        return hmac.compare_digest(given.encode(), endpoint.secret.encode())
    if endpoint.tokens is not None:
        try:
            await endpoint.tokens.validate(request.headers.get("Authorization"))
        except TokenRejected as error:
            log.info("azure monitor: token refused: %s", error)
            return False
        return True
    return False


async def _body(request: web.Request) -> object:
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _problem(413, f"the body is over {MAX_BODY} bytes")
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        return _problem(413, f"the body is over {MAX_BODY} bytes")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return _problem(400, f"the body is not JSON: {error}")
    except RecursionError:
        return _problem(400, "the body is nested too deeply")


def _problem(status: int, message: str, *, retry_after: str | None = None) -> web.Response:
    headers = {"Retry-After": retry_after} if retry_after else None
    return web.json_response({"error": message}, status=status, headers=headers)
