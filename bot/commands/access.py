"""Who may do what: people of allowed tenants may read; alert admins may also change things.

One policy, one chain of gates for every edge (Teams, Slack): `EdgeGate` refuses callers
from other tenants or workspaces before anything is saved, and the command router asks
the same policy again before a command runs, and whether the caller is an admin.

Admins are Entra users named by object id (ALERTBOT_ADMIN_OBJECT_IDS) or members of Entra
groups (ALERTBOT_ADMIN_GROUP_IDS), matched with the principal's Entra object id (Teams:
aadObjectId; Slack: the Entra user with the same email, when mapped), plus each channel's
own admins (`ChannelAdmins`, e.g. Slack user ids and user groups). Group membership is
asked of Microsoft Graph (`checkMemberGroups`, transitive) and remembered for a few
minutes. Every doubt is a "no": a caller without a tenant, an unreadable user id, Graph
unreachable (logged).

Allowed tenants of Teams callers (see `allowed_tenants`): ALERTBOT_ALLOWED_TENANT_IDS
when set; else the bot's own tenant (ALERTBOT_MICROSOFT_APP_TENANT_ID and/or
ALERTBOT_AZURE_TENANT_ID); else, only with the embedded demo workspace
(ALERTBOT_WORKSPACE=local, no Azure data behind it), any tenant. An Azure workspace with
no tenant configured answers no one until one is.
Other channels give their own allow-list (Slack: workspace ids) in `allowed_orgs`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, Final, Protocol
from urllib.parse import quote

from azure.core import AsyncPipelineClient
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import AzureError
from azure.core.pipeline.policies import (
    AsyncBearerTokenCredentialPolicy,
    AsyncRetryPolicy,
    UserAgentPolicy,
)
from azure.core.pipeline.transport import AsyncHttpTransport
from azure.core.rest import HttpRequest

from bot.commands.base import Principal
from bot.errors import AlertBotError
from bot.models import ChannelKind
from bot.settings import Settings

log = logging.getLogger(__name__)

GRAPH_ENDPOINT: Final = "https://graph.microsoft.com/v1.0"
GRAPH_SCOPE: Final = "https://graph.microsoft.com/.default"
#: checkMemberGroups takes at most this many group ids per request.
GROUPS_PER_REQUEST: Final = 20
DEFAULT_CACHE_SECONDS: Final = 300.0
_CACHE_LIMIT: Final = 10_000
_GUID: Final = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
#: Conversations from other tenants that were told once (remembered, the latest this many).
_TOLD_LIMIT: Final = 1000


class GroupLookupError(AlertBotError):
    """Group membership could not be read (Graph unreachable, token refused, ...)."""

    retryable = True


class GroupMembership(Protocol):
    """Answers whether a user is a member (directly or not) of any of some groups."""

    async def member_of(self, user_id: str, group_ids: Sequence[str]) -> bool:
        """True if `user_id` is in at least one of `group_ids`; GroupLookupError if unknown."""
        ...


class StaticGroupMembership:
    """Fixed memberships (tests, and deployments without Graph): group id -> user ids."""

    def __init__(self, members: Mapping[str, Collection[str]] | None = None) -> None:
        self._members = {
            group.lower(): {user.lower() for user in users}
            for group, users in (members or {}).items()
        }
        self.lookups = 0

    async def member_of(self, user_id: str, group_ids: Sequence[str]) -> bool:
        self.lookups += 1
        user = user_id.lower()
        return any(user in self._members.get(group.lower(), ()) for group in group_ids)


class GraphGroupMembership:
    """Group membership from Microsoft Graph, each answer kept for `cache_seconds`.

    Needs an application permission that allows `checkMemberGroups` on users
    (GroupMember.Read.All and User.ReadBasic.All, or Directory.Read.All). Failures are not
    cached, so Graph coming back is noticed at the next request."""

    def __init__(
        self,
        credential: AsyncTokenCredential,
        *,
        endpoint: str = GRAPH_ENDPOINT,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        timeout: float = 10.0,
        transport: AsyncHttpTransport[Any, Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._endpoint = endpoint.rstrip("/")
        self._cache_seconds = cache_seconds
        self._timeout = timeout
        self._clock = clock
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[float, bool]] = {}
        self._users: dict[tuple[str, tuple[str, ...]], tuple[float, str | None]] = {}
        policies = [
            UserAgentPolicy(sdk_moniker="entra-alertbot"),
            AsyncRetryPolicy(retry_total=2, retry_backoff_factor=0.5),
            AsyncBearerTokenCredentialPolicy(credential, GRAPH_SCOPE),
        ]
        options: dict[str, Any] = {"policies": policies}
        if transport is not None:
            options["transport"] = transport
        self._client: AsyncPipelineClient[Any, Any] = AsyncPipelineClient(self._endpoint, **options)
        # The bearer-token policy refuses plain http unless told per call (loopback tests).
        self._plain_http = self._endpoint.lower().startswith("http://")

    async def member_of(self, user_id: str, group_ids: Sequence[str]) -> bool:
        if not _is_guid(user_id) or not group_ids:
            return False
        key = (user_id.lower(), tuple(sorted(g.lower() for g in group_ids)))
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        answer = await self._ask(key[0], key[1])
        self._remember(key, answer)
        return answer

    async def user_by_email(self, email: str) -> str | None:
        """The Entra object id of the user whose UPN is `email` (GET /users/{upn}), kept
        for `cache_seconds`; None when there is none or Graph cannot say (logged)."""
        key = ("email", (email.lower(),))
        cached = self._users.get(key)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        request = HttpRequest(
            "GET", f"{self._endpoint}/users/{quote(email.lower(), safe='@')}?$select=id"
        )
        options = {"enforce_https": False} if self._plain_http else {}
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.send_request(request, **options)
        except (TimeoutError, AzureError) as error:
            log.warning("no Entra user looked up for %s: %s", email, error)
            return None
        found = response.json().get("id") if response.status_code == 200 else None
        object_id = str(found).lower() if isinstance(found, str) and _is_guid(found) else None
        if response.status_code in (200, 404):
            self._users[key] = (self._clock() + self._cache_seconds, object_id)
        return object_id

    async def close(self) -> None:
        await self._client.close()

    async def _ask(self, user_id: str, group_ids: Sequence[str]) -> bool:
        try:
            async with asyncio.timeout(self._timeout):
                for chunk in _chunks(group_ids, GROUPS_PER_REQUEST):
                    if await self._check(user_id, chunk):
                        return True
                return False
        except TimeoutError:
            raise GroupLookupError(
                f"Microsoft Graph did not answer in {self._timeout:g} s"
            ) from None
        except AzureError as error:
            raise GroupLookupError(f"Microsoft Graph request failed: {error.message}") from error

    async def _check(self, user_id: str, group_ids: Sequence[str]) -> bool:
        request = HttpRequest(
            "POST",
            f"{self._endpoint}/users/{quote(user_id, safe='')}/checkMemberGroups",
            json={"groupIds": list(group_ids)},
        )
        options = {"enforce_https": False} if self._plain_http else {}
        response = await self._client.send_request(request, **options)
        if response.status_code == 404:  # not a user of this directory: a member of nothing
            return False
        if response.status_code != 200:
            raise GroupLookupError(f"Microsoft Graph answered {response.status_code}")
        found = response.json().get("value", [])
        return isinstance(found, list) and bool(found)

    def _remember(self, key: tuple[str, tuple[str, ...]], answer: bool) -> None:
        now = self._clock()
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        self._cache[key] = (now + self._cache_seconds, answer)


class ChannelAdmins(Protocol):
    """A channel's own admins (Slack: user ids and user groups)."""

    async def is_admin(self, principal: Principal) -> bool:
        """True if the channel names `principal` an admin; False whenever it cannot say."""
        ...


