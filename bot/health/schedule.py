"""`digest daily 08:00 [time zone]`, `digest weekly mon 08:00 [time zone]`, `digest off`,
`digest now`: read into a DigestRequest, and when the next digest of a schedule is due. Pure.

Times are wall-clock times in the conversation's time zone (zoneinfo, IANA names such as
Europe/Berlin; UTC when none is given), so 08:00 stays 08:00 across daylight saving.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.models import ChannelKind, DigestSubscription

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME: Final = re.compile(r"^([01]?\d|2[0-3])[:.h]?([0-5]\d)$")
USAGE: Final = "digest daily 08:00 [time zone] · digest weekly mon 08:00 · digest off · digest now"


class ScheduleError(ValueError):
    """Not a digest schedule; the message says what is expected."""


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    every: Literal["daily", "weekly"]
    at: time
    timezone: str = "UTC"
    #: 0 = Monday; weekly only.
    weekday: int | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def period(self) -> timedelta:
        return timedelta(days=7 if self.every == "weekly" else 1)

    def describe(self) -> str:
        day = f" on {WEEKDAYS[self.weekday].capitalize()}" if self.weekday is not None else ""
        return f"{self.every}{day} at {self.at:%H:%M} ({self.timezone})"

    def due_at(self, day: date) -> datetime:
        """The digest time on local `day` (may not be a digest day for weekly schedules)."""
        return datetime.combine(day, self.at, tzinfo=self.zone)

    def latest_due(self, now: datetime) -> datetime:
        """The most recent digest time at or before `now` (aware)."""
        local = now.astimezone(self.zone)
        for back in range(8):
            day = local.date() - timedelta(days=back)
            if self.weekday is not None and day.weekday() != self.weekday:
                continue
            due = self.due_at(day)
            if due <= local:
                return due
        raise AssertionError("a daily or weekly schedule is due within 8 days")

    def period_key(self, now: datetime) -> str:
        """The local date of the digest due at or before `now`: one digest per period."""
        return self.latest_due(now).date().isoformat()


@dataclass(frozen=True, slots=True)
class DigestRequest:
    action: Literal["now", "off", "show", "subscribe"]
    schedule: DigestSchedule | None = None


def parse_digest(text: str | None) -> DigestRequest:
    """What `digest ...` asks for; ScheduleError naming the problem otherwise."""
    words = (text or "").split()
    if not words:
        return DigestRequest("show")
    first = words[0].lower()
    if first in ("now", "off") and len(words) == 1:
        return DigestRequest(first)  # type: ignore[arg-type]
    if first == "daily":
        return DigestRequest("subscribe", _schedule("daily", None, words[1:]))
    if first == "weekly":
        if len(words) < 2 or words[1].lower()[:3] not in WEEKDAYS:
            raise ScheduleError(f"Say which day, e.g. `digest weekly mon 08:00`. ({USAGE})")
        weekday = WEEKDAYS.index(words[1].lower()[:3])
        return DigestRequest("subscribe", _schedule("weekly", weekday, words[2:]))
    raise ScheduleError(f"`{' '.join(words)[:40]}` is not a digest schedule. Try: {USAGE}")


def _schedule(
    every: Literal["daily", "weekly"], weekday: int | None, words: list[str]
) -> DigestSchedule:
    if not words or len(words) > 2:
        raise ScheduleError(f"Give a time and optionally a time zone. Try: {USAGE}")
    match = _TIME.match(words[0])
    if match is None:
        raise ScheduleError(f"`{words[0][:20]}` is not a time of day; use 24-hour `08:00`.")
    zone = words[1] if len(words) == 2 else "UTC"
    return DigestSchedule(every, time(int(match[1]), int(match[2])), _zone(zone), weekday)


def _zone(name: str) -> str:
    if name.upper() == "UTC":
        return "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = [z for z in available_timezones() if z.lower() == name.lower()]
        if close:
            return close[0]
        raise ScheduleError(
            f"`{name[:40]}` is not a time zone I know; use a name like Europe/Berlin."
        ) from None
    return name


def schedule_of(subscription: DigestSubscription) -> DigestSchedule:
    hour, minute = subscription.at.split(":")
    return DigestSchedule(
        subscription.every,
        time(int(hour), int(minute)),
        subscription.timezone,
        subscription.weekday,
    )


def subscription_of(
    schedule: DigestSchedule,
    *,
    conversation_id: str,
    channel: ChannelKind,
    created_by: str,
    created_at: datetime,
) -> DigestSubscription:
    return DigestSubscription(
        conversation_id=conversation_id,
        channel=channel,
        every=schedule.every,
        at=f"{schedule.at:%H:%M}",
        timezone=schedule.timezone,
        weekday=schedule.weekday,
        created_by=created_by,
        created_at=created_at,
    )
