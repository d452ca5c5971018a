"""The notifier interface: deliver one outbox item and say whether a failure is worth retrying."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from bot.models import AlertEvent, OutboxItem


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What became of one delivery. Build it with `sent`, `retry_after` or `permanent_failure`."""

    outcome: Literal["sent", "retry", "failed"]
    #: The chat message created or updated (sent), for editing it in place later.
    message_id: str | None = None
    #: How long the channel asked us to wait (retry), e.g. from a Retry-After header.
    delay_seconds: float | None = None
    reason: str | None = None
    #: A post whose answer was lost earlier, reconciled now: "adopted" or "reposted".
    reconciled: str | None = None

    @classmethod
    def sent(cls, message_id: str | None = None) -> DeliveryResult:
        return cls("sent", message_id=message_id)

    @classmethod
    def retry_after(cls, seconds: float | None, *, reason: str) -> DeliveryResult:
        """A failure that may pass: throttled, timed out, 5xx. `seconds` None: our backoff."""
        return cls("retry", delay_seconds=seconds, reason=reason)

    @classmethod
    def permanent_failure(cls, reason: str) -> DeliveryResult:
        """Trying again cannot help: the conversation is gone, the message is refused."""
        return cls("failed", reason=reason)


class Notifier(Protocol):
    """A chat channel's outbound side. Raising is treated as a failure worth retrying."""

    async def deliver(self, item: OutboxItem) -> DeliveryResult: ...


def describe_event(event: AlertEvent) -> str:
    """One line for logs: `fired alert 12 provisioning-failure-spike JobId=... (25 > 10)`."""
    alert = event.alert
    if alert is None:
        return f"{event.kind.value} rule {event.rule_id}: {event.detail or ''}".rstrip(": ")
    dimensions = " ".join(f"{k}={v}" for k, v in sorted(alert.dimensions.items()))
    parts = [f"{event.kind.value} alert {alert.id} {event.rule_id}", dimensions]
    parts.append(f"[{alert.status.value}, value {alert.value:g}]")
    if event.detail:
        parts.append(f"- {event.detail}")
    return " ".join(part for part in parts if part)
