"""Rate limiting and latency for the fake Slack Web API.

Slack documents per-method tiers (per workspace, per app) and for chat.postMessage a
"special" tier: "generally allows posting one message per second per channel", with short
bursts tolerated (docs.slack.dev/apis/web-api/rate-limits). Over the limit Slack answers
HTTP 429 with a `Retry-After` header (whole seconds) and `{"ok": false, "error":
"ratelimited"}`. Here each limit is a token bucket per (method, channel) — or per method
when the call names no channel — and tests can also script "the next N calls answer 429".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

ALL_METHODS: Final = "*"


@dataclass(frozen=True)
class RateLimit:
    """`per_second` sustained, up to `burst` at once (a bucket that starts full); one
    bucket per channel (chat.postMessage's special tier) or one per workspace (the tiers)."""

    per_second: float
    burst: int = 1
    per_channel: bool = True


#: Slack's documented special tier for chat.postMessage: 1/s per channel, short bursts.
POST_MESSAGE_LIMIT: Final = RateLimit(per_second=1.0, burst=3)


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class Throttle:
    """`limits` by method name; `scripted` 429s by method (or ALL_METHODS), each entry the
    Retry-After of one call, used first in first out."""

    limits: dict[str, RateLimit] = field(default_factory=dict)
    scripted: dict[str, list[int]] = field(default_factory=dict)
    _buckets: dict[tuple[str, str], _Bucket] = field(default_factory=dict)

    def limit(
        self, method: str, per_second: float, burst: int = 1, *, per_channel: bool = False
    ) -> None:
        """A tier-style limit (per workspace unless `per_channel`)."""
        self.limits[method] = RateLimit(per_second, burst, per_channel)
        self._buckets = {k: v for k, v in self._buckets.items() if k[0] != method}

    def throttle_next(
        self, method: str = ALL_METHODS, calls: int = 1, retry_after: int = 1
    ) -> None:
        """The next `calls` calls of `method` answer 429 with `Retry-After: retry_after`."""
        self.scripted.setdefault(method, []).extend([retry_after] * calls)

    def retry_after(self, method: str, channel: str | None, now: float) -> int | None:
        """Seconds to wait when this call is over a limit (it then uses no token), else None."""
        for key in (method, ALL_METHODS):
            queue = self.scripted.get(key)
            if queue:
                return queue.pop(0)
        limit = self.limits.get(method)
        if limit is None:
            return None
        bucket_key = (method, (channel or "") if limit.per_channel else "")
        bucket = self._buckets.setdefault(bucket_key, _Bucket(float(limit.burst), now))
        bucket.tokens = min(
            float(limit.burst), bucket.tokens + (now - bucket.updated) * limit.per_second
        )
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - bucket.tokens) / limit.per_second))


@dataclass
class Latency:
    """Seconds the fake waits before answering: per method, else `default`; and, once
    per entry of `after_method`, after the method ran (it took effect, the answer is late:
    a client that gave up does not know the post was made)."""

    default: float = 0.0
    per_method: dict[str, float] = field(default_factory=dict)
    after_method: dict[str, list[float]] = field(default_factory=dict)

    def of(self, method: str) -> float:
        return self.per_method.get(method, self.default)

    def answer_late(self, method: str, seconds: float) -> None:
        self.after_method.setdefault(method, []).append(seconds)

    def after(self, method: str) -> float:
        queue = self.after_method.get(method)
        return queue.pop(0) if queue else 0.0
