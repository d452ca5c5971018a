"""Log line formats: text for people, or one JSON object a line for a log pipeline.

A JSON line carries the time, level, logger and message, the replica (host and process,
so lines of several replicas can be told apart), the exception if any, the fields of
the `log_context` it was logged in, and those a call passed in `extra`.

`log_context` is set at the edges where work about one thing starts: the scheduler's
evaluation of a rule (rule_id, slot), the outbox's delivery turn for a conversation
(conversation_id) and of one item (alert_id, rule_id). Everything logged inside, however
deep, carries them; it is a ContextVar, so each asyncio task sees its own.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final, Literal

TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Attributes every LogRecord has; anything else came from `extra`.
_STANDARD: Final = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}

#: The fields of the work in hand (see log_context); a task inherits its creator's.
_CONTEXT: ContextVar[Mapping[str, object]] = ContextVar(
    "alertbot_log_context",
    default=MappingProxyType({}),  # read-only: a shared default must never change
)


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Every line logged inside carries `fields` (those not None), on top of the outer ones."""
    added = {key: value for key, value in fields.items() if value is not None}
    token = _CONTEXT.set({**_CONTEXT.get(), **added})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def context_fields() -> Mapping[str, object]:
    """The fields of the log context in force here."""
    return _CONTEXT.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def __init__(self, replica: str | None = None) -> None:
        super().__init__()
        self._replica = replica or f"{socket.gethostname()}:{os.getpid()}"

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "replica": self._replica,
        }
        line.update(_CONTEXT.get())
        line.update({key: value for key, value in vars(record).items() if key not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def formatter(kind: Literal["text", "json"]) -> logging.Formatter:
    return JsonFormatter() if kind == "json" else logging.Formatter(TEXT_FORMAT)