class AccessPolicy:
    """Decides whether a caller may be answered at all, and whether they are an admin."""

    def __init__(
        self,
        *,
        admin_user_ids: Iterable[str] = (),
        admin_group_ids: Iterable[str] = (),
        allowed_tenants: Iterable[str] | None = (),
        membership: GroupMembership | None = None,
        allowed_orgs: Mapping[ChannelKind, Iterable[str] | None] | None = None,
        channel_admins: Mapping[ChannelKind, ChannelAdmins] | None = None,
    ) -> None:
        """`allowed_tenants`: the Teams tenants; `allowed_orgs`: other channels' tenants or
        workspaces (a channel missing there lets no one in). None lets everyone of that
        channel in (the local demo only)."""
        self.admin_user_ids = frozenset(u.lower() for u in admin_user_ids)
        self.admin_group_ids = tuple(sorted({g.lower() for g in admin_group_ids}))
        self.allowed_tenants = _lowered(allowed_tenants)
        self._allowed_orgs: dict[ChannelKind, frozenset[str] | None] = {
            kind: _lowered(orgs) for kind, orgs in (allowed_orgs or {}).items()
        }
        self._allowed_orgs[ChannelKind.TEAMS] = self.allowed_tenants
        self._channel_admins = dict(channel_admins or {})
        self._membership = membership
        if self.admin_group_ids and membership is None:
            log.warning(
                "admin groups are configured but no group lookup: group members are not admins"
            )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        membership: GroupMembership | None = None,
        allowed_orgs: Mapping[ChannelKind, Iterable[str] | None] | None = None,
        channel_admins: Mapping[ChannelKind, ChannelAdmins] | None = None,
    ) -> AccessPolicy:
        """The policy the settings describe; other channels add their allow-lists and admins."""
        return cls(
            admin_user_ids=settings.admin_object_ids,
            admin_group_ids=settings.admin_group_ids,
            allowed_tenants=allowed_tenants(settings),
            membership=membership,
            allowed_orgs=allowed_orgs,
            channel_admins=channel_admins,
        )

    def org_allowed(self, principal: Principal) -> bool:
        """Whether the principal's tenant or workspace may use the bot at all."""
        allowed = self._allowed_orgs.get(principal.channel, frozenset())
        if allowed is None:
            return True
        return principal.org_id is not None and principal.org_id.lower() in allowed

    async def is_admin(self, principal: Principal) -> bool:
        """An admin by Entra id or group, or by the channel's own admins; False whenever it
        cannot be known."""
        if not self.org_allowed(principal):
            return False
        if await self._entra_admin(principal.entra_object_id):
            return True
        admins = self._channel_admins.get(principal.channel)
        return admins is not None and await admins.is_admin(principal)

    async def _entra_admin(self, object_id: str | None) -> bool:
        if object_id is None:
            return False
        if object_id.lower() in self.admin_user_ids:
            return True
        if not self.admin_group_ids or self._membership is None:
            return False
        try:
            return await self._membership.member_of(object_id, self.admin_group_ids)
        except GroupLookupError as error:
            log.warning("admin check for %s failed, treating as not an admin: %s", object_id, error)
            return False


