"""How connector clients reach the Bot Connector: aiohttp on the event loop, plain JSON.

botbuilder's ConnectorClient is an msrest client. By default msrest sends each request
with `requests` in a worker thread (a thread hop and requests' session machinery per
call), and serialises each Activity by walking every node of every Adaptive Card with
msrest's type checks. Together that was about half the bot's CPU for a chat command
(py-spy, benchmarks/command_cpu.py). msrest lets a client's pipeline be replaced
(botbuilder's BotFrameworkConnectorConfiguration takes a `pipeline_type` for this), so
`use_aiohttp` gives a client:

- a pipeline whose sender is one shared aiohttp session (`Transport`), with the same
  policies msrest would use (user agent, the Bearer token from the client's credentials,
  the raw deserializer, the HTTP logger), the operation's `timeout` as a total time
  limit, and aiohttp's errors raised as msrest's `ClientRequestError`, as requests'
  errors are;
- a serializer that passes plain JSON (dicts, lists, str, int, float, bool, None: what
  card templates produce) through as it is, where msrest would copy it node by node into
  the very same value; anything else still goes through msrest.
"""

from __future__ import annotations

import urllib.request
from functools import lru_cache
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp
from msrest import Serializer
from msrest.exceptions import ClientRequestError
from msrest.pipeline import Request, Response, SansIOHTTPPolicy
from msrest.pipeline.async_abc import AsyncHTTPSender, AsyncPipeline
from msrest.pipeline.universal import RawDeserializer
from msrest.universal_http import ClientRequest, HTTPClientResponse
from multidict import CIMultiDict

#: Connections kept open to the Bot Connector (Teams answers from a few hosts).
POOL_SIZE: Final = 64
_PLAIN: Final = (str, int, float, bool, type(None))


class Transport:
    """One aiohttp session for every connector client of an adapter, made on first use
    (on the running loop) and closed by `close()`."""

    def __init__(self, *, pool_size: int = POOL_SIZE) -> None:
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # Not trust_env: aiohttp would then read the environment and ~/.netrc in a
            # worker thread for every request; the proxy is looked up once per host.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size)
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


def use_aiohttp(client: Any, transport: Transport) -> Any:
    """`client` (a botframework ConnectorClient) sending through `transport`. Idempotent."""
    if client is None or getattr(client, "_alertbot_aiohttp", False):
        return client
    config = client.config
    policies: list[Any] = [config.user_agent_policy, RawDeserializer(), config.http_logger_policy]
    if config.credentials is not None:
        policies.insert(1, _BearerToken(config.credentials))
    config.pipeline = AsyncPipeline(policies, _Sender(config, transport))
    serializer = _JsonSerializer(client._serialize.dependencies)  # type: ignore[no-untyped-call]
    for operations in (client.conversations, client.attachments):
        operations._serialize = serializer
    client._serialize = serializer
    client._alertbot_aiohttp = True
    return client


def proxy_for(url: str) -> str | None:
    """The proxy for `url` from HTTPS_PROXY/HTTP_PROXY and NO_PROXY, as requests finds it."""
    parts = urlsplit(url)
    return _proxy(parts.scheme, parts.hostname or "")


@lru_cache(maxsize=64)
def _proxy(scheme: str, host: str) -> str | None:
    if not host or urllib.request.proxy_bypass(host):
        return None
    return urllib.request.getproxies_environment().get(scheme)


class _Headers:
    """What `signed_session` needs of a requests.Session: its headers."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}


class _BearerToken(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """The credentials' own `signed_session` decides the Authorization header (none when
    authentication is off); it is copied onto each request."""

    def __init__(self, credentials: Any) -> None:
        self._credentials = credentials

    def on_request(self, request: Request[ClientRequest], **kwargs: Any) -> None:
        signed = self._credentials.signed_session(_Headers())
        authorization = signed.headers.get("Authorization")
        headers = request.http_request.headers
        if authorization:
            headers["Authorization"] = authorization
        else:
            headers.pop("Authorization", None)


class _Sender(AsyncHTTPSender):  # type: ignore[type-arg]
    """msrest's pipeline sender over the shared aiohttp session."""

    def __init__(self, config: Any, transport: Transport) -> None:
        self._config = config
        self._transport = transport

    async def __aenter__(self) -> _Sender:
        return self

    async def __aexit__(self, *exc_details: Any) -> None:
        return None

    def build_context(self) -> None:
        return None

    async def send(
        self, request: Request[ClientRequest], **kwargs: Any
    ) -> Response[ClientRequest, _Answer]:
        outgoing: ClientRequest = request.http_request
        headers = dict(self._config.headers)
        headers.update(outgoing.headers)
        limit = kwargs.get("timeout") or self._config.connection.timeout
        try:
            async with self._transport.session().request(
                outgoing.method,
                outgoing.url,
                headers=headers,
                data=outgoing.data,
                allow_redirects=False,
                proxy=proxy_for(outgoing.url),
                timeout=aiohttp.ClientTimeout(total=float(limit)),
            ) as answer:
                body = await answer.read()
        except (TimeoutError, aiohttp.ClientError) as error:
            raise ClientRequestError("Error occurred in request.", inner_exception=error) from error
        return Response(request, _Answer(outgoing, answer, body))


class _Answer(HTTPClientResponse):
    """A read aiohttp answer, as msrest's deserializers and error classes read one."""

    def __init__(self, request: ClientRequest, answer: aiohttp.ClientResponse, body: bytes) -> None:
        # Errors (msrest's HttpOperationError) expose `internal_response`, which requests
        # makes a requests.Response: this object has the same status_code and headers.
        super().__init__(request, self)
        self.status_code = answer.status
        self.headers = CIMultiDict(answer.headers)
        self.reason = answer.reason
        self._body = body

    def body(self) -> bytes:
        return self._body

    def raise_for_status(self) -> None:
        if self.status_code is not None and self.status_code >= 400:
            raise ClientRequestError(f"{self.status_code} {self.reason}")


class _JsonSerializer(Serializer):
    """msrest's Serializer, except that plain JSON values are used as they are."""

    def serialize_object(self, attr: Any, **kwargs: Any) -> Any:
        if type(attr) in (dict, list) and _plain_json(attr):
            return attr
        return super().serialize_object(attr, **kwargs)  # type: ignore[no-untyped-call]


def _plain_json(value: Any) -> bool:
    """True if `value` holds only dicts with str keys, lists and JSON scalars (exact types:
    an enum or other subclass goes to msrest, which turns it into a string)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            for key in item:
                if type(key) is not str:
                    return False
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind not in _PLAIN:
            return False
    return True
