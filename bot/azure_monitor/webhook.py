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
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from aiohttp import web

from bot.alerts.intake import ExternalIntake
from bot.azure_monitor.common_schema import PayloadError, parse_alert, to_signal
from bot.azure_monitor.entra_token import EntraTokenValidator, TokenRejected
from bot.edge import EdgeError, check_headers, error_response, read_json
from bot.edge.admission import BusyError
from bot.edge.limits import edge_of
from bot.store import StoreError

log = logging.getLogger(__name__)

PATHS: Final = ("/api/azure-monitor", "/api/azure-monitor/alerts")
#: The common schema's limit is 256 KB per alert; a little room for the envelope.
MAX_BODY: Final = 300 * 1024
#: Retry-After for our own transient failures: Azure retries 503 (not 500) up to 5 times.
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
    try:
        body = await _admit(request, endpoint)
        signal = to_signal(parse_alert(body))
    except EdgeError as error:
        return error_response(error.status, error.message, error.headers)
    except PayloadError as error:
        return error_response(400, str(error))
    try:
        outcome = await endpoint.intake.receive(signal, now=endpoint.clock())
    except StoreError as error:
        log.warning(
            "azure monitor: %s not taken in, asking for a retry: %s", signal.external_id, error
        )
        return error_response(503, "temporarily unavailable", {"Retry-After": RETRY_AFTER})
    status = "duplicate" if outcome.duplicate else "accepted"
    alert_id = outcome.alert.id if outcome.alert else None
    return web.json_response({"status": status, "alertId": alert_id})


async def _admit(request: web.Request, endpoint: AzureMonitorEndpoint) -> object:
    """The body, read within the edge's limits once the caller is authenticated, under
    the edge's cap on requests not yet authenticated (bot.edge)."""
    edge = edge_of(request.app)
    limits = replace(edge.limits, max_body=MAX_BODY)
    try:
        with edge.gate.admitted():
            check_headers(request, limits)
            if not await _authenticated(request, endpoint):
                raise EdgeError(401, "unauthorized")
            return await read_json(request, limits)
    except BusyError:
        raise EdgeError(503, "busy", {"Retry-After": "1"}) from None


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
