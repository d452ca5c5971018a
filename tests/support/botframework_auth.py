"""Bot Framework channel tokens signed with a local RSA key that botbuilder is made to trust.

Teams signs the requests it sends a bot with keys published at the Bot Framework's OpenID
metadata URL; the bot fetches them into its SigningKeyCache (bot.channels.teams.keys).
`trust(monkeypatch, key)` gives the bot a cache holding our keys instead, fresh so
nothing is fetched, and `key.token(...)` signs a token as the Bot Framework would: RS256,
issuer https://api.botframework.com, audience the bot's app id, the `serviceurl` claim,
and the key endorsed for the msteams channel.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from botframework.connector.auth import AuthenticationConstants
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bot.channels.teams import keys as teams_keys
from bot.edge.signing_keys import SigningKeyCache

METADATA_URL = AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
ISSUER = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class SigningKey:
    """A key pair and its key id; `jwk()` is what a metadata document would publish."""

    kid: str = field(default_factory=lambda: uuid.uuid4().hex)
    private_key: rsa.RSAPrivateKey = field(default_factory=_new_key)
    endorsements: tuple[str, ...] = ("msteams",)

    def jwk(self) -> dict[str, Any]:
        public: dict[str, Any] = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return public | {
            "kid": self.kid,
            "use": "sig",
            "alg": "RS256",
            "endorsements": list(self.endorsements),
        }

    def token(
        self,
        *,
        app_id: str,
        service_url: str,
        issuer: str = ISSUER,
        lifetime: float = 3600,
        issued_ago: float = 0,
        kid: str | None = None,
    ) -> str:
        now = time.time() - issued_ago
        claims = {
            "iss": issuer,
            "aud": app_id,
            "serviceurl": service_url,
            "nbf": int(now) - 5,
            "iat": int(now),
            "exp": int(now + lifetime),
        }
        headers = {"kid": kid or self.kid, "typ": "JWT"}
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers=headers)

    def header(self, **claims: Any) -> str:
        return f"Bearer {self.token(**claims)}"


def trust(monkeypatch: pytest.MonkeyPatch, *keys: SigningKey) -> SigningKeyCache:
    """Make the bot accept tokens signed by `keys` (and only those), fetching nothing."""
    cache = SigningKeyCache(teams_keys.TRUSTED_METADATA)
    cache.preload(METADATA_URL, [key.jwk() for key in keys])
    monkeypatch.setattr(teams_keys, "_cache", cache)
    return cache
