"""Time spans as admins type them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.timespans import TimeSpanError, parse_timespan, to_iso8601

JAN1 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", timedelta(hours=24)),
        ("90m", timedelta(minutes=90)),
        ("7d", timedelta(days=7)),
        ("1w", timedelta(weeks=1)),
        ("P1D", timedelta(days=1)),
        ("pt30m", timedelta(minutes=30)),
        ("2026-01-01T00:00Z/2026-01-02T00:00Z", (JAN1, JAN1 + timedelta(days=1))),
        ("2026-01-01/P1D", (JAN1, JAN1 + timedelta(days=1))),
        ("2026-01-01T01:00+01:00/24h", (JAN1, JAN1 + timedelta(days=1))),
    ],
)
def test_parses(text: str, expected: object) -> None:
    assert parse_timespan(text) == expected


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("soon", "not a time span"),
        ("P1M", "months and years are ambiguous"),
        ("0h", "must be positive"),
        ("2026-01-02/2026-01-01", "must be after its start"),
        ("yesterday/P1D", "not an ISO 8601"),
        ("99999999999d", "time span too long"),
        ("P99999999999D", "time span too long"),
        ("9999-12-31T00:00Z/P2D", "interval ends after the year 9999"),
    ],
)
def test_refuses_with_a_reason(text: str, complaint: str) -> None:
    with pytest.raises(TimeSpanError, match=complaint):
        parse_timespan(text)


def test_iso_form_for_the_api() -> None:
    assert to_iso8601(timedelta(hours=24)) == "P1D"
    assert to_iso8601((JAN1, JAN1 + timedelta(hours=1))) == (
        "2026-01-01T00:00:00Z/2026-01-01T01:00:00Z"
    )
    assert to_iso8601(None) is None
