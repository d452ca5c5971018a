"""What the edge tolerates from a caller it does not know yet, and how it is enforced.

Connection-level limits are the aiohttp server's own (`server_options`): the time a
connection may take to send a complete request head (aiohttp's keep-alive timer runs
from the moment a connection opens, and closes it if no request has arrived by then),
the size of the request line and headers, a short lingering after refusing a body
unread, and no automatic decompression (a body that
claims an encoding is refused by `read_json`, not inflated). Body-level limits are
`read_json`'s: size, read time, JSON nesting depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web

from bot.edge.admission import UnauthenticatedGate

#: A Teams activity is at most about 100 KB; Slack and Azure Monitor payloads are smaller.
MAX_BODY: Final = 256 * 1024
#: Activities nest about 10 levels (an Adaptive Card in an invoke value, about 20).
MAX_DEPTH: Final = 64


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    max_body: int = MAX_BODY
    max_depth: int = MAX_DEPTH
    #: Seconds a caller may take to send the request line and headers (per connection).
    header_timeout: float = 10.0
    #: Seconds a caller may take to send the body, once the headers are in.
    body_timeout: float = 10.0
    #: Requests being read or authenticated at once; more are answered 503 at once.
    max_unauthenticated: int = 64


@dataclass(slots=True)
class Edge:
    """The limits and the shared unauthenticated gate of one application."""

    limits: EdgeLimits = field(default_factory=EdgeLimits)
    gate: UnauthenticatedGate = field(init=False)

    def __post_init__(self) -> None:
        self.gate = UnauthenticatedGate(self.limits.max_unauthenticated)


#: The application's edge; routes fall back to the defaults when it is not set.
EDGE = web.AppKey("edge", Edge)


def edge_of(app: web.Application) -> Edge:
    """The application's edge, or one with the default limits (shared) if it has none."""
    return app.get(EDGE) or _DEFAULT


_DEFAULT = Edge()


def server_options(limits: EdgeLimits) -> dict[str, Any]:
    """Keyword arguments for `web.run_app` / `web.AppRunner` that enforce `limits`."""
    return {
        "keepalive_timeout": limits.header_timeout,
        "auto_decompress": False,
        "max_line_size": 8190,
        "max_field_size": 8190,
        "max_headers": 64,
        # After answering a request whose body was not read (413, 415, 401), how long the
        # rest of the body is read and dropped before the connection closes.
        "lingering_time": 1.0,
    }