class EdgeGate:
    """The first gate of every edge, before anything is saved: the caller's tenant or
    workspace must be allowed. A refused conversation is told once (per process)."""

    def __init__(self, access: AccessPolicy) -> None:
        self.access = access
        self._told: OrderedDict[str, None] = OrderedDict()

    def allows(self, principal: Principal) -> bool:
        return self.access.org_allowed(principal)

    def first_refusal(self, conversation_id: str) -> bool:
        """True the first time a conversation is refused (in this process)."""
        if conversation_id in self._told:
            return False
        self._told[conversation_id] = None
        while len(self._told) > _TOLD_LIMIT:
            self._told.popitem(last=False)
        return True


def allowed_tenants(settings: Settings) -> frozenset[str] | None:
    """The tenants whose people may use the bot; None: any (local demo with none configured)."""
    if settings.allowed_tenant_ids:
        return frozenset(settings.allowed_tenant_ids)
    own = {t.lower() for t in (settings.microsoft_app_tenant_id, settings.azure_tenant_id) if t}
    if own:
        return frozenset(own)
    if settings.workspace == "local":
        return None
    log.warning("no tenant is allowed: set ALERTBOT_ALLOWED_TENANT_IDS")
    return frozenset()


def _lowered(ids: Iterable[str] | None) -> frozenset[str] | None:
    return None if ids is None else frozenset(i.lower() for i in ids)


def _is_guid(text: str) -> bool:
    """An Entra object id; Teams ids such as `29:...` are not, and Graph is not asked."""
    return _GUID.match(text) is not None


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
