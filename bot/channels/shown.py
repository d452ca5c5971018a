"""The message each posted message shows now, as a digest: nothing is sent twice in a row.

A button press updates its message at once; the outbox's UPDATED event for that
conversation then finds it already current and skips the edit. In memory, the latest
`capacity` messages; a restart only costs one redundant (idempotent) edit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import OrderedDict
from typing import Any

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


class ShownMessages:
    """The digest of the payload last put on each (conversation, message)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._digests: OrderedDict[tuple[str, str], str] = OrderedDict()

    def remember(self, conversation_id: str, message_id: str, payload: Any) -> None:
        key = (conversation_id, message_id)
        self._digests[key] = digest(payload)
        self._digests.move_to_end(key)
        while len(self._digests) > self._capacity:
            self._digests.popitem(last=False)

    def shows(self, conversation_id: str, message_id: str, payload: Any) -> bool:
        """Whether `payload` is already what that message shows."""
        return self._digests.get((conversation_id, message_id)) == digest(payload)
