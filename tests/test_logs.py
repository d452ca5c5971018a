"""JSON log lines: one object a line, with the replica and the fields passed in `extra`."""

from __future__ import annotations

import json
import logging

from bot.logs import JsonFormatter, formatter


def record(**extra: object) -> logging.LogRecord:
    made = logging.LogRecord(
        "bot.alerts", logging.WARNING, __file__, 1, "rule %s: %s", ("r", "x"), None
    )
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_a_json_line_has_the_message_the_replica_and_the_extra_fields() -> None:
    line = json.loads(JsonFormatter("host:42").format(record(rule_id="r", alert_id=7)))
    assert line["message"] == "rule r: x"
    assert (line["level"], line["logger"], line["replica"]) == ("WARNING", "bot.alerts", "host:42")
    assert (line["rule_id"], line["alert_id"]) == ("r", 7)
    assert "args" not in line


def test_an_exception_is_one_field_of_one_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        made = record()
        made.exc_info = sys.exc_info()
    text = JsonFormatter().format(made)
    assert "\n" not in text
    assert "RuntimeError: boom" in json.loads(text)["exception"]


def test_text_stays_the_default_format() -> None:
    assert formatter("text").format(record()).endswith("WARNING bot.alerts: rule r: x")


def test_a_line_carries_the_fields_of_the_log_context_it_was_logged_in() -> None:
    from bot.logs import log_context

    with log_context(rule_id="r", slot="2026-01-01T00:00:00+00:00"):
        with log_context(alert_id=7, conversation_id=None):
            inner = json.loads(JsonFormatter("host:42").format(record()))
        outer = json.loads(JsonFormatter("host:42").format(record()))
    after = json.loads(JsonFormatter("host:42").format(record()))
    assert (inner["rule_id"], inner["alert_id"], inner["replica"]) == ("r", 7, "host:42")
    assert "conversation_id" not in inner  # None is left out
    assert "alert_id" not in outer
    assert outer["rule_id"] == "r"
    assert "rule_id" not in after


async def test_each_task_logs_with_its_own_context() -> None:
    import asyncio

    from bot.logs import context_fields, log_context

    async def deliver(conversation_id: str) -> object:
        with log_context(conversation_id=conversation_id):
            await asyncio.sleep(0.01)
            return context_fields()["conversation_id"]

    assert await asyncio.gather(deliver("a"), deliver("b")) == ["a", "b"]
