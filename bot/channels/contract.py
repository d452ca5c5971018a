"""What a chat channel supplies to the delivery policy (bot.channels.delivery): a renderer,
a connector whose failures are `DeliveryError`s with a verdict, and a pacer; and what the
policy reads and writes in the store."""

from __future__ import annotations

from typing import Literal, Protocol, TypeVar

from bot.channels.maybe_sent import PostFinder, PostMark
from bot.channels.pacing_state import SharedWindow
from bot.models import ConversationRef
from bot.store.base import (
    AlertOperations,
    ConversationOperations,
    DeliveryStateOperations,
    OutboxOperations,
)
from bot.views.model import CardView

Payload = TypeVar("Payload")
Verdict = Literal["retry", "prune", "give_up"]


class DeliveryError(Exception):
    """A connector call failed; `verdict` says what that means for the delivery."""

    def __init__(
        self,
        operation: str,
        *,
        verdict: Verdict,
        retry_after: float | None = None,
        detail: str = "",
        serious: bool = False,
        maybe_posted: bool = False,
    ) -> None:
        self.operation = operation
        self.verdict: Verdict = verdict
        self.retry_after = retry_after
        self.detail = detail
        #: Logged as an error, not a warning (e.g. a message too large: our bug).
        self.serious = serious
        #: No answer (or a 5xx): a post may have been accepted all the same.
        self.maybe_posted = maybe_posted
        super().__init__(self.describe())

    def describe(self) -> str:
        return f"{self.operation}: {self.detail}" if self.detail else self.operation


class Renderer(Protocol[Payload]):  # type: ignore[misc]
    """A channel's rendering of the neutral views, within the channel's size limits."""

    def render(self, view: CardView) -> Payload: ...


class MessageConnector(PostFinder, Protocol[Payload]):  # type: ignore[misc]
    """Post, reply and edit in a stored conversation; failures raise DeliveryError.
    `limit` is the request's time limit in seconds; `mark` what a post carries about its
    delivery; `find_post` looks an earlier post up by it (bot.channels.maybe_sent)."""

    async def post(
        self, ref: ConversationRef, payload: Payload, *, limit: float, mark: PostMark
    ) -> str | None:
        """A new message (in a channel: a new thread); its id."""
        ...

    async def reply(
        self,
        ref: ConversationRef,
        parent_id: str,
        payload: Payload,
        *,
        limit: float,
        mark: PostMark,
    ) -> str | None:
        """A reply in the thread of message `parent_id`; its id."""
        ...

    async def update(
        self, ref: ConversationRef, message_id: str, payload: Payload, *, limit: float
    ) -> None:
        """Message `message_id` now shows `payload`."""
        ...


class Pacer(SharedWindow, Protocol):
    max_wait: float

    async def acquire(self, conversation_id: str, *, max_wait: float | None = None) -> float:
        """0.0 once an operation may go (after a short wait), else the seconds to wait."""
        ...


class NotifierStore(
    AlertOperations, ConversationOperations, OutboxOperations, DeliveryStateOperations, Protocol
):
    """What the delivery policy reads and prunes."""
