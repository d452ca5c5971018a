"""A local, stateful Slack: the Web API at `/api/{method}`, the file upload URLs, the
interactivity `response_url`s and Socket Mode, on 127.0.0.1 and a free port.

Point the real client at it: `AsyncWebClient(token=state.bot_token, base_url=slack.api_url)`.

Request handling follows docs.slack.dev/apis/web-api: arguments arrive in the query
string, as a form, or as a JSON body (slack_sdk uses all three); the token comes as
`Authorization: Bearer` (or a `token` argument). Answers are HTTP 200 with `ok`; no token
→ `not_authed`, an unknown one → `invalid_auth`, a revoked one → `token_revoked`, a
deleted bot/workspace → `account_inactive`, the wrong token type (bot vs app-level) →
`not_allowed_token_type`, an unknown method → `unknown_method`, a method whose
scope the token lacks (`methods.SCOPES`) → `missing_scope` with `needed` and `provided`.
Over a rate limit: HTTP 429, `Retry-After`, `{"ok": false, "error": "ratelimited"}`
(docs.slack.dev/apis/web-api/rate-limits).

Test hooks (`SlackControls`): rate limits and scripted 429s (`throttle`), latency,
scripted `ok: false` errors and HTTP failures per method (`fail_next`). Every request is
recorded in `state.calls`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl

from aiohttp import web

from tests.support.slack.methods import METHODS, SCOPES, Context, fail
from tests.support.slack.response_urls import ResponseUrls
from tests.support.slack.socket_mode import SocketModeHub
from tests.support.slack.state import RecordedCall, SlackState
from tests.support.slack.throttle import ALL_METHODS, Latency, Throttle


@dataclass(frozen=True)
class Failure:
    """A scripted answer for one call: `error` as `ok: false` (HTTP `status`, 200 unless
    set), or with `status` ≥ 500 and no error an HTML error page as a proxy would send."""

    error: str | None = None
    status: int = 200


@dataclass
class SlackControls:
    throttle: Throttle = field(default_factory=Throttle)
    latency: Latency = field(default_factory=Latency)
    failures: dict[str, list[Failure]] = field(default_factory=dict)

    def fail_next(
        self,
        method: str = ALL_METHODS,
        error: str | None = None,
        *,
        status: int = 200,
        calls: int = 1,
    ) -> None:
        self.failures.setdefault(method, []).extend([Failure(error, status)] * calls)

    def next_failure(self, method: str) -> Failure | None:
        for key in (method, ALL_METHODS):
            queue = self.failures.get(key)
            if queue:
                return queue.pop(0)
        return None


@dataclass
class FakeSlack:
    """The running fake: `state` (the workspace), `controls`, `socket_mode`, `response_urls`."""

    state: SlackState
    controls: SlackControls
    socket_mode: SocketModeHub
    response_urls: ResponseUrls
    base_url: str = ""

    @property
    def api_url(self) -> str:
        """What `AsyncWebClient(base_url=...)` takes (with the trailing slash it expects)."""
        return f"{self.base_url}/api/"


_FAKE: Final = web.AppKey("fake_slack", FakeSlack)
_APP_TOKEN_METHODS: Final = frozenset({"apps.connections.open"})


def create_slack_app(state: SlackState | None = None) -> web.Application:
    state = state or SlackState()
    fake = FakeSlack(state, SlackControls(), SocketModeHub(state.app_id), ResponseUrls(state))
    app = web.Application()
    app[_FAKE] = fake
    app.router.add_route("*", "/api/{method}", _api)
    app.router.add_post("/upload/v1/{file_id}", _upload)
    app.router.add_post("/response_url/{key}", _response_url)
    app.router.add_get("/link/", fake.socket_mode.handle)
    app.on_shutdown.append(lambda _: fake.socket_mode.close())
    return app


@asynccontextmanager
async def serve_slack(state: SlackState | None = None) -> AsyncIterator[FakeSlack]:
    """Serve a fake Slack on 127.0.0.1 on a free port until the block ends."""
    app = create_slack_app(state)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake = app[_FAKE]
    fake.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    fake.response_urls.base_url = fake.base_url
    try:
        yield fake
    finally:
        await runner.cleanup()


async def _api(request: web.Request) -> web.Response:
    fake = request.app[_FAKE]
    method = request.match_info["method"]
    args = await _arguments(request)
    token = _token(request, args)
    state = fake.state
    call = RecordedCall(method, args, state.clock(), token)
    state.calls.append(call)
    delay = fake.controls.latency.of(method)
    if delay:
        await asyncio.sleep(delay)
    response = _refusal(fake, method, token, args) or _run(fake, method, args)
    late = fake.controls.latency.after(method)
    if late:
        await asyncio.sleep(late)
    call.status = response.status
    body = json.loads(response.text or "{}") if response.content_type == "application/json" else {}
    call.error = body.get("error") if isinstance(body, dict) else None
    return response


def _refusal(
    fake: FakeSlack, method: str, token: str | None, args: Mapping[str, Any]
) -> web.Response | None:
    """Authentication, then scripted failures, then rate limits: each before the method runs."""
    state = fake.state
    if method not in METHODS and method not in _APP_TOKEN_METHODS:
        return _json(fail("unknown_method", req_method=method))
    if not token:
        return _json(fail("not_authed"))
    if token not in (state.bot_token, state.app_token):
        return _json(fail("invalid_auth"))
    if (token == state.app_token) != (method in _APP_TOKEN_METHODS):
        return _json(fail("not_allowed_token_type"))
    if state.token_status == "revoked":
        return _json(fail("token_revoked"))
    if state.token_status == "inactive":
        return _json(fail("account_inactive"))
    needed = SCOPES.get(method)
    if needed is not None and needed not in state.scopes:
        provided = ",".join(sorted(state.scopes))
        return _json(fail("missing_scope", needed=needed, provided=provided))
    failure = fake.controls.next_failure(method)
    if failure is not None:
        if failure.error is None:
            return web.Response(
                status=failure.status, text="<html>upstream error</html>", content_type="text/html"
            )
        return _json(fail(failure.error), status=failure.status)
    channel = args.get("channel") or args.get("channel_id")
    wait = fake.controls.throttle.retry_after(method, channel, state.clock())
    if wait is not None:
        return _json(fail("ratelimited"), status=429, headers={"Retry-After": str(wait)})
    return None


def _run(fake: FakeSlack, method: str, args: Mapping[str, Any]) -> web.Response:
    if method == "apps.connections.open":
        ws_base = fake.base_url.replace("http://", "ws://", 1)
        return _json({"ok": True, "url": fake.socket_mode.issue_url(ws_base)})
    return _json(METHODS[method](Context(fake.state, fake.base_url), args))


async def _upload(request: web.Request) -> web.Response:
    """The upload URL files.getUploadURLExternal hands out: raw bytes (or a multipart form
    with a `file` part) posted to it; Slack answers `OK - <length>` as text/plain."""
    fake = request.app[_FAKE]
    file_id = request.match_info["file_id"]
    upload = fake.state.files.get(file_id)
    fake.state.calls.append(RecordedCall("upload", {"file_id": file_id}, fake.state.clock(), None))
    if upload is None:
        return web.Response(status=404, text="not found", content_type="text/plain")
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        part = form.get("file") or form.get("filename")
        data = part.file.read() if isinstance(part, web.FileField) else str(part or "").encode()
    else:
        data = await request.read()
    upload.content = data
    return web.Response(text=f"OK - {len(data)}", content_type="text/plain")


async def _response_url(request: web.Request) -> web.Response:
    fake = request.app[_FAKE]
    try:
        body = await request.json()
    except ValueError:
        body = None
    status, text = fake.response_urls.use(request.match_info["key"], body)
    if status == 200:
        return _json({"ok": True})
    return web.Response(status=status, text=text, content_type="text/plain")


async def _arguments(request: web.Request) -> dict[str, Any]:
    """Query string, then the form or JSON body, merged as Slack reads them."""
    args: dict[str, Any] = dict(request.query)
    if request.method != "POST":
        return args
    if request.content_type == "multipart/form-data":
        form = await request.post()
        args.update({k: v for k, v in form.items() if isinstance(v, str)})
        return args
    raw = await request.read()
    if not raw:
        return args
    if request.content_type == "application/json":
        try:
            body = json.loads(raw)
        except ValueError:
            return args
        if isinstance(body, dict):
            args.update(body)
    else:
        args.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    return args


def _token(request: web.Request, args: Mapping[str, Any]) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip() or None
    token = args.get("token")
    return str(token) if token else None


def _json(
    body: dict[str, Any], *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.json_response(body, status=status, headers=dict(headers or {}))
