"""`python -m tests.support.faulty_serve`: `alertbot serve` with one deliberate bug, for
tests/test_restart.py to prove that it catches it. Nothing else uses this module.

RESTART_TEST_FAULT chooses the bug:

- `deliver-twice`: every delivery is made twice (a notifier that repeats a post which
  had succeeded);
- `sent-before-delivery`: the outbox marks an item sent before the notifier delivers it
  (a crash in between loses the item).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from bot.channels.teams.notifier import TeamsNotifier
from bot.cli import main
from bot.models import OutboxItem
from bot.notify.base import DeliveryResult
from bot.notify.dispatcher import OutboxDispatcher


def deliver_twice() -> None:
    original = TeamsNotifier.deliver

    async def twice(self: TeamsNotifier, item: OutboxItem) -> DeliveryResult:
        await original(self, item)
        return await original(self, item)

    setattr(TeamsNotifier, "deliver", twice)  # noqa: B010 - the deliberate bug


def sent_before_delivery() -> None:
    original = OutboxDispatcher._deliver

    async def early(self: OutboxDispatcher, item: OutboxItem) -> DeliveryResult:
        store: Any = self._store
        await store.mark_sent(item.id, message_id=None)
        return await original(self, item)

    setattr(OutboxDispatcher, "_deliver", early)  # noqa: B010 - the deliberate bug


FAULTS = {"deliver-twice": deliver_twice, "sent-before-delivery": sent_before_delivery}

if __name__ == "__main__":
    FAULTS[os.environ["RESTART_TEST_FAULT"]]()
    sys.exit(main(["serve"]))
