"""Access tokens for the local Microsoft Graph and Azure Resource Manager servers.

Two token endpoints, as the credentials the bot can use talk to them:

- Managed identity, App Service flavour (learn.microsoft.com/azure/app-service/
  overview-managed-identity, "REST endpoint reference"): `GET {IDENTITY_ENDPOINT}?resource=
  ...&api-version=2019-08-01` with header `X-IDENTITY-HEADER: {IDENTITY_HEADER}` →
  `{"access_token", "expires_on" (epoch seconds as text), "resource", "token_type":
  "Bearer", "client_id"}`. azure-identity's `ManagedIdentityCredential` (and so
  `DefaultAzureCredential` and the bot's `build_credential("managed_identity")`) use it
  when both environment variables are set; `managed_identity_env()` gives them.
- Entra ID v2 client credentials (learn.microsoft.com/entra/identity-platform/
  v2-oauth2-client-creds-grant-flow): `POST /{tenant}/oauth2/v2.0/token` form
  `grant_type=client_credentials&client_id&client_secret&scope={resource}/.default` →
  `{"token_type": "Bearer", "expires_in", "ext_expires_in", "access_token"}`; errors
  `invalid_client` (401, AADSTS7000215) and `invalid_scope` (400, AADSTS1002012).

Tokens are opaque strings remembered with their audience (the resource they were asked
for), which the API servers check. Tests may also `allow()` a fixed token, as the static
test credentials of the bot's own tests use.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final
from urllib.parse import urlsplit

from aiohttp import web

GRAPH_AUDIENCE: Final = "https://graph.microsoft.com"
ARM_AUDIENCE: Final = "https://management.azure.com"
_API_VERSION: Final = "2019-08-01"


@dataclass
class TokenIssuer:
    """Issues and remembers tokens. `identity_header` guards the managed-identity endpoint;
    `clients` maps client id → secret for the client-credentials endpoint."""

    identity_header: str = field(default_factory=lambda: secrets.token_hex(16))
    client_id: str = "11111111-2222-4333-8444-555555555555"
    clients: dict[str, str] = field(default_factory=dict)
    lifetime: int = 3600
    tokens: dict[str, str] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)

    def allow(self, token: str, audience: str) -> None:
        self.tokens[token] = _normalise(audience)

    def issue(self, audience: str) -> str:
        token = f"fake-{secrets.token_urlsafe(24)}"
        self.tokens[token] = _normalise(audience)
        return token

    def audience_of(self, token: str) -> str | None:
        return self.tokens.get(token)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/msi/token", self._managed_identity)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._client_credentials)

    async def _managed_identity(self, request: web.Request) -> web.Response:
        query = request.query
        self.requests.append({"flow": "managed_identity", **query})
        if request.headers.get("X-IDENTITY-HEADER") != self.identity_header:
            return web.json_response(
                {"statusCode": 400, "message": "No X-IDENTITY-HEADER or wrong value"}, status=400
            )
        resource = query.get("resource", "")
        if query.get("api-version") != _API_VERSION or not resource:
            return web.json_response(
                {"statusCode": 400, "message": "api-version and resource are required"}, status=400
            )
        expires_on = int(time.time()) + self.lifetime
        return web.json_response(
            {
                "access_token": self.issue(resource),
                "expires_on": str(expires_on),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": query.get("client_id", self.client_id),
            }
        )

    async def _client_credentials(self, request: web.Request) -> web.Response:
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        self.requests.append({"flow": "client_credentials", "tenant": request.match_info["tenant"]})
        client, secret = form.get("client_id", ""), form.get("client_secret", "")
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(
                400, "unsupported_grant_type", "AADSTS70003: grant type not supported."
            )
        if client not in self.clients or not secrets.compare_digest(self.clients[client], secret):
            return _oauth_error(
                401,
                "invalid_client",
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent "
                "in the request is the client secret value, not the client secret ID.",
            )
        scope = form.get("scope", "")
        if not scope.endswith("/.default"):
            return _oauth_error(
                400,
                "invalid_scope",
                f"AADSTS1002012: The provided value for scope {scope} is not valid.",
            )
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": self.lifetime,
                "ext_expires_in": self.lifetime,
                "access_token": self.issue(scope.removesuffix("/.default")),
            }
        )


def managed_identity_env(base_url: str, issuer: TokenIssuer) -> Mapping[str, str]:
    """Environment for azure-identity's App Service managed identity, aimed at `base_url`."""
    return {"IDENTITY_ENDPOINT": f"{base_url}/msi/token", "IDENTITY_HEADER": issuer.identity_header}


def _normalise(audience: str) -> str:
    parts = urlsplit(audience.removesuffix("/.default"))
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else audience.rstrip("/")


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    code = int(description.split(":")[0].removeprefix("AADSTS"))
    return web.json_response(
        {
            "error": error,
            "error_description": (
                f"{description}\r\nTrace ID: {secrets.token_hex(16)}\r\nTimestamp: {now}"
            ),
            "error_codes": [code],
            "timestamp": now,
            "trace_id": secrets.token_hex(16),
            "correlation_id": secrets.token_hex(16),
        },
        status=status,
    )
