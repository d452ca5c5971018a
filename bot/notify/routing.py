"""Route each outbox item to the notifier of its conversation's channel (Teams, Slack, ...)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.models import ChannelKind, OutboxItem
from bot.notify.base import DeliveryResult, Notifier


class RoutingNotifier:
    """A Notifier over one notifier per channel kind; an item of a channel that is not
    wired (its settings were removed) cannot be delivered and fails for good."""

    def __init__(self, notifiers: Mapping[ChannelKind, Notifier]) -> None:
        self._notifiers = dict(notifiers)

    @property
    def channels(self) -> tuple[ChannelKind, ...]:
        return tuple(self._notifiers)

    async def deliver(self, item: OutboxItem) -> DeliveryResult:
        notifier = self._notifiers.get(item.channel)
        if notifier is None:
            return DeliveryResult.permanent_failure(f"{item.channel.value} is not configured")
        return await notifier.deliver(item)
