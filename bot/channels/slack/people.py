"""Who a Slack user is: their name (users.info), Slack admins by user id or user group
(usergroups.users.list), and optionally the Entra user with the same email. Each answer is
kept for a few minutes; every doubt is "not an admin" (logged)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.base import Principal

log = logging.getLogger(__name__)

#: An email's Entra object id, or None (e.g. Microsoft Graph GET /users/{email}).
EntraLookup = Callable[[str], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class SlackPerson:
    name: str | None
    email: str | None
    entra_object_id: str | None = None


class _Cache:
    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self._seconds = seconds
        self._clock = clock
        self._items: dict[str, tuple[float, Any]] = {}

    def get(self, key: str) -> Any:
        found = self._items.get(key)
        return found[1] if found and found[0] > self._clock() else None

    def put(self, key: str, value: Any) -> None:
        if len(self._items) > 10_000:
            self._items.clear()
        self._items[key] = (self._clock() + self._seconds, value)


class SlackPeople:
    """Names and emails of Slack users (users.info), mapped to Entra when asked to."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        entra: EntraLookup | None = None,
        cache_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._entra = entra
        self._cache = _Cache(cache_seconds, clock)

    async def person(self, user_id: str) -> SlackPerson:
        cached: SlackPerson | None = self._cache.get(user_id)
        if cached is not None:
            return cached
        try:
            answer = await self._client.users_info(user=user_id)
        except SlackApiError as error:
            log.info("slack: users.info %s failed: %s", user_id, error.response.get("error"))
            return SlackPerson(name=None, email=None)
        user = answer.get("user") or {}
        profile = user.get("profile") or {}
        email = profile.get("email")
        entra = await self._entra(email) if self._entra and email else None
        found = SlackPerson(
            name=user.get("real_name") or profile.get("real_name") or user.get("name"),
            email=email,
            entra_object_id=entra,
        )
        self._cache.put(user_id, found)
        return found


class SlackAdmins:
    """bot.commands.access.ChannelAdmins for Slack: by user id, or as a member of a user
    group (usergroups.users.list, scope usergroups:read)."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        user_ids: Iterable[str] = (),
        usergroup_ids: Iterable[str] = (),
        cache_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self.user_ids = frozenset(u.upper() for u in user_ids)
        self.usergroup_ids = tuple(sorted({g.upper() for g in usergroup_ids}))
        self._cache = _Cache(cache_seconds, clock)

    async def is_admin(self, principal: Principal) -> bool:
        if principal.user_id.upper() in self.user_ids:
            return True
        for group in self.usergroup_ids:
            if principal.user_id.upper() in await self._members(group):
                return True
        return False

    async def _members(self, group: str) -> frozenset[str]:
        cached: frozenset[str] | None = self._cache.get(group)
        if cached is not None:
            return cached
        try:
            answer = await self._client.usergroups_users_list(usergroup=group)
        except SlackApiError as error:
            log.warning(
                "slack: members of user group %s unknown, treating as not admins: %s",
                group,
                error.response.get("error"),
            )
            return frozenset()
        members = frozenset(str(u).upper() for u in answer.get("users") or ())
        self._cache.put(group, members)
        return members
