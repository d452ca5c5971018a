"""Read the time ranges admins type: `last 24h`, `past 2 days`, `this week`, `since Monday`. Pure.

A small grammar rather than a general date parser: every phrase maps to exactly one
window, calendar phrases are days in UTC (as Log Analytics counts them), and `now` is
passed in. Rolling phrases stay durations, so the workspace anchors them at its own
"now"; calendar phrases become [start, end) intervals. Every window is capped.

Each window has a `spec`: a short phrase the grammar reads back to the same window
(`24h`, `yesterday`, `since monday`), used in button data and the CLI's JSON.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bot import messages
from bot.ask import dates
from bot.timespans import TimeSpanError, parse_datetime
from bot.workspace.base import TimeSpan

DAY: Final = timedelta(days=1)
WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NUMBER_WORDS: Final = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "fourteen": 14, "fifteen": 15, "twenty": 20, "thirty": 30, "couple": 2, "couple of": 2,
    "few": 3,
}  # fmt: skip
_UNIT_SIZES: Final = {
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": DAY,
    "w": timedelta(weeks=1),
    "fortnight": timedelta(weeks=2),
    "month": timedelta(days=30),
}
_NUM: Final = (
    r"(?P<n>\d{1,4}(?:\.\d+)?|couple(?: of)?|few|an?|one|two|three|four|five|six|seven|eight"
    r"|nine|ten|eleven|twelve|fourteen|fifteen|twenty|thirty)"
)
_UNIT: Final = (
    r"(?P<u>m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?|fortnight|months?)(?![a-z0-9])"
)
_LEAD: Final = r"(?:(?:in|over|during|for|within|from)\s+)?(?:the\s+)?"
_DAYNAME: Final = (
    r"(?P<wd>mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|rsday|urday)?"
)
_ISO_DAY: Final = r"(?P<date>\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2})?z?)?)"

#: (pattern, kind), tried in this order; the earliest match in the text wins.
_PATTERNS: Final = tuple(
    (re.compile(pattern, re.IGNORECASE), kind)
    for pattern, kind in (
        *dates.PATTERNS,  # first: `yesterday after 6pm` is more than `yesterday`
        (rf"\b{_LEAD}(?:last|past|previous|prior|recent)\s+(?:{_NUM}\s*)?{_UNIT}", "rolling"),
        (rf"\bsince\s+(?:last\s+|this\s+)?{_DAYNAME}\b", "since_weekday"),
        (rf"\b(?:on\s+)?(?:last\s+)?{_DAYNAME}\b(?!\s*\d)", "on_weekday"),
        (rf"\bsince\s+{_ISO_DAY}", "since_date"),
        (r"\bsince\s+(?P<day>yesterday|today)\b", "since_day"),
        (rf"\b{_LEAD}(?P<cal>today|yesterday|this\s+(?:week|month|morning))\b", "calendar"),
        (rf"\b{_LEAD}(?:this\s+|last\s+|past\s+)?weekend\b", "weekend"),
        (rf"\b{_LEAD}{_NUM}\s*{_UNIT}(?:\s+ago)?(?:\s+(?:back|ago))?", "rolling"),
    )
)
_UNIT_KEYS: Final = (
    ("month", "month"),
    ("fortnight", "fortnight"),
    ("mi", "m"),
    ("m", "m"),
    ("h", "h"),
    ("d", "d"),
    ("w", "w"),
)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A query's time range: what to send the workspace, and how to say it."""

    #: A phrase the grammar reads back to this window: `24h`, `yesterday`, `since monday`.
    spec: str
    timespan: TimeSpan
    #: For people: `in the last 24 hours`, `since Monday`, `yesterday`.
    label: str
    #: True when the asked range was longer than the limit and was cut to it.
    capped: bool = False


@dataclass(frozen=True, slots=True)
class FoundWindow:
    window: TimeWindow
    #: [start, end) of the phrase in the text it was found in.
    start: int
    end: int


class WindowError(ValueError):
    """Not a time range this grammar reads."""


def find_window(text: str, *, now: datetime, limit: timedelta) -> FoundWindow | None:
    """The first time phrase in `text`, or None."""
    found: list[tuple[int, int, re.Match[str], str]] = []
    for order, (pattern, kind) in enumerate(_PATTERNS):
        match = pattern.search(text)
        if match is not None and _plausible(match, kind):
            found.append((match.start(), order, match, kind))
    if not found:
        return None
    _, _, match, kind = min(found, key=lambda item: (item[0], item[1]))
    return FoundWindow(_window(match, kind, now=now, limit=limit), match.start(), match.end())


