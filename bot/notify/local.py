"""Notifiers that need no chat platform: to the log, to a file, and recorded for tests."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from bot.models import OutboxItem
from bot.notify.base import DeliveryResult, describe_event

log = logging.getLogger(__name__)


class LogNotifier:
    """The default until a chat channel exists: each delivery is one INFO line in the log."""

    def __init__(self, logger: logging.Logger = log) -> None:
        self._log = logger

    async def deliver(self, item: OutboxItem) -> DeliveryResult:
        self._log.info(
            "deliver to %s (%s): %s",
            item.conversation_id,
            item.channel.value,
            describe_event(item.event),
        )
        return DeliveryResult.sent()


class FileNotifier:
    """A local/debug notifier: appends each delivery to a file as one JSON line.

    Lets a person (`tail -f`) or a test outside the process see exactly what would have
    been posted, and where. A redelivery after a crash appears again: delivery is at least
    once, and the line's `key` says which event it was.
    """

    def __init__(self, path: Path) -> None:
        self._path = path

    async def deliver(self, item: OutboxItem) -> DeliveryResult:
        await asyncio.to_thread(self._append, _line(item))
        return DeliveryResult.sent(f"file:{item.id}")

    def _append(self, line: str) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        # One write() with O_APPEND: a line is never interleaved with, or cut by, another.
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)


def _line(item: OutboxItem) -> str:
    event = item.event
    return json.dumps(
        {
            "outbox_id": item.id,
            "key": item.idempotency_key,
            "conversation_id": item.conversation_id,
            "channel": item.channel.value,
            "kind": event.kind.value,
            "rule_id": event.rule_id,
            "alert_id": event.alert.id if event.alert else None,
            "at": event.at.isoformat(),
            "attempt": item.attempts,
            "text": describe_event(event),
        },
        sort_keys=True,
    )


class RecordingNotifier:
    """For tests: remembers every attempt; answers from `script` (then "sent") in order.

    A scripted exception is raised, as a broken channel would.
    """

    def __init__(self, script: Iterable[DeliveryResult | Exception] = ()) -> None:
        self._script: deque[DeliveryResult | Exception] = deque(script)
        self.attempts: list[OutboxItem] = []
        self.delivered: list[OutboxItem] = []

    async def deliver(self, item: OutboxItem) -> DeliveryResult:
        self.attempts.append(item)
        answer = self._script.popleft() if self._script else DeliveryResult.sent(f"msg-{item.id}")
        if isinstance(answer, Exception):
            raise answer
        if answer.outcome == "sent":
            self.delivered.append(item)
        return answer
