"""The Bot Framework adapter and outbound connections, built from the bot's identity.

`build_adapter` makes botbuilder's CloudAdapter with ConfigurationBotFrameworkAuthentication:
SingleTenant (app id, password, tenant) by default; MultiTenant; or UserAssignedMSI (a
user-assigned managed identity whose client id is the bot's app id, and its tenant).
An empty app id turns authentication off: for local use only (the Agents Playground).

Five changes to botbuilder's defaults, all because of how it talks to the Bot Connector:
- credentials are cached per (app, scope, authority), since botbuilder makes new ones per
  turn and each new one fetches a new token;
- connector and user-token clients are reused per (app, service URL, audience) instead of
  made anew for every turn (`_ReusedClients`): each new msrest configuration cost about
  5 ms of CPU, two per turn, most of a command's cost (botbuilder's older
  BotFrameworkAdapter cached its connector clients the same way);
- their token is acquired in a worker thread (`_TokenInThread`) before a connector client
  is made, since botbuilder's `get_access_token` is a blocking MSAL/HTTP call made on the
  event loop (hourly, 1-10 s);
- connector clients send through one aiohttp session, with plain JSON left as it is
  (transport.py), instead of `requests` in a worker thread and msrest's node-by-node copy
  of every card;
- connector clients get a short timeout and no retries of their own (`tune_client`),
  since msrest would otherwise retry 5xx answers for minutes inside one delivery: the
  outbox decides about retries, honouring Retry-After.

Inbound tokens are checked against keys from bot.edge's SigningKeyCache (keys.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Final, Literal

import jwt
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botframework.connector.auth import (
    ClaimsIdentity,
    ConnectorFactory,
    JwtTokenValidation,
    ServiceClientCredentialsFactory,
)

from bot.channels.teams.transport import Transport, use_aiohttp

log = logging.getLogger(__name__)

AppType = Literal["SingleTenant", "MultiTenant", "UserAssignedMSI"]

#: Seconds one Bot Connector request may take (each delivery asks for less:
#: bot.channels.delivery.REQUEST_LIMIT). Teams answers in well under a second; the bot
#: must stop waiting before the ~9 s after which clients and proxies give up.
REQUEST_TIMEOUT: Final = 6.0
#: A token is renewed (in a thread) when it has less than this many seconds left.
TOKEN_RENEW_AHEAD: Final = 600.0
#: Seconds before a failed token acquisition is tried again.
RENEW_RETRY: Final = 30.0


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who the bot is to the Bot Framework. An empty `app_id` means no authentication."""

    app_id: str = ""
    app_password: str | None = None
    app_type: AppType = "SingleTenant"
    tenant_id: str | None = None

    @property
    def authenticated(self) -> bool:
        return bool(self.app_id)


class _Configuration:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, identity: BotIdentity) -> None:
        self.APP_ID = identity.app_id
        self.APP_PASSWORD = identity.app_password or ""
        # Without an app id only MultiTenant accepts the configuration (auth disabled).
        self.APP_TYPE = identity.app_type if identity.authenticated else "MultiTenant"
        self.APP_TENANTID = identity.tenant_id or ""


