"""The Socket Mode side of the fake (docs.slack.dev/apis/events-api/using-socket-mode).

`apps.connections.open` (app-level `xapp-` token) answers a one-time `ws://` URL served
by the same fake. On connect the server sends `hello`; the test pushes envelopes

    {"envelope_id", "type": "events_api" | "interactive" | "slash_commands",
     "payload", "accepts_response_payload", "retry_attempt", "retry_reason"}

and the app acknowledges each with `{"envelope_id", "payload"?}`, which is recorded. The
server can also send `disconnect` (reason `refresh_requested`, `warning`, `link_disabled`).
WebSocket pings are answered with pongs (slack_sdk measures liveness with them).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web


@dataclass
class Ack:
    envelope_id: str
    payload: dict[str, Any] | None
    at: float


@dataclass
class SocketModeHub:
    app_id: str
    tickets: set[str] = field(default_factory=set)
    connections: list[web.WebSocketResponse] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    acks: dict[str, Ack] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def issue_url(self, base_ws_url: str) -> str:
        ticket = uuid.uuid4().hex
        self.tickets.add(ticket)
        return f"{base_ws_url}/link/?ticket={ticket}&app_id={self.app_id}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self.tickets:
            return web.Response(status=401, text="invalid ticket")
        self.tickets.discard(ticket)  # a URL is good for one connection
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        await self._connected(ws)
        await ws.send_json(self._hello())
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self._received(message.data)
        finally:
            async with self._changed:
                if ws in self.connections:
                    self.connections.remove(ws)
                self._changed.notify_all()
        return ws

    async def push(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> str:
        """Send one envelope to the newest connection; its envelope_id is returned."""
        envelope_id = str(uuid.uuid4())
        accepts = kind in ("interactive", "slash_commands")
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": (
                accepts if accepts_response_payload is None else accepts_response_payload
            ),
            "retry_attempt": retry_attempt,
            "retry_reason": retry_reason,
        }
        await self._send(envelope)
        return envelope_id

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        await self._send({"type": "disconnect", "reason": reason, "debug_info": {"host": "fake"}})

    async def wait_connected(self, count: int = 1, within: float = 10.0) -> None:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: len(self.connections) >= count)

    async def wait_for_ack(self, envelope_id: str, within: float = 5.0) -> Ack:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: envelope_id in self.acks)
        return self.acks[envelope_id]

    async def close(self) -> None:
        for ws in list(self.connections):
            await ws.close()

    async def _connected(self, ws: web.WebSocketResponse) -> None:
        async with self._changed:
            self.connections.append(ws)
            self._changed.notify_all()

    def _hello(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": len(self.connections),
            "debug_info": {"host": "applink-fake", "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }

    async def _send(self, message: dict[str, Any]) -> None:
        """To the newest connection, waiting up to 10 s for one to exist."""
        async with asyncio.timeout(10.0), self._changed:
            await self._changed.wait_for(lambda: bool(self.connections))
            ws = self.connections[-1]
        await ws.send_json(message)
        self.sent.append(message)

    async def _received(self, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            self.unexpected.append(data)
            return
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        if not isinstance(envelope_id, str):
            self.unexpected.append(data)
            return
        loop = asyncio.get_running_loop()
        async with self._changed:
            self.acks[envelope_id] = Ack(envelope_id, message.get("payload"), loop.time())
            self._changed.notify_all()
