"""The Bot Framework adapter and outbound connections, built from the bot's identity.

`build_adapter` makes botbuilder's CloudAdapter with ConfigurationBotFrameworkAuthentication:
SingleTenant (app id, password, tenant) by default; MultiTenant; or UserAssignedMSI (a
user-assigned managed identity whose client id is the bot's app id, and its tenant).
An empty app id turns authentication off: for local use only (the Agents Playground).

Two changes to botbuilder's defaults, both because of how it talks to the Bot Connector:
credentials are cached per (app, scope, authority), since botbuilder makes new ones per
turn and each new one fetches a new token; and connector clients get a short timeout and
no retries of their own (`tune_client`), since msrest would otherwise retry 5xx answers
for minutes inside one delivery: the outbox decides about retries, honouring Retry-After.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botframework.connector.auth import ServiceClientCredentialsFactory

AppType = Literal["SingleTenant", "MultiTenant", "UserAssignedMSI"]

#: Seconds one Bot Connector request may take. Teams answers in well under a second.
REQUEST_TIMEOUT: Final = 8.0


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

    async def is_valid_app_id(self, app_id: str) -> bool:
        return bool(await self._inner.is_valid_app_id(app_id))

    async def is_authentication_disabled(self) -> bool:
        return bool(await self._inner.is_authentication_disabled())

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Any:
        key = (app_id or "", oauth_scope or "", login_endpoint or "", validate_authority)
        if key not in self._made:
            self._made[key] = await self._inner.create_credentials(
                app_id, oauth_scope, login_endpoint, validate_authority
            )
        return self._made[key]


def build_adapter(identity: BotIdentity) -> Any:
    """botbuilder's CloudAdapter for `identity` (raises if the identity is incomplete)."""
    configuration = _Configuration(identity)
    credentials = _CachedCredentials(ConfigurationServiceClientCredentialFactory(configuration))
    authentication = ConfigurationBotFrameworkAuthentication(
        configuration, credentials_factory=credentials
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
