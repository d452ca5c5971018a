"""What each conversation asked last, so a follow-up ("and for Salesforce?") can reuse it.

In memory, per process: at most `size` conversations (the least recently used is
forgotten first), each for `expiry` after its last question. A restart forgets them all,
and with several bot processes a follow-up reaches only the one that answered: then it
is read as a question of its own, which is what it would be without the memory.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

from bot.ask.understand import Resolved
from bot.models import Clock

SIZE: Final = 10_000
EXPIRY: Final = timedelta(minutes=30)


class ConversationMemory(Protocol):
    """The last question answered in a conversation (per person in it)."""

    def last(self, key: str) -> Resolved | None: ...

    def remember(self, key: str, resolved: Resolved) -> None: ...


@dataclass(slots=True)
class _Entry:
    resolved: Resolved
    at: datetime


class RecentQuestions:
    """ConversationMemory in a bounded, expiring dictionary."""

    def __init__(self, *, clock: Clock, size: int = SIZE, expiry: timedelta = EXPIRY) -> None:
        self._clock = clock
        self._size = size
        self._expiry = expiry
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def last(self, key: str) -> Resolved | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock() - entry.at > self._expiry:
            del self._entries[key]
            return None
        return entry.resolved

    def remember(self, key: str, resolved: Resolved) -> None:
        self._entries[key] = _Entry(resolved, self._clock())
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
