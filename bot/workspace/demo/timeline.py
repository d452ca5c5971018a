"""Time and randomness for the demo data: windows, working-hour rhythm, seeded ids and counts.

All times here are naive UTC datetimes (what the TIMESTAMP columns hold); the
public manifest converts them back to aware UTC.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Final

HOUR: Final = timedelta(hours=1)
DAY: Final = timedelta(days=1)
RECENT: Final = timedelta(hours=24)

#: Relative activity per UTC hour: the demo tenant works roughly 07:00-18:00 UTC (Europe).
_HOUR_WEIGHTS: Final = (
    0.08, 0.06, 0.05, 0.05, 0.06, 0.12, 0.35, 0.8, 1.0, 1.0, 1.0, 0.9,
    0.8, 1.0, 1.0, 1.0, 0.9, 0.7, 0.45, 0.3, 0.2, 0.15, 0.12, 0.1,
)  # fmt: skip
_HOUR_CUM: Final = tuple(accumulate(_HOUR_WEIGHTS))
_WEEKEND_FACTOR: Final = 0.2
_UUID_CLEAR: Final = ~((0xC000 << 48) | (0xF000 << 64))
_UUID_SET: Final = (0x8000 << 48) | (4 << 76)


@dataclass(frozen=True)
class Timeline:
    """The generated history [start, now) and the windows tests and rules rely on."""

    now: datetime
    start: datetime
    recent: tuple[datetime, datetime]
    quiet: tuple[datetime, datetime]

    def contains(self, t: datetime) -> bool:
        return self.start <= t < self.now

    def in_quiet(self, t: datetime) -> bool:
        return self.quiet[0] <= t < self.quiet[1]

    def in_recent(self, t: datetime) -> bool:
        return self.recent[0] <= t < self.recent[1]

    def outside_windows(self, t: datetime) -> bool:
        """True for history that is neither recent nor quiet (rare incidents may go here)."""
        return self.contains(t) and not self.in_quiet(t) and not self.in_recent(t)

    def day_starts(self) -> Iterator[datetime]:
        """Midnight of every UTC day that overlaps the history."""
        day = self.start.replace(hour=0, minute=0, second=0, microsecond=0)
        while day < self.now:
            yield day
            day += DAY

    def ago(self, delta: timedelta) -> datetime:
        return self.now - delta


def build_timeline(now: datetime, days: int) -> Timeline:
    """Recent = the last 24 h; quiet = 48 h (24 h for a 2-day history) ending 11 days ago,
    or as early as the history allows, never overlapping the recent window."""
    naive_now = now.astimezone(UTC).replace(tzinfo=None)
    start = naive_now - days * DAY
    quiet_len = 2 * DAY if days >= 3 else DAY
    quiet_end = max(naive_now - 11 * DAY, start + quiet_len)
    recent = (naive_now - RECENT, naive_now)
    return Timeline(naive_now, start, recent, (quiet_end - quiet_len, quiet_end))


def aware(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC)


def activity_factor(t: datetime) -> float:
    """How busy the tenant is at `t`, 0..1 (weekday working hours = 1)."""
    weekend = _WEEKEND_FACTOR if t.weekday() >= 5 else 1.0
    return _HOUR_WEIGHTS[t.hour] * weekend


def weekday_factor(day: datetime) -> float:
    return _WEEKEND_FACTOR if day.weekday() >= 5 else 1.0


def time_in_day(rng: random.Random, day: datetime) -> datetime:
    """A random moment of `day`, busier hours more likely."""
    hour = rng.choices(range(24), cum_weights=_HOUR_CUM)[0]
    return day + timedelta(hours=hour, seconds=rng.random() * 3600)


def business_time(rng: random.Random, day: datetime) -> datetime:
    """A random moment between 08:00 and 17:00 UTC of `day`."""
    return day + timedelta(hours=8, seconds=rng.random() * 9 * 3600)


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw; a rounded normal for large means (fast enough, shape is what matters)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def guid(rng: random.Random) -> str:
    """A version-4 UUID drawn from `rng` (same text as uuid.UUID(int=..., version=4), faster)."""
    n = rng.getrandbits(128) & _UUID_CLEAR | _UUID_SET
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def hex32(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def stream(seed: int, name: str) -> random.Random:
    """An independent, reproducible random stream per component (str seeds hash with SHA-512)."""
    return random.Random(f"entra-demo:{seed}:{name}")


def fmt(t: datetime) -> str:
    """TIMESTAMP text for DuckDB's CSV reader."""
    return t.isoformat(sep=" ", timespec="microseconds")