def parse_window(spec: str, *, now: datetime, limit: timedelta) -> TimeWindow:
    """A whole phrase as a window (button data, catalog defaults); WindowError if it is not one."""
    text = spec.strip()
    found = find_window(text, now=now, limit=limit)
    if found is None or found.start != 0 or found.end != len(text):
        raise WindowError(messages.not_a_time_range(spec))
    return found.window


def _plausible(match: re.Match[str], kind: str) -> bool:
    """Rule out words that only look like time: `a m...`, a bare `1 d`-less number, `0w`."""
    if kind == "range":  # `today - anything broken?` is no range
        return bool(match.group("d2") or match.group("t2"))
    if kind != "rolling" or match.group("n") is None:
        return True
    if _amount(match.group("n")) <= 0:  # "0 weeks" is no range: text, not a time phrase
        return False
    # "a w..." / "an h..." without `last` is rarely a time ("a week" is; "a m" is not).
    return not (match.group("n").lower() in ("a", "an") and len(match.group("u")) == 1)


def _window(match: re.Match[str], kind: str, *, now: datetime, limit: timedelta) -> TimeWindow:
    if kind == "rolling":
        return rolling(_amount(match.group("n")), _unit(match.group("u")), limit=limit)
    if kind in ("since_weekday", "on_weekday"):
        day = _weekday_start(match.group("wd"), now)
        if kind == "on_weekday":
            name = WEEKDAYS[day.weekday()]
            return _interval(f"on {name}", day, min(day + DAY, now), messages.on_day(name), limit)
        name = WEEKDAYS[day.weekday()]
        return _interval(f"since {name}", day, now, messages.since(name.capitalize()), limit)
    if kind == "since_date":
        return _since_date(match.group("date"), now=now, limit=limit)
    if kind == "since_day":
        word = match.group("day").lower()
        start = _midnight(now) - DAY if word == "yesterday" else _midnight(now)
        return _interval(f"since {word}", start, now, messages.since(word), limit)
    if kind == "weekend":
        return _weekend(now, limit)
    if kind in _ABSOLUTE:
        try:
            start, end, label = _ABSOLUTE[kind](match, now)
        except dates.DateError:
            raise WindowError(messages.not_a_time_range(match[0])) from None
        if end <= start:
            raise WindowError(messages.not_a_time_range(match[0]))
        spec = label or dates.day_spec(start, end)
        return _interval(spec, start, end, messages.named_day(_said(spec)), limit)
    return _calendar(re.sub(r"\s+", " ", match.group("cal").lower()), now=now, limit=limit)


def _range(match: re.Match[str], now: datetime) -> tuple[datetime, datetime, str | None]:
    """`2026-11-01 to 2026-11-03`, `between Nov 1 and Nov 3`, `between Monday 9am and noon`."""
    first = dates.day_of(match["d1"], now)
    ending = match["d2"] or ""
    if ending.rstrip("stndrh").isdigit():  # `nov 10-12`
        last = _midnight(first).replace(day=int(ending.rstrip("stndrh")))
    else:
        last = dates.day_of(ending, now) if ending else _midnight(first)
    start = first + (dates.time_of_day(match["t1"]) if match["t1"] else timedelta(0))
    if match["t2"]:
        return start, _midnight(last) + dates.time_of_day(match["t2"]), None
    if _ISO_TIME.fullmatch(ending):  # a time was given: the end is excluded
        return start, last, None
    return start, _midnight(last) + DAY, None


_ISO_TIME: Final = re.compile(r"\d{4}-\d{2}-\d{2}t\d{2}:\d{2}", re.IGNORECASE)


def _part_of_day(match: re.Match[str], now: datetime) -> tuple[datetime, datetime, str | None]:
    """`yesterday after 6pm`, `monday before 9am`."""
    day = dates.day_of(match["d1"], now)
    moment = day + dates.time_of_day(match["t1"])
    if match["side"] == "after":
        return moment, min(day + DAY, now), None
    return day, min(moment, now), None


def _date(match: re.Match[str], now: datetime) -> tuple[datetime, datetime, str | None]:
    day = _midnight(dates.day_of(match["d1"], now))
    return day, day + DAY, None


def _month(match: re.Match[str], now: datetime) -> tuple[datetime, datetime, str | None]:
    return (*dates.month_range(match["month"], now), None)


def _last_quarter(match: re.Match[str], now: datetime) -> tuple[datetime, datetime, str | None]:
    return (*dates.previous_quarter(now), "last quarter")


def _this_quarter(match: re.Match[str], now: datetime) -> tuple[datetime, datetime, str | None]:
    return (dates.quarter_start(now), now, "this quarter")


