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
