"""Conversation references this process knows to be stored as they are.

Every message carries its conversation's reference; writing it each time made every
turn a write transaction (on SQLite: the one file lock, contended by every busy chat).
`KnownConversations` remembers a fingerprint of what was last stored per conversation,
for `ttl` seconds (another process may delete or change it meanwhile), so an unchanged
reference costs nothing and a changed one is written once.

The fingerprint leaves out `updated_at` and the reference's `user` (in a group chat or a
channel it is whoever spoke last; posting into the conversation does not use it): the
stored row's `updated_at` is when the reference last changed.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable

from bot.models import ConversationRef


def fingerprint(ref: ConversationRef) -> str:
    reference = {key: value for key, value in ref.reference.items() if key != "user"}
    kept = {"channel": ref.channel.value, "kind": ref.kind, "reference": reference}
    return json.dumps(kept, sort_keys=True, default=str)


class KnownConversations:
    def __init__(
        self,
        *,
        ttl: float = 300,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._capacity = capacity
        self._clock = clock
        self._known: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def holds(self, ref: ConversationRef) -> bool:
        """Whether `ref` is known to be stored as it is (and the knowledge is recent)."""
        known = self._known.get(ref.conversation_id)
        if known is None or known[1] < self._clock():
            return False
        return known[0] == fingerprint(ref)

    def remember(self, ref: ConversationRef) -> None:
        self._known[ref.conversation_id] = (fingerprint(ref), self._clock() + self._ttl)
        self._known.move_to_end(ref.conversation_id)
        while len(self._known) > self._capacity:
            self._known.popitem(last=False)

    def forget(self, conversation_id: str) -> None:
        self._known.pop(conversation_id, None)
