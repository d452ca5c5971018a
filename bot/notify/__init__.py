"""Notifications out: deliver outbox items to conversations, knowing nothing of Teams or Slack.

`Notifier` (base.py) is what a chat channel implements, and `RoutingNotifier` hands each
item to its channel's notifier; `OutboxDispatcher` (dispatcher.py)
takes due items from the store's outbox under a lease, hands each to the notifier, and
records the outcome with backoff. LogNotifier (the default until a chat channel exists),
FileNotifier (local/debug: one JSON line per delivery) and RecordingNotifier (tests) are
the notifiers that need no chat platform.
"""

from bot.notify.base import DeliveryResult, Notifier, describe_event
from bot.notify.dispatcher import OutboxDispatcher, RetryPolicy
from bot.notify.local import FileNotifier, LogNotifier, RecordingNotifier
from bot.notify.routing import RoutingNotifier

__all__ = [
    "DeliveryResult",
    "FileNotifier",
    "LogNotifier",
    "Notifier",
    "OutboxDispatcher",
    "RecordingNotifier",
    "RetryPolicy",
    "RoutingNotifier",
    "describe_event",
]
