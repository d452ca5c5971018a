"""Pacing shared across replicas, through the database.

A conversation is delivered to by one replica at a time (its outbox lease), but the lease
moves: the replica taking over must continue the conversation's rate window, not start a
fresh one. So after a delivery that made requests, the conversation's recent operations
(wall-clock times, within the longest window) are written on its lease row, and a replica
that has not acted in the conversation lately reads them before its first request.

The app's windows (Teams: about 50 a second per app) are divided among the replicas
delivering now, counted as the distinct workers that claimed a conversation in the last
`LIVE_FOR` (the lease rows keep their last claimer), at least one; the count is read at
most every `REFRESH` seconds. A replica that has just started delivering is counted from
its first claim on, so for up to `REFRESH` seconds the others may still use their older,
larger share: the app window's margin is small (bot.channels.teams.pacing.APP_MARGIN), so
Teams may then refuse a few requests with 429, and the outbox waits as it asks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Final, Protocol

from bot.channels.coalesced import Coalesced

#: Workers that claimed a conversation this recently count as delivering.
LIVE_FOR: Final = timedelta(seconds=60)
#: Seconds between two counts of the delivering replicas.
REFRESH: Final = 30.0


class PacingStore(Protocol):
    """bot.store.base.DeliveryStateOperations, the part used here."""

    async def recent_sends_of(
        self, conversation_ids: Sequence[str]
    ) -> Mapping[str, list[datetime]]: ...

    async def save_recent_sends(self, conversation_id: str, sends: Sequence[datetime]) -> None: ...

    async def delivering_replicas(self, *, since: datetime) -> int: ...


class SharedWindow(Protocol):
    """What bot.channels.pacing.Pacer offers for sharing its windows."""

    def tracks(self, conversation_id: str) -> bool: ...

    def recent(self, conversation_id: str) -> list[float]: ...

    def resume(self, conversation_id: str, times: list[float]) -> None: ...

    def share_app(self, by: int) -> None: ...


class SharedPacing:
    """Carries a pacer's windows across replicas; see the module docstring."""

    def __init__(
        self,
        pacer: SharedWindow,
        store: PacingStore,
        *,
        clock: Callable[[], float],
        wall: Callable[[], datetime],
    ) -> None:
        self._pacer = pacer
        self._store = store
        self._clock = clock
        self._wall = wall
        self._counted_at: float | None = None
        # Deliveries started together read their conversations' windows in one query.
        self._recent = Coalesced(store.recent_sends_of)

    async def before(self, conversation_id: str) -> None:
        """Before delivering: the app's share, and the conversation's window if another
        replica (or this one, before a restart) acted in it last."""
        await self._refresh_share()
        if self._pacer.tracks(conversation_id):
            return
        sends = await self._recent.get(conversation_id)
        if sends:
            wall, now = self._wall(), self._clock()
            self._pacer.resume(conversation_id, [now + (at - wall).total_seconds() for at in sends])

    async def after(self, conversation_id: str) -> None:
        """After a delivery that made requests: its window, for whoever delivers next."""
        await self._store.save_recent_sends(conversation_id, self.window(conversation_id))

    def window(self, conversation_id: str) -> list[datetime]:
        """The conversation's operations still inside a window, as wall-clock times: what
        `after` saves (a caller saving more in the same write saves this)."""
        wall, now = self._wall(), self._clock()
        return [wall + timedelta(seconds=at - now) for at in self._pacer.recent(conversation_id)]

    async def _refresh_share(self) -> None:
        now = self._clock()
        if self._counted_at is not None and now - self._counted_at < REFRESH:
            return
        self._counted_at = now
        replicas = await self._store.delivering_replicas(since=self._wall() - LIVE_FOR)
        self._pacer.share_app(max(replicas, 1))
