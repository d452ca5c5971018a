"""The HTTP edge, shared by every inbound route (Teams, and later Slack and Azure Monitor).

    limits.py        EdgeLimits: sizes, depths, timeouts, the unauthenticated cap; the
                     aiohttp server options that enforce the connection-level ones
    body.py          read_json: a request body read within those limits, or EdgeError
    admission.py     UnauthenticatedGate: a cap on requests not yet authenticated
    signing_keys.py  SigningKeyCache: OpenID signing keys fetched asynchronously, cached,
                     refreshed in the background, never fetched on demand more than the
                     minimum interval allows

Nothing here knows a chat platform: a route reads its body with `read_json`, holds an
`UnauthenticatedGate` slot until it has authenticated the caller, and answers an
`EdgeError` with `error_response`.
"""

from __future__ import annotations

from bot.edge.admission import UnauthenticatedGate
from bot.edge.body import EdgeError, check_headers, error_response, read_json
from bot.edge.limits import EDGE, Edge, EdgeLimits, server_options

__all__ = [
    "EDGE",
    "Edge",
    "EdgeError",
    "EdgeLimits",
    "UnauthenticatedGate",
    "check_headers",
    "error_response",
    "read_json",
    "server_options",
]
