"""The delivery policy, written once for every chat channel, over a small connector.

- FIRED posts the alert's message (in a channel: a new thread) and returns its id, which
  the outbox keeps.
- UPDATED edits that message (found through the outbox: the conversation's sent FIRED
  item of the alert) to show the alert as it is now; skipped when it already does.
- RENOTIFY, RESOLVED, SNOOZE_EXPIRED: the message is brought up to date first, then the
  follow-up is posted in its thread. EVALUATION_ERROR (about a rule) goes to the thread
  of the newest message of an open alert of that rule here, else as a new post. Without
  a message to follow up, the follow-up is posted on its own.

Shown once: editing is idempotent, so the only step that must not be repeated is a post,
and every delivery makes at most one, as its last step. Before it goes, the outbox item
records the post as in flight; if its answer is lost (a timeout, a reset after the
platform accepted it) the item stays "maybe sent" and the redelivery reconciles it
(bot.channels.maybe_sent): on Slack the post is found again and adopted, on Teams, which
cannot list messages, it is posted again saying it may repeat an earlier card.

Time limits: each request ends within `REQUEST_LIMIT` (6 s), under the ~9 s after which
a client or proxy gives up on a request, so the bot gives up first and knows it; a whole
delivery within its `time_budget`. Conversations are delivered concurrently
(bot.notify.dispatcher), so a slow answer holds up only its own conversation.

A channel supplies (bot.channels.contract) a `Renderer` (view -> its payload), a
`MessageConnector` (post, reply, update on a stored conversation reference, each failure
a `DeliveryError` with a verdict: retry after N s, prune the conversation, or give up)
and a `Pacer`. Every
operation is paced; a long wait defers the delivery rather than holding up other
conversations; the pacing windows and what each message shows are shared by the
replicas through the database (bot.channels.pacing_state, bot.channels.shown). The card
always shows the alert as the store holds it now (presenter), so a late or repeated
delivery never puts an older state back.

A fan-out (one event, many conversations) costs little per conversation: the card is
rendered once per alert version; the deliveries the outbox starts together read their
conversations, alerts and rate windows together (bot.channels.coalesced); and each
delivery writes what its messages show and its conversation's window in one write, at
its end.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from time import monotonic
from typing import Final, Generic

from bot.channels.coalesced import Coalesced
from bot.channels.contract import (
    DeliveryError,
    MessageConnector,
    NotifierStore,
    Pacer,
    Payload,
    Renderer,
    Verdict,
)
from bot.channels.maybe_sent import InFlightPosts, Outcome, PostMark, Reconciled
from bot.channels.pacing_state import SharedPacing
from bot.channels.presenter import AlertPresenter
from bot.channels.shown import ShownMessages
from bot.models import (
    AlertEvent,
    AlertEventKind,
    ChannelKind,
    ConversationRef,
    OutboxItem,
    OutboxStatus,
)
from bot.notify import DeliveryResult, describe_event
from bot.views.digest import digest_of

__all__ = [
    "MIN_REQUEST_TIME",
    "REQUEST_LIMIT",
    "TIME_BUDGET",
    "ChannelNotifier",
    "DeliveryError",
    "MessageConnector",
    "NotifierStore",
    "Pacer",
    "Renderer",
    "Verdict",
]

log = logging.getLogger(__name__)

#: Seconds a delivery may take in all; under the dispatcher's limit per delivery, so a
#: request is never abandoned while it may still succeed.
TIME_BUDGET: Final = 10.0
#: A rendered card is reused for this many seconds (its times read "now" when rendered)
#: and for at most this many alert versions.
RENDERED_FOR: Final = 30.0
RENDERED_KEPT: Final = 256
#: No request is started with less time than this left.
MIN_REQUEST_TIME: Final = 2.0
#: Seconds one request may take: under the ~9 s after which clients and proxies give up,
#: so the bot stops waiting first (and records the post as maybe sent).
REQUEST_LIMIT: Final = 6.0

_FOLLOW_UPS: Final = frozenset(
    {AlertEventKind.RENOTIFY, AlertEventKind.RESOLVED, AlertEventKind.SNOOZE_EXPIRED}
)


class _NotNowError(Exception):
    """Not now: pacing or the time budget asks for `seconds` more."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds
        self.reason = reason


