"""Azure Monitor's secure webhook: the Entra token an action group sends, checked off the loop.

Follows "Action groups: Secure webhook" (learn.microsoft.com, azure-monitor/alerts): the
action group gets a token from Entra as the service principal "AzNS AAD Webhook" (app id
461e8683-5575-4561-ac7f-899cc907d62a) for your app registration, which exposes the app
role `ActionGroupsSecureWebhook` assigned to that principal. Checked: RS256 signature
with the tenant's published keys, issuer (v1 or v2) of the configured tenant, audience,
expiry, the caller's app id and the role.

Signing keys are fetched asynchronously (never blocking the event loop), cached, and
fetched again for an unknown key id at most once per `refresh_interval`, one fetch at a
time: a stream of tokens with made-up key ids cannot make the bot hammer Entra or wait.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any, Final

import aiohttp
import jwt

log = logging.getLogger(__name__)

ACTION_GROUPS_APP_ID: Final = "461e8683-5575-4561-ac7f-899cc907d62a"
ROLE: Final = "ActionGroupsSecureWebhook"
FETCH_TIMEOUT: Final = 10.0


class TokenRejected(Exception):  # noqa: N818 - a verdict, not a failure of ours
    """The token is not one Azure Monitor sent for this app; the reason is for the log."""


class EntraTokenValidator:
    """Checks `Authorization: Bearer` tokens of Azure Monitor's secure webhook."""

    def __init__(
        self,
        *,
        tenant_id: str,
        audience: str,
        authority: str = "https://login.microsoftonline.com",
        refresh_interval: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tenant = tenant_id.lower()
        self._audiences = {audience, f"api://{audience}"} if "://" not in audience else {audience}
        self._issuers = [
            f"https://sts.windows.net/{self._tenant}/",
            f"{authority.rstrip('/')}/{self._tenant}/v2.0",
        ]
        self._keys_url = f"{authority.rstrip('/')}/{self._tenant}/discovery/v2.0/keys"
        self._refresh_interval = refresh_interval
        self._monotonic = monotonic
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def validate(self, authorization: str | None) -> dict[str, Any]:
        """The token's claims; TokenRejected (say 401) if anything is wrong with it."""
        token = _bearer(authorization)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise TokenRejected(f"malformed token: {error}") from None
        if header.get("alg") != "RS256":
            raise TokenRejected(f"algorithm {header.get('alg')!r} is not RS256")
        key = await self._key(str(header.get("kid", "")))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=sorted(self._audiences),
                issuer=self._issuers,
                options={"require": ["exp", "iss", "aud"]},
                leeway=60,
            )
        except jwt.PyJWTError as error:
            raise TokenRejected(str(error)) from None
        _check_caller(claims)
        return claims

    async def _key(self, kid: str) -> jwt.PyJWK:
        if kid in self._keys:
            return self._keys[kid]
        if not self._fetch_due():
            raise TokenRejected(f"unknown signing key {kid!r}")
        async with self._lock:
            if kid not in self._keys and self._fetch_due():
                await self._fetch()
        if kid not in self._keys:
            raise TokenRejected(f"unknown signing key {kid!r}")
        return self._keys[kid]

    def _fetch_due(self) -> bool:
        last = self._fetched_at
        return last is None or self._monotonic() - last >= self._refresh_interval

    async def _fetch(self) -> None:
        self._fetched_at = self._monotonic()
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT)
            )
        try:
            async with self._session.get(self._keys_url) as response:
                response.raise_for_status()
                document = json.loads(await response.text())
            keys = {
                str(item["kid"]): jwt.PyJWK(item)
                for item in document.get("keys", [])
                if isinstance(item, dict) and item.get("kid") and item.get("kty") == "RSA"
            }
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, jwt.PyJWTError) as error:
            log.warning(
                "azure monitor: cannot fetch signing keys from %s: %s", self._keys_url, error
            )
            return
        self._keys = keys
        log.info("azure monitor: %d signing keys from %s", len(keys), self._keys_url)


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRejected("no bearer token")
    return token.strip()


def _check_caller(claims: dict[str, Any]) -> None:
    caller = claims.get("appid") or claims.get("azp")
    if caller != ACTION_GROUPS_APP_ID:
        raise TokenRejected(f"token issued to {caller!r}, not Azure Monitor's action groups")
    roles = claims.get("roles")
    if not isinstance(roles, list) or ROLE not in roles:
        raise TokenRejected(f"the token lacks the app role {ROLE}")
