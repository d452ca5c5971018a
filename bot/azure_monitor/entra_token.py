"""Azure Monitor's secure webhook: the Entra token an action group sends, checked off the loop.

Follows "Action groups: Secure webhook" (learn.microsoft.com, azure-monitor/alerts): the
action group gets a token from Entra as the service principal "AzNS AAD Webhook" (app id
461e8683-5575-4561-ac7f-899cc907d62a) for your app registration, which exposes the app
role `ActionGroupsSecureWebhook` assigned to that principal. Checked: RS256 signature
with the tenant's published keys, issuer (v1 or v2) of the configured tenant, audience,
expiry, the caller's app id and the role.

Signing keys come from the tenant's OpenID metadata through bot.edge's SigningKeyCache:
fetched asynchronously, cached, and fetched again for an unknown key id at most once per
`refresh_interval`, one fetch at a time, so a stream of tokens with made-up key ids
cannot make the bot hammer Entra or wait.
"""

from __future__ import annotations

from typing import Any, Final

from bot.edge.signing_keys import SigningKeyCache, TokenRefusedError, verify

ACTION_GROUPS_APP_ID: Final = "461e8683-5575-4561-ac7f-899cc907d62a"
ROLE: Final = "ActionGroupsSecureWebhook"


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
    ) -> None:
        tenant = tenant_id.lower()
        base = f"{authority.rstrip('/')}/{tenant}"
        self._audiences = {audience, f"api://{audience}"} if "://" not in audience else {audience}
        self._issuers = [f"https://sts.windows.net/{tenant}/", f"{base}/v2.0"]
        self._metadata = f"{base}/v2.0/.well-known/openid-configuration"
        self._keys = SigningKeyCache([self._metadata], min_interval=refresh_interval, max_fetches=1)

    async def validate(self, authorization: str | None) -> dict[str, Any]:
        """The token's claims; TokenRejected (say 401) if anything is wrong with it."""
        token = _bearer(authorization)
        try:
            claims = await verify(token, self._keys, url=self._metadata, leeway=60)
        except TokenRefusedError as error:
            raise TokenRejected(str(error)) from None
        if claims.get("iss") not in self._issuers:
            raise TokenRejected(f"issuer {claims.get('iss')!r} is not the tenant's")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if not self._audiences.intersection(a for a in audiences if isinstance(a, str)):
            raise TokenRejected(f"audience {audience!r} is not this app")
        _check_caller(claims)
        return claims


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
