"""What the local Microsoft Graph and Azure Resource Manager servers share: the request
log, scripted faults (any status, e.g. 429 with Retry-After, 503), an artificial delay,
and serving an aiohttp app on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Fault:
    """One scripted answer: HTTP `status` with the service's error body for `code` /
    `message`; for `operation` only (see each server's operation names) or any."""

    status: int
    code: str
    message: str = ""
    retry_after: int | None = None
    operation: str | None = None


@dataclass
class RecordedRequest:
    operation: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class Controls:
    faults: list[Fault] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    delay: float = 0.0

    def fail_next(
        self,
        status: int,
        code: str,
        message: str = "",
        *,
        retry_after: int | None = None,
        operation: str | None = None,
        times: int = 1,
    ) -> None:
        self.faults.extend([Fault(status, code, message, retry_after, operation)] * times)

    def take_fault(self, operation: str) -> Fault | None:
        for index, fault in enumerate(self.faults):
            if fault.operation in (None, operation):
                return self.faults.pop(index)
        return None

    def made(self, operation: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.operation == operation]

    async def record(self, request: web.Request, operation: str) -> RecordedRequest:
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = await request.json() if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
        record = RecordedRequest(
            operation,
            request.method,
            request.path,
            dict(request.query),
            dict(request.headers),
            body,
        )
        self.requests.append(record)
        if self.delay:
            await asyncio.sleep(self.delay)
        return record


def bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    return header[7:].strip() or None


def json_response(
    body: Mapping[str, Any] | None, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    if body is None:
        return web.Response(status=status, headers=dict(headers or {}))
    return web.json_response(dict(body), status=status, headers=dict(headers or {}))


Handler = Callable[[web.Request], Any]


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 on a free port; yields its base URL (no trailing slash)."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