class _Delivery:
    """One item's delivery: the conversation, and the time left for it."""

    def __init__(self, item: OutboxItem, ref: ConversationRef, deadline: float) -> None:
        self.item = item
        self.ref = ref
        self.deadline = deadline
        #: Whether a request was paced (the conversation's window then changed).
        self.paced = False
        #: How a maybe-sent post was reconciled, if one was.
        self.reconciled: Outcome | None = None
        #: (message id, payload) of each message posted or edited: what it shows now.
        self.shown: list[tuple[str, object]] = []


class ChannelNotifier(Generic[Payload]):
    """bot.notify.Notifier for one channel kind; see the module docstring."""

    def __init__(
        self,
        *,
        channel: ChannelKind,
        connector: MessageConnector[Payload],
        renderer: Renderer[Payload],
        store: NotifierStore,
        presenter: AlertPresenter,
        pacer: Pacer,
        shown: ShownMessages,
        time_budget: float = TIME_BUDGET,
        request_limit: float = REQUEST_LIMIT,
        clock: Callable[[], float] = monotonic,
        wall: Callable[[], datetime] | None = None,
    ) -> None:
        self.channel = channel
        self._connector = connector
        self._renderer = renderer
        self._store = store
        self._presenter = presenter
        self._pacer = pacer
        self._shown = shown
        self._budget = time_budget
        self._request_cap = request_limit
        self._clock = clock
        wall = wall or _utc_now
        self._wall = wall
        self._posts = InFlightPosts(channel=channel.value, finder=connector, store=store, wall=wall)
        self._pacing = SharedPacing(pacer, store, clock=clock, wall=wall)
        self._conversations = Coalesced(store.get_conversations)
        self._rendered: dict[tuple[int, int, int], tuple[float, Payload]] = {}

    async def deliver(self, item: OutboxItem) -> DeliveryResult:
        if item.channel is not self.channel:
            return DeliveryResult.permanent_failure(
                f"not a {self.channel.value} conversation: {item.channel}"
            )
        ref = await self._conversations.get(item.conversation_id)
        if ref is None:
            return DeliveryResult.permanent_failure("the bot is no longer in this conversation")
        delivery = _Delivery(item, ref, self._clock() + self._budget)
        await self._pacing.before(ref.conversation_id)
        try:
            result = await self._deliver(delivery)
        except _NotNowError as deferred:
            return DeliveryResult.retry_after(deferred.seconds, reason=deferred.reason)
        except DeliveryError as error:
            return await self._failed(delivery, error)
        finally:
            await self._save_state(delivery)
        return dataclasses.replace(result, reconciled=delivery.reconciled)

    async def _save_state(self, delivery: _Delivery) -> None:
        """What the delivery's messages show now and the conversation's rate window, for
        the replica delivering next, in one write (not one per message and one more)."""
        conversation_id = delivery.ref.conversation_id
        shown = self._shown.record(conversation_id, delivery.shown)
        sends = self._pacing.window(conversation_id) if delivery.paced else None
        if shown or sends is not None:
            await self._store.save_delivery_state(
                conversation_id, shown=shown, at=self._wall(), sends=sends
            )

    async def _deliver(self, delivery: _Delivery) -> DeliveryResult:
        event = delivery.item.event
        if event.kind is AlertEventKind.DIGEST:
            return await self._post_digest(delivery)
        if event.kind is AlertEventKind.FIRED:
            return await self._post_card(delivery)
        if event.kind is AlertEventKind.UPDATED:
            return await self._update_card(delivery)
        return await self._follow_up(delivery)

    # --- the three kinds of delivery ---------------------------------------------------

    async def _post_card(self, delivery: _Delivery) -> DeliveryResult:
        card = await self._alert_card(delivery.item.event)
        if card is None:
            return self._unshowable(delivery.item)
        message_id = await self._post(delivery, card)
        return DeliveryResult.sent(message_id)

    async def _post_digest(self, delivery: _Delivery) -> DeliveryResult:
        """A provisioning digest: its view travels in the event (bot.health.delivery)."""
        view = digest_of(delivery.item.event)
        if view is None:
            return DeliveryResult.permanent_failure("a digest without its view")
        return DeliveryResult.sent(
            await self._post(delivery, self._renderer.render(view), remember=False)
        )

    async def _update_card(self, delivery: _Delivery) -> DeliveryResult:
        event = delivery.item.event
        message_id = await self._card_message(delivery.item, event)
        if message_id is None:
            # Not posted here (yet): when the FIRED card goes, it shows the alert as it is then.
            log.info("%s: no message to update for %s", self.channel.value, _what(delivery.item))
            return DeliveryResult.sent(None)
        card = await self._alert_card(event)
        if card is None:
            return self._unshowable(delivery.item)
        await self._update(delivery, message_id, card)
        return DeliveryResult.sent(message_id)

    async def _follow_up(self, delivery: _Delivery) -> DeliveryResult:
        item = delivery.item
        view = await self._presenter.reply(item.event)
        if view is None:
            return self._unshowable(item)
        message_id = await self._thread_of(item)
        if message_id is not None and item.event.kind in _FOLLOW_UPS:
            card = await self._alert_card(item.event)
            if card is not None:
                await self._update(delivery, message_id, card)
        reply = self._renderer.render(view)
        return DeliveryResult.sent(
            await self._post(delivery, reply, remember=False, parent_id=message_id)
        )

    # --- steps ------------------------------------------------------------------------

    async def _post(
        self,
        delivery: _Delivery,
        card: Payload,
        *,
        remember: bool = True,
        parent_id: str | None = None,
    ) -> str | None:
        """The delivery's one post (a reply under `parent_id`), or the maybe-sent one
        adopted and brought up to date."""
        item, ref = delivery.item, delivery.ref
        earlier = await self._reconcile(delivery, parent_id)
        delivery.reconciled = earlier.outcome
        if earlier.message_id is not None:
            await self._update(delivery, earlier.message_id, card)
            return earlier.message_id
        await self._pace(delivery)
        limit = self._request_limit(delivery)
        mark = PostMark(item.idempotency_key, maybe_repeat=earlier.mark_repeat)
        attempt = await self._posts.begin(item)
        try:
            if parent_id is None:
                message_id = await self._connector.post(ref, card, limit=limit, mark=mark)
            else:
                message_id = await self._connector.reply(
                    ref, parent_id, card, limit=limit, mark=mark
                )
        except DeliveryError as error:
            if not error.maybe_posted:
                await self._posts.refused(item, attempt)
            raise
        if message_id is not None and remember:
            delivery.shown.append((message_id, card))
        return message_id

    async def _reconcile(self, delivery: _Delivery, parent_id: str | None) -> Reconciled:
        if delivery.item.post_attempt is None:
            return Reconciled()
        await self._pace(delivery)  # a look-up is a request too
        return await self._posts.reconcile(
            delivery.item,
            delivery.ref,
            parent_id=parent_id,
            limit=self._request_limit(delivery),
        )

    async def _update(self, delivery: _Delivery, message_id: str, card: Payload) -> None:
        conversation_id = delivery.ref.conversation_id
        if await self._shown.shows(conversation_id, message_id, card):
            log.debug(
                "%s: %s in %s is already current", self.channel.value, message_id, conversation_id
            )
            return
        await self._pace(delivery)
        await self._connector.update(
            delivery.ref, message_id, card, limit=self._request_limit(delivery)
        )
        delivery.shown.append((message_id, card))

    async def _pace(self, delivery: _Delivery) -> None:
        left = delivery.deadline - self._clock() - MIN_REQUEST_TIME
        wait = await self._pacer.acquire(
            delivery.ref.conversation_id, max_wait=min(self._pacer.max_wait, max(left, 0.0))
        )
        if wait > 0:
            raise _NotNowError(
                wait, f"paced under {self.channel.value}'s rate limits ({wait:.1f} s)"
            )
        delivery.paced = True

    def _request_limit(self, delivery: _Delivery) -> float:
        left = delivery.deadline - self._clock()
        if left < MIN_REQUEST_TIME:
            raise _NotNowError(0.0, "out of time for this delivery")
        return min(left, self._request_cap)

    async def _alert_card(self, event: AlertEvent) -> Payload | None:
        """The alert's card as it stands now, rendered once per alert version (a fan-out
        to many conversations renders it once), reused for `RENDERED_FOR` seconds."""
        alert = await self._presenter.current_alert(event)
        rule = self._presenter.rule(event.rule_id)
        if alert is None or rule is None:
            return None
        key = (alert.id, alert.version, id(rule))
        cached = self._rendered.get(key)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        card = self._renderer.render(self._presenter.alert_view(alert, rule))
        self._rendered[key] = (self._clock() + RENDERED_FOR, card)
        while len(self._rendered) > RENDERED_KEPT:
            del self._rendered[next(iter(self._rendered))]
        return card

    async def _card_message(self, item: OutboxItem, event: AlertEvent) -> str | None:
        """The id of the alert's message in this conversation, if it was posted."""
        if event.alert is None:
            return None
        earlier = await self._store.list_outbox(
            alert_id=event.alert.id, conversation_id=item.conversation_id
        )
        return next(
            (
                sent.message_id
                for sent in earlier
                if sent.event.kind is AlertEventKind.FIRED
                and sent.status is OutboxStatus.SENT
                and sent.message_id
            ),
            None,
        )

    async def _thread_of(self, item: OutboxItem) -> str | None:
        """The message a follow-up belongs under: its alert's, or for a rule-level event
        the newest message of an open alert of the rule in this conversation."""
        event = item.event
        if event.alert is not None:
            return await self._card_message(item, event)
        open_alerts = await self._store.list_alerts(open_only=True, rule_id=event.rule_id)
        for alert in open_alerts:  # newest first
            found = await self._card_message(item, event.model_copy(update={"alert": alert}))
            if found is not None:
                return found
        return None

    async def _failed(self, delivery: _Delivery, error: DeliveryError) -> DeliveryResult:
        item, reason = delivery.item, error.describe()
        if error.verdict == "retry":
            return DeliveryResult.retry_after(error.retry_after, reason=reason)
        if error.verdict == "prune":
            pruned = await self._store.delete_conversation(item.conversation_id)
            log.warning(
                "%s: %s: the bot is no longer in %s (%s); %s",
                self.channel.value,
                _what(item),
                item.conversation_id,
                reason,
                "conversation pruned" if pruned else "already pruned",
            )
            return DeliveryResult.permanent_failure(reason)
        level = logging.ERROR if error.serious else logging.WARNING
        log.log(level, "%s: %s refused: %s", self.channel.value, _what(item), reason)
        return DeliveryResult.permanent_failure(reason)

    def _unshowable(self, item: OutboxItem) -> DeliveryResult:
        reason = f"rule {item.event.rule_id} is no longer loaded: nothing to show"
        log.warning("%s: %s: %s", self.channel.value, _what(item), reason)
        return DeliveryResult.permanent_failure(reason)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _what(item: OutboxItem) -> str:
    return f"delivery {item.id} ({describe_event(item.event)})"
