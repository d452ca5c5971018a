"""The store's interface for deliveries: the outbox, and the state every replica's
deliveries share (what each posted message shows, each conversation's pacing). Part of
`bot.store.base.StoreOperations`, and imported from there as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bot.models import OutboxItem, OutboxStatus


class OutboxOperations(Protocol):
    """Deliveries of events to conversations: at least once, each key once per conversation."""

    async def enqueue(self, items: Sequence[OutboxItem]) -> list[OutboxItem]:
        """Store new items (ids ignored); return those that were new, with their ids.
        An item whose (conversation, idempotency key) is already stored is skipped."""
        ...

    async def claim_due(
        self, *, worker: str, now: datetime, lease: timedelta, limit: int = 20
    ) -> list[OutboxItem]:
        """Lease up to `limit` pending items due at `now` to `worker` until `now + lease`,
        counting an attempt on each. No other worker gets them until the lease expires."""
        ...

    async def claim_conversations(
        self,
        *,
        worker: str,
        now: datetime,
        lease: timedelta,
        conversations: int,
        per_conversation: int,
    ) -> list[list[OutboxItem]]:
        """Lease up to `conversations` conversations that have due items and are free
        (no other worker's lease) to `worker` until `now + lease`, and with each up to
        `per_conversation` of its due items in enqueue order (counting an attempt on
        each). Replicas claiming at once get different conversations, never waiting."""
        ...

    async def release_conversation(
        self,
        conversation_id: str,
        *,
        worker: str,
        now: datetime,
        unsent: Sequence[int] = (),
        sent: tuple[int, str | None] | None = None,
    ) -> bool:
        """End `worker`'s lease on the conversation; the items `unsent` (claimed, never
        tried) go back without the attempt counted. `sent` (item id, message id): that
        item is marked sent first, in the same transaction, as `mark_sent` would. False
        if the lease was not held."""
        ...

    async def mark_sent(self, item_id: int, *, message_id: str | None) -> bool:
        """Delivered (whoever holds the lease: the message exists now), with the chat
        message it created or updated. False if there is no such item."""
        ...

    async def mark_failed(
        self, item_id: int, *, worker: str, error: str, retry_at: datetime | None
    ) -> bool:
        """Retry at `retry_at`, or give up (None). False, changing nothing, unless
        `worker` still holds the lease on a pending item."""
        ...

    async def mark_post_started(self, item_id: int, *, attempt: str, at: datetime) -> bool:
        """A post of the pending item is about to be sent (attempt id `attempt`): until
        cleared, the item is "maybe sent". False if the item is not pending."""
        ...

    async def clear_post_started(self, item_id: int, *, attempt: str) -> bool:
        """The post `attempt` was answered with a refusal: nothing was posted."""
        ...

    async def list_outbox(
        self,
        *,
        alert_id: int | None = None,
        conversation_id: str | None = None,
        status: OutboxStatus | None = None,
        limit: int | None = None,
    ) -> list[OutboxItem]:
        """Oldest first; e.g. the alert's sent card in a conversation, to update in place."""
        ...


class DeliveryStateOperations(Protocol):
    """What every replica's deliveries share beyond the outbox: what each posted message
    shows, and each conversation's pacing."""

    async def shown_digest(self, conversation_id: str, message_id: str) -> str | None:
        """The digest of what the message was last made to show, if known."""
        ...

    async def remember_shown(
        self, conversation_id: str, message_id: str, *, digest: str, at: datetime
    ) -> None: ...

    async def recent_sends(self, conversation_id: str) -> list[datetime]:
        """When the latest operations in the conversation happened (or are booked)."""
        ...

    async def recent_sends_of(self, conversation_ids: Sequence[str]) -> dict[str, list[datetime]]:
        """`recent_sends` of many conversations in one read (those with none left out)."""
        ...

    async def save_delivery_state(
        self,
        conversation_id: str,
        *,
        shown: Sequence[tuple[str, str]] = (),
        at: datetime,
        sends: Sequence[datetime] | None = None,
    ) -> None:
        """`remember_shown` for each (message id, digest) and, unless None,
        `save_recent_sends`, in one transaction."""
        ...

    async def save_recent_sends(self, conversation_id: str, sends: Sequence[datetime]) -> None: ...

    async def delivering_replicas(self, *, since: datetime) -> int:
        """How many workers claimed a conversation since `since`."""
        ...
