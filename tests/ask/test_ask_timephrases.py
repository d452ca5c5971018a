"""The time grammar: every way admins say a range, as rolling durations or UTC calendar days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.ask.timephrases import WindowError, find_window, parse_window

NOW = datetime(2026, 11, 18, 12, 30, tzinfo=UTC)  # a Wednesday
LIMIT = timedelta(days=90)
H, D = timedelta(hours=1), timedelta(days=1)
MIDNIGHT = datetime(2026, 11, 18, tzinfo=UTC)


def DATE(day: int, month: int = 11, year: int = 2026) -> datetime:  # noqa: N802 - reads as a date
    return datetime(year, month, day, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "spec", "timespan", "label"),
    [
        ("failures last 24h", "24h", 24 * H, "in the last 24 hours"),
        ("past 2 days", "2d", 2 * D, "in the last 2 days"),
        ("in the last hour", "1h", H, "in the last hour"),
        ("over the last two days", "2d", 2 * D, "in the last 2 days"),
        ("last 30 min", "30m", timedelta(minutes=30), "in the last 30 minutes"),
        ("previous 48 hours", "2d", 2 * D, "in the last 48 hours"),
        ("past week", "7d", 7 * D, "in the last week"),
        ("last month", "30d", 30 * D, "in the last month"),
        ("past fortnight", "14d", 14 * D, "in the last 2 weeks"),
        ("errors 7d", "7d", 7 * D, "in the last 7 days"),
        ("3 hours ago", "3h", 3 * H, "in the last 3 hours"),
        ("this week", "this week", (MIDNIGHT - 2 * D, NOW), "this week"),
        ("since Monday", "since monday", (MIDNIGHT - 2 * D, NOW), "since Monday"),
        ("since mon", "since monday", (MIDNIGHT - 2 * D, NOW), "since Monday"),
        ("since wednesday", "since wednesday", (MIDNIGHT, NOW), "since Wednesday"),
        ("since thursday", "since thursday", (MIDNIGHT - 6 * D, NOW), "since Thursday"),
        ("yesterday", "yesterday", (MIDNIGHT - D, MIDNIGHT), "yesterday"),
        ("today", "today", (MIDNIGHT, NOW), "today"),
        ("since yesterday", "since yesterday", (MIDNIGHT - D, NOW), "since yesterday"),
        ("on monday", "on monday", (MIDNIGHT - 2 * D, MIDNIGHT - D), "on Monday"),
        ("this month", "this month", (MIDNIGHT - 17 * D, NOW), "this month"),
        ("over the weekend", "weekend", (MIDNIGHT - 4 * D, MIDNIGHT - 2 * D), "over the weekend"),
        ("on Nov 3", "2026-11-03", (DATE(3), DATE(4)), "on 2026-11-03"),
        ("3rd november", "2026-11-03", (DATE(3), DATE(4)), "on 2026-11-03"),
        ("dec 24", "2025-12-24", (DATE(24, 12, 2025), DATE(25, 12, 2025)), "on 2025-12-24"),
        (
            "2026-11-01 to 2026-11-03",
            "2026-11-01 to 2026-11-03",
            (DATE(1), DATE(4)),
            "from 2026-11-01 to 2026-11-03",
        ),
        (
            "between Nov 1 and Nov 3",
            "2026-11-01 to 2026-11-03",
            (DATE(1), DATE(4)),
            "from 2026-11-01 to 2026-11-03",
        ),
        (
            "nov 10-12",
            "2026-11-10 to 2026-11-12",
            (DATE(10), DATE(13)),
            "from 2026-11-10 to 2026-11-12",
        ),
        (
            "between Monday 9am and noon",
            "2026-11-16t09:00 to 2026-11-16t12:00",
            (MIDNIGHT - 2 * D + 9 * H, MIDNIGHT - 2 * D + 12 * H),
            "from 2026-11-16t09:00 to 2026-11-16t12:00",
        ),
        (
            "yesterday after 6pm",
            "2026-11-17t18:00 to 2026-11-18t00:00",
            (MIDNIGHT - 6 * H, MIDNIGHT),
            "from 2026-11-17t18:00 to 2026-11-18t00:00",
        ),
        (
            "in november",
            "2026-11-01 to 2026-11-30",
            (DATE(1), DATE(1, 12)),
            "from 2026-11-01 to 2026-11-30",
        ),
        ("last quarter", "last quarter", (DATE(1, 10) - LIMIT, DATE(1, 10)), "last quarter"),
        ("this quarter", "this quarter", (DATE(1, 10), NOW), "this quarter"),
        (
            "since 2026-11-10",
            "since 2026-11-10",
            (datetime(2026, 11, 10, tzinfo=UTC), NOW),
            "since 2026-11-10",
        ),
    ],
)
def test_phrases_become_windows_and_read_back(
    text: str, spec: str, timespan: object, label: str
) -> None:
    found = find_window(text, now=NOW, limit=LIMIT)
    assert found is not None
    assert (found.window.spec, found.window.timespan, found.window.label) == (spec, timespan, label)
    again = parse_window(found.window.spec, now=NOW, limit=LIMIT)
    assert again.timespan == found.window.timespan


@pytest.mark.parametrize(
    "text",
    [
        "top 10 error codes",
        "who deleted an access review",
        "a member of the group",
        "0W",
        "0 weeks",
    ],
)
def test_text_without_a_time_is_left_alone(text: str) -> None:
    assert find_window(text, now=NOW, limit=LIMIT) is None


@pytest.mark.parametrize("spec", ["forever", "0h", "last 24h please", "since 2027-01-01"])
def test_a_spec_that_is_not_exactly_a_window_is_refused(spec: str) -> None:
    with pytest.raises(WindowError):
        parse_window(spec, now=NOW, limit=LIMIT)