_Reader = Callable[[re.Match[str], datetime], tuple[datetime, datetime, str | None]]
_ABSOLUTE: Final[dict[str, _Reader]] = {
    "range": _range,
    "part_of_day": _part_of_day,
    "date": _date,
    "month": _month,
    "last_quarter": _last_quarter,
    "this_quarter": _this_quarter,
}


def _said(spec: str) -> str:
    """How an absolute window reads: `on 2026-11-03`, `from 2026-11-01 to 2026-11-03`."""
    if " to " in spec:
        return f"from {spec}"
    return spec if "quarter" in spec else f"on {spec}"


def rolling(amount: float, unit: str, *, limit: timedelta) -> TimeWindow:
    """The last `amount` `unit`s, ending at the workspace's now."""
    size = amount * _UNIT_SIZES[unit]
    if size <= timedelta(0):
        raise WindowError(messages.not_a_time_range(f"{amount:g} {unit}"))
    if size > limit:
        label = messages.last_span(limit // DAY, "day")
        return TimeWindow(spec=_short(limit), timespan=limit, label=label, capped=True)
    return TimeWindow(
        spec=_short(size), timespan=size, label=messages.last_span(*_spoken(amount, unit))
    )


def _calendar(word: str, *, now: datetime, limit: timedelta) -> TimeWindow:
    today = _midnight(now)
    if word == "yesterday":
        return _interval("yesterday", today - DAY, today, messages.named_day("yesterday"), limit)
    if word == "today":
        return _interval("today", today, now, messages.named_day("today"), limit)
    if word == "this morning":
        return _interval("this morning", today, now, messages.named_day("this morning"), limit)
    if word == "this week":
        start = today - timedelta(days=today.weekday())
        return _interval("this week", start, now, messages.named_day("this week"), limit)
    start = today.replace(day=1)
    return _interval("this month", start, now, messages.named_day("this month"), limit)


def _weekend(now: datetime, limit: timedelta) -> TimeWindow:
    """The most recent Saturday and Sunday (this one, if it is the weekend now)."""
    today = _midnight(now)
    saturday = today - timedelta(days=(today.weekday() - 5) % 7)
    end = min(saturday + 2 * DAY, now)
    return _interval("weekend", saturday, end, messages.named_day("over the weekend"), limit)


def _since_date(text: str, *, now: datetime, limit: timedelta) -> TimeWindow:
    try:
        start = parse_datetime(text.upper().replace(" ", "T"))
    except TimeSpanError:
        raise WindowError(messages.not_a_time_range(text)) from None
    if start >= now:
        raise WindowError(messages.not_a_time_range(text))
    spec = f"since {text.lower()}"
    return _interval(spec, start, now, messages.since(text), limit)


def _interval(
    spec: str, start: datetime, end: datetime, label: str, limit: timedelta
) -> TimeWindow:
    if end - start > limit:
        return TimeWindow(spec=spec, timespan=(end - limit, end), label=label, capped=True)
    return TimeWindow(spec=spec, timespan=(start, end), label=label)


def _weekday_start(name: str, now: datetime) -> datetime:
    """Midnight of the most recent such weekday, today included."""
    wanted = next(i for i, day in enumerate(WEEKDAYS) if day.startswith(name.lower()[:3]))
    today = _midnight(now)
    return today - timedelta(days=(today.weekday() - wanted) % 7)


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _amount(text: str | None) -> float:
    if text is None:
        return 1.0
    word = re.sub(r"\s+", " ", text.lower())
    return float(_NUMBER_WORDS[word]) if word in _NUMBER_WORDS else float(word)


def _unit(text: str) -> str:
    lowered = text.lower()
    for prefix, unit in _UNIT_KEYS:
        if lowered.startswith(prefix):
            return unit
    raise WindowError(messages.not_a_time_range(text))  # pragma: no cover - the regex limits units


def _short(size: timedelta) -> str:
    """`24h`, `7d`, `90m`: days from two days on, else hours or minutes (what `rolling` reads)."""
    hour = timedelta(hours=1)
    if size >= 2 * DAY and size % DAY == timedelta(0):
        return f"{size // DAY}d"
    if size % hour == timedelta(0):
        return f"{size // hour}h"
    return f"{max(1, round(size.total_seconds() / 60))}m"


_UNIT_NAMES: Final = {"m": "minute", "h": "hour", "d": "day", "w": "week", "month": "month"}


def _spoken(amount: float, unit: str) -> tuple[float, str]:
    """(amount, unit name) as people say it: a fortnight is 2 weeks."""
    if unit == "fortnight":
        return (2 * amount, "week")
    return (amount, _UNIT_NAMES[unit])
