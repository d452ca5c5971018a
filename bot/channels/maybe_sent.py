"""Posts whose answer was lost ("maybe sent"), and how a redelivery reconciles them.

Before a post (a new message or a reply) goes, its outbox item records the attempt
(`post_attempt`, `post_started_at`). An answer that says nothing was posted (a 4xx, a
429) clears it; no answer at all (a timeout, a reset connection) or a 5xx leaves the item
"maybe sent": the platform may have accepted the post. The redelivery then reconciles:

- Slack: every post carries message metadata naming its outbox item
  (`{"event_type": "alertbot_delivery", "event_payload": {"key": <idempotency key>}}`),
  and the connector looks for the bot's message with it (conversations.history, or
  conversations.replies for a reply) since the attempt began: found, it is adopted (and
  edited to show the alert as it is now) instead of posted again.
- Teams: the Bot Connector cannot list a conversation's messages, so a post cannot be
  found again. The card is posted again with a line saying it may repeat an earlier one
  (bot.messages.maybe_repeated): a duplicate the reader is told about is better than an
  alert nobody sees.

Each reconciliation is logged and counted (`alertbot_maybe_sent_total`, by channel and
outcome: adopted or reposted).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, Protocol

from bot.models import ConversationRef, OutboxItem

log = logging.getLogger(__name__)

#: The Slack message metadata type of the bot's deliveries.
EVENT_TYPE: Final = "alertbot_delivery"

Outcome = Literal["adopted", "reposted"]


@dataclass(frozen=True, slots=True)
class PostMark:
    """What a post carries about its delivery: the outbox item's key (Slack puts it in
    the message metadata), and whether it may repeat an earlier post (Teams says so)."""

    key: str
    maybe_repeat: bool = False


@dataclass(frozen=True, slots=True)
class Reconciled:
    """The message found for a maybe-sent post (None: post it), and what was decided."""

    message_id: str | None = None
    mark_repeat: bool = False
    outcome: Outcome | None = None


class PostFinder(Protocol):
    """A connector's look-up of its own earlier post by its mark; `can_find` False when
    the platform offers none (then `find_post` is never called)."""

    can_find: bool

    async def find_post(
        self,
        ref: ConversationRef,
        *,
        key: str,
        since: datetime,
        parent_id: str | None,
        limit: float,
    ) -> str | None:
        """The bot's message posted with `key` since `since` (under `parent_id`), if any."""
        ...


class InFlightStore(Protocol):
    async def mark_post_started(self, item_id: int, *, attempt: str, at: datetime) -> bool: ...

    async def clear_post_started(self, item_id: int, *, attempt: str) -> bool: ...


class InFlightPosts:
    """Records posts in flight and reconciles maybe-sent ones; see the module docstring."""

    def __init__(
        self,
        *,
        channel: str,
        finder: PostFinder,
        store: InFlightStore,
        wall: Callable[[], datetime],
    ) -> None:
        self._channel = channel
        self._finder = finder
        self._store = store
        self._wall = wall

    async def reconcile(
        self, item: OutboxItem, ref: ConversationRef, *, parent_id: str | None, limit: float
    ) -> Reconciled:
        """For an item whose earlier post may have gone: the message to adopt, or how to
        post again."""
        if item.post_attempt is None:
            return Reconciled()
        what = f"delivery {item.id} to {item.conversation_id} (attempt {item.post_attempt})"
        if not self._finder.can_find:
            log.warning(
                "%s: %s may have been posted (the answer was lost) and cannot be looked up: "
                "posting again, marked as a possible repeat",
                self._channel,
                what,
            )
            return Reconciled(mark_repeat=True, outcome="reposted")
        since = item.post_started_at or self._wall()
        found = await self._finder.find_post(
            ref, key=item.idempotency_key, since=since, parent_id=parent_id, limit=limit
        )
        if found is not None:
            log.info("%s: %s was posted after all (%s): adopted", self._channel, what, found)
            return Reconciled(message_id=found, outcome="adopted")
        log.info("%s: %s was not posted: posting again", self._channel, what)
        return Reconciled(outcome="reposted")

    async def begin(self, item: OutboxItem) -> str:
        """Record that a post of `item` is about to go; its attempt id."""
        attempt = uuid.uuid4().hex[:16]
        await self._store.mark_post_started(item.id, attempt=attempt, at=self._wall())
        return attempt

    async def refused(self, item: OutboxItem, attempt: str) -> None:
        """The platform answered that nothing was posted."""
        await self._store.clear_post_started(item.id, attempt=attempt)
