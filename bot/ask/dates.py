"""Absolute dates and ranges admins type: `Nov 3`, `2026-11-01 to 2026-11-03`, `in november`,
`between Monday 9am and noon`, `yesterday after 6pm`, `last quarter`. Pure, UTC.

Read by bot.ask.timephrases (these patterns join its grammar). Every window's spec reads
back to the same window: a day is `2026-11-03`; whole days `2026-11-01 to 2026-11-03`
(the end day included); times `2026-11-16t09:00 to 2026-11-16t12:00` (the end excluded).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

DAY: Final = timedelta(days=1)
# fmt: off
MONTHS: Final = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)
# fmt: on
_WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH: Final = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_WEEKDAY: Final = (
    r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|rsday|urday)?\b"
)
_ISO: Final = r"\d{4}-\d{2}-\d{2}(?:t\d{2}:\d{2})?"
#: One day, as typed: an ISO date, `nov 3`, `3 nov`, a weekday, today or yesterday.
DAY_WORDS: Final = (
    rf"(?:{_ISO}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}"
    rf"|{_WEEKDAY}|today|yesterday)"
)
#: A time of day: `9am`, `6 pm`, `18:30`, `noon`, `midnight`.
TIME_WORDS: Final = r"(?:\d{1,2}(?::\d{2})?\s*(?:am|pm)|\d{1,2}:\d{2}|noon|midday|midnight)"
_RANGE_WORD: Final = r"\s*(?:to|and|until|till|through|thru|-|–)\s*"

#: (pattern, kind): joined to the time grammar's patterns.
PATTERNS: Final = (
    (
        rf"\b(?:(?:between|from)\s+)?(?P<d1>{DAY_WORDS})(?:\s+(?:at\s+)?(?P<t1>{TIME_WORDS}))?"
        rf"{_RANGE_WORD}(?P<d2>{DAY_WORDS}|\d{{1,2}}(?:st|nd|rd|th)?(?![\d:ap]))?"
        rf"(?:\s*(?:at\s+)?(?P<t2>{TIME_WORDS}))?",
        "range",
    ),
    (
        rf"\b(?:on\s+)?(?P<d1>{DAY_WORDS})\s+(?P<side>after|before|until)\s+"
        rf"(?P<t1>{TIME_WORDS})",
        "part_of_day",
    ),
    (
        rf"\b(?:on\s+)?(?P<d1>{_ISO}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?!\d)"
        rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH})",
        "date",
    ),
    (rf"\b(?:in|during|for|over)\s+(?:the\s+month\s+of\s+)?(?P<month>{_MONTH})(?!\s*\d)", "month"),
    (r"\b(?:last|previous|past)\s+quarter\b", "last_quarter"),
    (r"\bthis\s+quarter\b", "this_quarter"),
)


class DateError(ValueError):
    """Text that looks like a date but is none (`Feb 31`)."""


def day_of(text: str, now: datetime) -> datetime:
    """Midnight UTC of a day as typed; a month and day without a year is the latest one past."""
    word = text.strip().lower()
    today = _midnight(now)
    if word in ("today", "yesterday"):
        return today - (DAY if word == "yesterday" else timedelta(0))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:t\d{2}:\d{2})?", word):
        return datetime.fromisoformat(word.upper()).replace(tzinfo=UTC)
    weekday = re.fullmatch(_WEEKDAY, word)
    if weekday is not None:
        wanted = next(i for i, name in enumerate(_WEEKDAYS) if name.startswith(word[:3]))
        return today - timedelta(days=(today.weekday() - wanted) % 7)
    parts = re.findall(r"[a-z]+|\d+", word)
    month_word = next(p for p in parts if p.isalpha() and p not in ("st", "nd", "rd", "th"))
    day = int(next(p for p in parts if p.isdigit()))
    month = month_number(month_word)
    try:
        found = datetime(now.year, month, day, tzinfo=UTC)
        return found if found <= now else found.replace(year=now.year - 1)
    except ValueError:
        raise DateError(text) from None


def month_number(word: str) -> int:
    stem = word.rstrip(".")[:3]
    return next(i for i, name in enumerate(MONTHS, start=1) if name.startswith(stem))


def time_of_day(text: str) -> timedelta:
    """`9am` -> 9h, `6 pm` -> 18h, `18:30`, `noon`, `midnight`."""
    word = text.replace(" ", "").lower()
    if word in ("noon", "midday"):
        return timedelta(hours=12)
    if word == "midnight":
        return timedelta(0)
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?(am|pm)?", word)
    if match is None:
        raise DateError(text)
    hour, minute = int(match[1]), int(match[2] or 0)
    if match[3] == "pm" and hour < 12:
        hour += 12
    if match[3] == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        raise DateError(text)
    return timedelta(hours=hour, minutes=minute)


def quarter_start(moment: datetime) -> datetime:
    return datetime(moment.year, 3 * ((moment.month - 1) // 3) + 1, 1, tzinfo=UTC)


def previous_quarter(now: datetime) -> tuple[datetime, datetime]:
    end = quarter_start(now)
    return quarter_start(end - DAY), end


def month_range(word: str, now: datetime) -> tuple[datetime, datetime]:
    """The latest such month that has begun: [its first day, the next month's)."""
    month = month_number(word)
    year = now.year if month <= now.month else now.year - 1
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def day_spec(start: datetime, end: datetime) -> str:
    """The spec of [start, end): whole days as dates (end day included), else times."""
    if start == _midnight(start) and end == _midnight(end):
        last = end - DAY
        if last == start:
            return f"{start:%Y-%m-%d}"
        return f"{start:%Y-%m-%d} to {last:%Y-%m-%d}"
    return f"{start:%Y-%m-%dt%H:%M} to {end:%Y-%m-%dt%H:%M}"


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)
