"""What the bot shows in the Playground: its WebSocket event stream, and reading cards.

The Playground broadcasts every message the bot posts or edits on
`/_ws_conversation/v1/conversations/stream` as `{"action": "createMessage" |
"updateMessage" | "typing", "actionConversationId", "message"}`. While no client is
connected it buffers them and hands them all to the next client, so a client connects
first, lets the stale ones pass (`settle`), and only then acts. There is no history route.

`EventStream` keeps every event it received; `wait_for` finds the first one after a mark
that matches a predicate, so an event that arrives before the wait starts is not missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import aiohttp

ADAPTIVE_CARD: Final = "application/vnd.microsoft.card.adaptive"
STREAM_PATH: Final = "/_ws_conversation/v1/conversations/stream"


@dataclass(frozen=True, slots=True)
class Event:
    """One message the bot posted (`createMessage`) or edited (`updateMessage`)."""

    action: str
    conversation_id: str
    message: Mapping[str, Any]

    @property
    def message_id(self) -> str:
        return str(self.message.get("messageId", ""))

    @property
    def channel_id(self) -> str:
        """The conversation without a thread suffix (`<channel>;messageid=<root>`)."""
        return self.conversation_id.split(";", 1)[0]

    @property
    def is_thread_reply(self) -> bool:
        return ";messageid=" in self.conversation_id

    @property
    def new_post_conversation_id(self) -> str | None:
        """For a new channel post (a thread of its own): the thread's conversation id."""
        value = self.message.get("postConversationId")
        return str(value) if value else None

    @property
    def text(self) -> str:
        return str(self.message.get("text") or "")

    @property
    def cards(self) -> list[Mapping[str, Any]]:
        attachments = self.message.get("attachments") or []
        return [a["content"] for a in attachments if a.get("contentType") == ADAPTIVE_CARD]

    @property
    def card(self) -> Mapping[str, Any] | None:
        cards = self.cards
        return cards[0] if cards else None

    def shows(self, words: str) -> bool:
        """The message's text or its card's text contains `words` (case-insensitive)."""
        shown = " ".join([self.text, *(card_text(card) for card in self.cards)])
        return " ".join(words.split()).lower() in " ".join(shown.split()).lower()

    def describe(self) -> str:
        card = self.card
        shown = f"card {card_summary(card)!r}" if card else f"text {self.text[:100]!r}"
        return f"{self.action} in {self.conversation_id}: {shown}"


def card_text(card: Mapping[str, Any]) -> str:
    """Every text a card shows (text blocks, text runs, facts, action titles), one line."""
    return " ".join(_texts(card))


def card_summary(card: Mapping[str, Any]) -> str:
    """One line for a card: its fallback text (ours say severity, title, id and state)."""
    return str(card.get("fallbackText") or card_text(card)[:100])


def _texts(node: object) -> Iterator[str]:
    if isinstance(node, Mapping) and node.get("type") == "RichTextBlock":
        # Its runs read as one text: "Acknowledged by " + "Alex" + " at 10:42".
        yield "".join(str(run.get("text", "")) for run in node.get("inlines", []))
    elif isinstance(node, Mapping):
        for key in ("text", "title", "value"):
            if isinstance(node.get(key), str) and node.get("type") != "Input.ChoiceSet":
                yield node[key]
        for value in node.values():
            if isinstance(value, Mapping | list):
                yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


Predicate = Callable[[Event], bool]


class EventStream:
    """A connected client of the Playground's event stream."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self.events: list[Event] = []
        self._mark = 0
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            await self._receive()
        finally:
            self._arrived.set()

    async def _receive(self) -> None:
        async for frame in self._ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(frame.data)
            if data.get("action") in ("createMessage", "updateMessage"):
                self.events.append(
                    Event(data["action"], str(data.get("actionConversationId")), data["message"])
                )
                self._arrived.set()

    async def follow(self) -> AsyncIterator[Event]:
        """Every event after the mark, in order, as it arrives, until the stream closes."""
        index = self._mark
        while True:
            while index < len(self.events):
                index += 1
                yield self.events[index - 1]
            if self._reader.done():
                return
            self._arrived.clear()
            if index == len(self.events):
                await self._arrived.wait()

    def mark(self) -> None:
        """From now on, `wait_for` and `since_mark` look only at newer events."""
        self._mark = len(self.events)

    def since_mark(self) -> list[Event]:
        return self.events[self._mark :]

    async def settle(self, quiet: float = 0.5, limit: float = 10.0) -> list[Event]:
        """Wait until no event arrived for `quiet` seconds, then mark; the events let pass."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), quiet)
            except TimeoutError:
                break
        passed = self.since_mark()
        self.mark()
        return passed

    async def wait_for(self, predicate: Predicate, *, within: float, what: str) -> Event:
        """The first event after the mark that matches; TimeoutError naming what came."""
        deadline = time.monotonic() + within
        seen = self._mark
        while True:
            for event in self.events[seen:]:
                if predicate(event):
                    return event
            seen = len(self.events)
            left = deadline - time.monotonic()
            if left <= 0 or self._reader.done():
                came = "\n".join(f"  {e.describe()}" for e in self.events[self._mark :])
                raise TimeoutError(f"no {what} within {within:g} s; events:\n{came or '  none'}")
            self._arrived.clear()
            if len(self.events) == seen:
                try:
                    await asyncio.wait_for(self._arrived.wait(), left)
                except TimeoutError:
                    continue

    async def close(self) -> None:
        await self._ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