class _CachedCredentials(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """One credentials object per (app, scope, authority), so its token cache is reused."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._made: dict[tuple[str, str, str, bool], Any] = {}
        self._tokens: dict[tuple[str, str, str, bool], _TokenInThread] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return bool(await self._inner.is_valid_app_id(app_id))

    async def is_authentication_disabled(self) -> bool:
        return bool(await self._inner.is_authentication_disabled())

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Any:
        key = (app_id or "", oauth_scope or "", login_endpoint or "", validate_authority)
        if key not in self._made:
            credentials = await self._inner.create_credentials(
                app_id, oauth_scope, login_endpoint, validate_authority
            )
            self._made[key] = credentials
            self._tokens[key] = _TokenInThread(credentials)
        await self._tokens[key].renew()
        return self._made[key]


class _TokenInThread:
    """Serves `get_access_token` from a token acquired in a worker thread by `renew()`.

    botbuilder calls `credentials.get_access_token()` synchronously, on the event loop,
    to sign each connector request; the original (MSAL: a blocking HTTP call when its
    cache is empty or stale) now runs in a thread before a connector client is made, well
    ahead of expiry. If it failed, requests fail (PermissionError, which the callers
    already handle) instead of trying again on the loop; renewal is retried after
    RENEW_RETRY seconds."""

    def __init__(self, credentials: Any) -> None:
        self._acquire = credentials.get_access_token
        self._needed = bool(getattr(credentials, "microsoft_app_id", ""))
        self._token: str | None = None
        self._expires = 0.0
        self._retry_at = 0.0
        self._failure = "not acquired yet"
        credentials.get_access_token = self.get_access_token

    def get_access_token(self, force_refresh: bool = False) -> str:
        if self._token is None or not self._fresh(margin=0):
            raise PermissionError(f"no Bot Connector token: {self._failure}")
        return self._token

    async def renew(self) -> None:
        if not self._needed or self._fresh(margin=TOKEN_RENEW_AHEAD):
            return
        if time.monotonic() < self._retry_at:
            return
        try:
            token = await asyncio.to_thread(self._acquire)
        except Exception as error:  # MSAL, requests, PermissionError: all mean "no token"
            self._failure = f"{type(error).__name__}: {error}"
            self._retry_at = time.monotonic() + RENEW_RETRY
            log.warning("teams: could not acquire a Bot Connector token: %s", self._failure)
            return
        self._token, self._expires = token, _expiry(token)

    def _fresh(self, *, margin: float) -> bool:
        return self._token is not None and time.time() < self._expires - margin


def _expiry(token: str) -> float:
    """The token's `exp` (not verified: it is our own token); 30 minutes if unreadable."""
    try:
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        exp = None
    return float(exp) if isinstance(exp, int | float) else time.time() + 1800


class _ReusedClients(ConfigurationBotFrameworkAuthentication):  # type: ignore[misc]
    """botbuilder's authentication, with its connector and user-token clients reused."""

    def __init__(
        self, configuration: Any, *, credentials_factory: Any, transport: Transport
    ) -> None:
        super().__init__(configuration, credentials_factory=credentials_factory)
        self._connectors: _Bounded = _Bounded()
        self._token_clients: _Bounded = _Bounded()
        self.transport = transport

    async def authenticate_request(self, activity: Any, auth_header: str) -> Any:
        result = await super().authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            app_id = _app_id(result.claims_identity)
            result.connector_factory = _ReusedConnectors(
                result.connector_factory, app_id, self._connectors, self.transport
            )
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> Any:
        inner = super().create_connector_factory(claims_identity)
        return _ReusedConnectors(inner, _app_id(claims_identity), self._connectors, self.transport)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> Any:
        key = (_app_id(claims_identity),)
        client = self._token_clients.get(key)
        if client is None:
            client = await super().create_user_token_client(claims_identity)
            self._token_clients.put(key, client)
        return client


class _ReusedConnectors(ConnectorFactory):  # type: ignore[misc]
    """A connector factory that hands out the client made earlier for the same key."""

    def __init__(self, inner: Any, app_id: str, made: _Bounded, transport: Transport) -> None:
        self._inner = inner
        self._app_id = app_id
        self._made = made
        self._transport = transport

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        key = (self._app_id, service_url, audience or "")
        client = self._made.get(key)
        if client is None:
            client = use_aiohttp(await self._inner.create(service_url, audience), self._transport)
            self._made.put(key, client)
        return client


class _Bounded:
    """At most `size` clients, the oldest dropped first (service URLs are few; with
    authentication off, any caller could name new ones)."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: dict[tuple[str, ...], Any] = {}

    def get(self, key: tuple[str, ...]) -> Any:
        return self._items.get(key)

    def put(self, key: tuple[str, ...], value: Any) -> None:
        if len(self._items) >= self._size:
            del self._items[next(iter(self._items))]
        self._items[key] = value


def _app_id(claims_identity: ClaimsIdentity | None) -> str:
    claims = getattr(claims_identity, "claims", None) or {}
    return str(JwtTokenValidation.get_app_id_from_claims(claims) or "")


def build_adapter(identity: BotIdentity, transport: Transport | None = None) -> Any:
    """botbuilder's CloudAdapter for `identity` (raises if the identity is incomplete),
    its connector clients sending through `transport` (a new one if not given)."""
    configuration = _Configuration(identity)
    credentials = _CachedCredentials(ConfigurationServiceClientCredentialFactory(configuration))
    authentication = _ReusedClients(
        configuration, credentials_factory=credentials, transport=transport or Transport()
    )
    return CloudAdapter(authentication)


def tune_client(client: Any, *, timeout: float = REQUEST_TIMEOUT) -> Any:
    """No retries inside msrest (the caller decides), and a short timeout. Idempotent."""
    if client is None or getattr(client, "_alertbot_tuned", False):
        return client
    config = client.config
    # Changed in place: the HTTP session may already hold this very Retry object.
    retry = config.retry_policy.policy
    retry.total = retry.connect = retry.read = retry.status = 0
    retry.status_forcelist = frozenset()
    retry.respect_retry_after_header = False  # else urllib3 sleeps out a 429's Retry-After
    config.connection.timeout = timeout
    client._alertbot_tuned = True
    return client
