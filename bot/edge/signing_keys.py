"""OpenID signing keys (JWKS), fetched asynchronously, cached, never fetched at a caller's whim.

A token names its signing key by `kid`. Looking the key up must never stall the event
loop or let a stranger make us fetch: `SigningKeyCache.find(kid)`

- answers from memory when the key is known;
- refreshes a key set older than `max_age` in the background (the old keys keep serving);
- for an unknown `kid`, fetches only when the last attempt for that metadata URL is older
  than `min_interval` (so a stream of made-up `kid`s causes at most one fetch per
  interval), at most `max_fetches` at once, waiting at most `wait` seconds for it;
  otherwise it answers None at once and the caller refuses the token (401).

Fetching is aiohttp (never blocking `requests`): the OpenID metadata document, then its
`jwks_uri`. The same cache serves the Bot Framework's channel keys and Entra's (for
Entra-signed webhooks), one key set per metadata URL. `verify` checks a token's signature,
expiry and issuer-independent claims with the cached key: cheap enough to run before a
request body is even read.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp
import jwt
from jwt.algorithms import RSAAlgorithm

log = logging.getLogger(__name__)

#: Metadata and key documents are a few KB; anything much larger is not one.
_MAX_DOCUMENT: Final = 1024 * 1024
Jwk = dict[str, Any]


class TokenRefusedError(Exception):
    """The token is not signed by a key we know, or its signature or lifetime is wrong."""


@dataclass(slots=True)
class _KeySet:
    keys: dict[str, Jwk] = field(default_factory=dict)
    fetched_at: float | None = None
    attempted_at: float | None = None
    task: asyncio.Task[None] | None = None


class SigningKeyCache:
    def __init__(
        self,
        urls: Iterable[str] = (),
        *,
        max_age: float = 24 * 3600,
        min_interval: float = 300,
        wait: float = 5.0,
        fetch_timeout: float = 10.0,
        max_fetches: int = 2,
        resolve: Callable[[str], str] = lambda url: url,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age = max_age
        self.min_interval = min_interval
        self.wait = wait
        self.fetch_timeout = fetch_timeout
        self.max_fetches = max_fetches
        self._resolve = resolve
        self._clock = clock
        self._sets: dict[str, _KeySet] = {url: _KeySet() for url in urls}
        #: Fetches started, and fetches that failed (for the log and the tests).
        self.fetches = 0
        self.failures = 0

    def add(self, url: str) -> None:
        self._sets.setdefault(url, _KeySet())

    def preload(self, url: str, keys: Iterable[Jwk]) -> None:
        """Keys known without fetching (fresh as of now)."""
        entry = self._sets.setdefault(url, _KeySet())
        entry.keys = {key["kid"]: key for key in keys if isinstance(key.get("kid"), str)}
        entry.fetched_at = entry.attempted_at = self._clock()

    async def find(self, kid: str, url: str | None = None) -> Jwk | None:
        """The key `kid` of `url` (of any known URL if None); None if unknown (see module)."""
        if url is not None:
            self.add(url)
        urls = [url] if url is not None else list(self._sets)
        for name in urls:
            self._refresh_if_old(name)
        found = self._lookup(kid, urls)
        if found is not None:
            return found
        fetches = [task for name in urls if (task := self._fetch_if_due(name)) is not None]
        if not fetches:
            return None
        # A caller that stops waiting leaves the fetch running for the others.
        await asyncio.wait(fetches, timeout=self.wait)
        return self._lookup(kid, urls)

    def in_flight(self) -> int:
        return sum(1 for entry in self._sets.values() if _running(entry.task))

    def _lookup(self, kid: str, urls: Iterable[str]) -> Jwk | None:
        for name in urls:
            key = self._sets[name].keys.get(kid)
            if key is not None:
                return key
        return None

    def _refresh_if_old(self, url: str) -> None:
        entry = self._sets[url]
        if entry.fetched_at is not None and self._clock() - entry.fetched_at > self.max_age:
            self._fetch_if_due(url)

    def _fetch_if_due(self, url: str) -> asyncio.Task[None] | None:
        entry = self._sets[url]
        if _running(entry.task):
            return entry.task
        now = self._clock()
        if entry.attempted_at is not None and now - entry.attempted_at < self.min_interval:
            return None
        if self.in_flight() >= self.max_fetches:
            return None
        entry.attempted_at = now
        self.fetches += 1
        entry.task = asyncio.get_running_loop().create_task(self._fetch(url, entry))
        return entry.task

    async def _fetch(self, url: str, entry: _KeySet) -> None:
        try:
            timeout = aiohttp.ClientTimeout(total=self.fetch_timeout)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                metadata = await _get_json(session, self._resolve(url))
                jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
                if not isinstance(jwks_uri, str):
                    raise ValueError("no jwks_uri in the metadata")
                document = await _get_json(session, self._resolve(jwks_uri))
            keys = document.get("keys") if isinstance(document, dict) else None
            if not isinstance(keys, list):
                raise ValueError("no keys in the key set")
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            self.failures += 1
            log.warning("signing keys: could not fetch %s: %s", url, error or type(error).__name__)
            return
        entry.keys = {
            key["kid"]: key
            for key in keys
            if isinstance(key, dict) and isinstance(key.get("kid"), str)
        }
        entry.fetched_at = self._clock()
        log.info("signing keys: %d keys from %s", len(entry.keys), url)


def _running(task: asyncio.Task[None] | None) -> bool:
    """A fetch still running in this event loop (tasks of a closed loop are forgotten)."""
    if task is None or task.done():
        return False
    try:
        return task.get_loop() is asyncio.get_running_loop()
    except RuntimeError:
        return False


async def _get_json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        response.raise_for_status()
        body = await response.content.read(_MAX_DOCUMENT + 1)
        if len(body) > _MAX_DOCUMENT:
            raise ValueError(f"{url}: document too large")
        return json.loads(body)


def public_key(jwk: Jwk) -> Any:
    """The RSA public key of a JWK."""
    return RSAAlgorithm.from_jwk(json.dumps(jwk))


async def verify(
    token: str, cache: SigningKeyCache, *, url: str | None = None, leeway: float = 300
) -> dict[str, Any]:
    """The claims of `token` if a cached key signed it (RS256) and it has not expired.

    Audience and issuer are the caller's to check. TokenRefusedError otherwise, at once unless
    a key fetch is due (see the module)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise TokenRefusedError(f"not a JWT ({error})") from None
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid or header.get("alg") != "RS256":
        raise TokenRefusedError("no key id, or not RS256")
    jwk = await cache.find(kid, url)
    if jwk is None:
        raise TokenRefusedError(f"unknown signing key {kid[:64]!r}")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            public_key(jwk),
            algorithms=["RS256"],
            leeway=leeway,
            options={"verify_aud": False, "require": ["exp"]},
        )
    except (jwt.PyJWTError, ValueError) as error:
        raise TokenRefusedError(f"invalid token ({error})") from None
    return claims
