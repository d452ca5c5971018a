"""botbuilder's token validation, served from our SigningKeyCache instead of blocking fetches.

botbuilder 4.17.1 keeps one `_OpenIdMetadata` per metadata URL in the class attribute
`JwtTokenExtractor.metadataCache` and refreshes it with blocking `requests.get` on the
event loop, for every token whose key id it does not know (at most hourly per URL, but
for 1-10 s each time: the whole bot stalls). `install()` replaces that dict with one whose
entries ask `signing_keys()`, a bot.edge SigningKeyCache shared by the process: known keys
at once, unknown ones fetched asynchronously only when a fetch is due, else refused.

`precheck(header)` verifies the bearer token's signature against the same cache before the
request body is read; botbuilder's full validation (issuer, audience, endorsements,
service URL) runs after, on the parsed activity.
"""

from __future__ import annotations

from typing import Any, Final

from botframework.connector.auth import AuthenticationConstants, JwtTokenExtractor
from botframework.connector.auth.jwt_token_extractor import _OpenIdConfig

from bot.edge.signing_keys import SigningKeyCache, TokenRefusedError, public_key, verify

#: Where Teams' (and the Emulator's) signing keys are published.
TRUSTED_METADATA: Final = (
    AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
    AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
)

_cache = SigningKeyCache(TRUSTED_METADATA)


def signing_keys() -> SigningKeyCache:
    """The process's signing key cache (tests replace `_cache`)."""
    return _cache


class _CachedMetadata:
    """What botbuilder's JwtTokenExtractor expects of `_OpenIdMetadata`: `get(kid)`."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def get(self, key_id: str | None) -> Any:
        jwk = await signing_keys().find(key_id, self.url) if key_id else None
        if jwk is None:
            raise TokenRefusedError(f"unknown signing key {str(key_id)[:64]!r}")
        return _OpenIdConfig(public_key(jwk), jwk.get("endorsements", []))


class _MetadataByUrl(dict[str, Any]):
    def get(self, url: str, default: Any = None) -> Any:
        found = super().get(url)
        return found if found is not None else _CachedMetadata(url)


def install() -> None:
    """Route botbuilder's key look-ups to `signing_keys()` (idempotent)."""
    if not isinstance(JwtTokenExtractor.metadataCache, _MetadataByUrl):
        JwtTokenExtractor.metadataCache = _MetadataByUrl()


async def precheck(authorization: str) -> dict[str, Any]:
    """The claims of a `Bearer` token signed by a trusted key; TokenRefusedError otherwise."""
    scheme, _, token = authorization.partition(" ")
    if scheme != "Bearer" or not token.strip():
        raise TokenRefusedError("no bearer token")
    return await verify(token.strip(), signing_keys())
