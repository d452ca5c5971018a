"""The message each posted message shows now, as a digest: nothing is sent twice in a row.

A button press updates its message at once; the outbox's UPDATED event for that
conversation then finds it already current and skips the edit. The digests are kept in
the database (`attach`: table shown_messages), so every replica, and a restarted one,
skips an edit that would change nothing; until a store is attached (a bot without
deliveries, tests), in memory for the latest `capacity` messages.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import BaseModel


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, BaseModel):  # a view part a payload carries (a Slack message's chart)
        return value.model_dump(mode="json")
    raise TypeError(f"not JSON: {type(value).__name__}")


def digest(payload: Any) -> str:
    """A digest of a JSON payload (an Adaptive Card, a Slack message), key order ignored."""
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class ShownStore(Protocol):
    """bot.store.base.DeliveryStateOperations, the part used here."""

    async def shown_digest(self, conversation_id: str, message_id: str) -> str | None: ...

    async def remember_shown(
        self, conversation_id: str, message_id: str, *, digest: str, at: datetime
    ) -> None: ...


class ShownMessages:
    """The digest of the payload last put on each (conversation, message)."""

    def __init__(
        self,
        store: ShownStore | None = None,
        *,
        capacity: int = 10_000,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._capacity = capacity
        self._clock = clock
        self._digests: OrderedDict[tuple[str, str], str] = OrderedDict()
        #: The payload last digested (held, so it is the same object while held) and its digest.
        self._last: tuple[Any, str] | None = None

    def attach(self, store: ShownStore) -> None:
        """Keep the digests in `store` from now on."""
        self._store = store

    async def remember(self, conversation_id: str, message_id: str, payload: Any) -> None:
        value = self._digest(payload)
        if self._store is not None:
            await self._store.remember_shown(
                conversation_id, message_id, digest=value, at=self._clock()
            )
            return
        self._keep(conversation_id, message_id, value)

    def _keep(self, conversation_id: str, message_id: str, value: str) -> None:
        key = (conversation_id, message_id)
        self._digests[key] = value
        self._digests.move_to_end(key)
        while len(self._digests) > self._capacity:
            self._digests.popitem(last=False)

    def record(
        self, conversation_id: str, shown: Sequence[tuple[str, Any]]
    ) -> list[tuple[str, str]]:
        """What each (message id, payload) shows now: kept in memory without a store, else
        returned as (message id, digest) for the caller to write with its own
        (bot.store.base.DeliveryStateOperations.save_delivery_state)."""
        digests = [(message_id, self._digest(payload)) for message_id, payload in shown]
        if self._store is not None:
            return digests
        for message_id, value in digests:
            self._keep(conversation_id, message_id, value)
        return []

    async def shows(self, conversation_id: str, message_id: str, payload: Any) -> bool:
        """Whether `payload` is already what that message shows."""
        if self._store is not None:
            known = await self._store.shown_digest(conversation_id, message_id)
        else:
            known = self._digests.get((conversation_id, message_id))
        return known == self._digest(payload)

    def _digest(self, payload: Any) -> str:
        """`digest`, computed once for the payload last seen: a fan-out shows the same
        rendered card (one object) in every conversation."""
        if self._last is not None and self._last[0] is payload:
            return self._last[1]
        value = digest(payload)
        self._last = (payload, value)
        return value
