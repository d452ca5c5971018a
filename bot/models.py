"""Domain types shared by the alert engine, the store and the chat channels.

Imports nothing else from `bot`. Pydantic models because every one of them crosses
a boundary (the database, a card, the CLI's JSON). Times are timezone-aware UTC.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

STANDARD_CATEGORIES: tuple[str, ...] = (
    "Access Reviews",
    "Entitlement management",
    "Lifecycle workflows",
    "Multitenant collaboration",
    "Privileged Identity Management",
    "Provisioning",
)

#: Who did something when it was not a person.
SYSTEM_ACTOR = "system"

#: "Now", injected wherever time matters, so logic never reads the wall clock itself.
Clock = Callable[[], datetime]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AlertStatus(StrEnum):
    """An alert instance's state. "OK" is the absence of an open instance."""

    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"

    @property
    def is_open(self) -> bool:
        return self is not AlertStatus.RESOLVED


class Transition(_Model):
    """One entry of an alert's history: who moved it where, when and why."""

    at: datetime
    from_status: AlertStatus | None
    to_status: AlertStatus
    actor: str = SYSTEM_ACTOR
    actor_name: str | None = None
    note: str | None = None


def fingerprint(rule_id: str, dimensions: dict[str, str]) -> str:
    """Stable identity of an alert: the rule and its dimension values."""
    canonical = json.dumps([rule_id, sorted(dimensions.items())], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class AlertInstance(_Model):
    """One (rule, dimension values) problem, from the time it fires until it resolves.

    `id` is the short number people type (`ack 42`); it is assigned by the store.
    A new instance is created if the same fingerprint fires again after resolving.
    """

    id: int
    fingerprint: str
    rule_id: str
    dimensions: dict[str, str] = Field(default_factory=dict)
    status: AlertStatus
    value: float
    threshold: float
    opened_at: datetime
    last_evaluated_at: datetime
    last_notified_at: datetime | None = None
    notify_count: int = 0
    resolved_at: datetime | None = None
    snoozed_until: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    #: The first rows of the query result that made it fire, for the card.
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    history: list[Transition] = Field(default_factory=list)
    #: Optimistic concurrency: 0 until first stored; the store bumps it on every write
    #: and refuses a write based on an older version (two people pressing buttons at once).
    version: int = Field(default=0, ge=0)


class Mute(_Model):
    """A snooze: silences one alert, or a rule for some dimension values, until a time."""

    id: int
    rule_id: str
    #: Dimension values that must all match; empty matches every alert of the rule.
    matchers: dict[str, str] = Field(default_factory=dict)
    alert_id: int | None = None
    until: datetime
    created_by: str
    created_by_name: str | None = None
    created_at: datetime
    reason: str | None = None

    def matches(self, alert: AlertInstance, *, now: datetime) -> bool:
        if now >= self.until or alert.rule_id != self.rule_id:
            return False
        if self.alert_id is not None and self.alert_id != alert.id:
            return False
        return all(alert.dimensions.get(k) == v for k, v in self.matchers.items())


class PeriodOutcome(_Model):
    """Whether one evaluation breached the threshold, for N-of-M failing periods."""

    at: datetime
    breached: bool


class DimensionState(_Model):
    """What the engine remembers between evaluations for one fingerprint."""

    fingerprint: str
    rule_id: str
    dimensions: dict[str, str] = Field(default_factory=dict)
    recent: list[PeriodOutcome] = Field(default_factory=list)
    #: A person resolved this combination's alert while its condition still held: stay
    #: quiet until an evaluation finds it clear, as Azure Monitor does for a closed alert.
    held_until_clear: bool = False


class RuleHealth(_Model):
    """The last evaluation of a rule: when, and whether its query failed."""

    rule_id: str
    last_evaluated_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    #: What kind of failure `last_error` is (`ThrottledError`, `binding`, ...): a rule
    #: is reported again when the kind changes, not when only the message does.
    last_error_kind: str | None = None
    consecutive_errors: int = 0


class AlertEventKind(StrEnum):
    FIRED = "fired"
    UPDATED = "updated"
    RENOTIFY = "renotify"
    RESOLVED = "resolved"
    SNOOZE_EXPIRED = "snooze_expired"
    EVALUATION_ERROR = "evaluation_error"
    EVALUATION_RECOVERED = "evaluation_recovered"
    #: A provisioning digest (bot.health): `detail` holds the digest view as JSON.
    DIGEST = "digest"
    #: A notice to the person an event happened to (bot.notices); `detail` is its id.
    NOTICE = "notice"
    #: Events joined a delivered notice: the person's message is brought up to date
    #: (bot.notices); `detail` is the notice's id.
    NOTICE_UPDATE = "notice_update"


class AlertEvent(_Model):
    """What the engine tells notifiers. It knows nothing of Teams or Slack."""

    kind: AlertEventKind
    at: datetime
    rule_id: str
    alert: AlertInstance | None = None
    detail: str | None = None

    @property
    def idempotency_key(self) -> str:
        """Same event, same key: a redelivery after a crash is recognised."""
        subject = str(self.alert.id) if self.alert else self.rule_id
        return f"{subject}:{self.kind.value}:{self.at.isoformat()}"


class ChannelKind(StrEnum):
    TEAMS = "teams"
    SLACK = "slack"


class Subscription(_Model):
    """A conversation hears about a category, a rule, or everything, from a severity up."""

    conversation_id: str
    channel: ChannelKind
    #: A category name, a rule id, or "all".
    target: str
    #: Azure Monitor order: 0 is critical, 4 verbose. Alerts of severity <= this are sent.
    max_severity: int = Field(default=4, ge=0, le=4)
    created_by: str
    created_at: datetime


#: Where people talk to the bot, in neutral words: a one-to-one chat (Teams personal chat,
#: Slack DM), a group chat (Teams group chat, Slack group DM), or a channel.
ConversationKind = Literal["direct", "group", "channel"]
#: The words stored before they were neutral (Teams' own), read as the neutral ones.
_OLD_KINDS: Final = {"personal": "direct", "groupChat": "group"}


def _neutral_kind(value: Any) -> Any:
    return _OLD_KINDS.get(value, value) if isinstance(value, str) else value


class ConversationRef(_Model):
    """Enough to post into a conversation later (the channel's own reference, as JSON)."""

    conversation_id: str
    channel: ChannelKind
    kind: Annotated[ConversationKind, BeforeValidator(_neutral_kind)]
    reference: dict[str, Any]
    updated_at: datetime


class AuditEntry(_Model):
    """A human action, kept for the record and shown on cards."""

    at: datetime
    actor: str
    actor_name: str | None = None
    action: str
    conversation_id: str | None = None
    alert_id: int | None = None
    detail: str | None = None


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxItem(_Model):
    """One (event, conversation) delivery: at least once, shown once."""

    id: int
    idempotency_key: str
    conversation_id: str
    channel: ChannelKind
    event: AlertEvent
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime
    last_error: str | None = None
    #: The chat message this delivery created or updated (for in-place edits).
    message_id: str | None = None
    #: A post started and not known to have failed ("maybe sent"): its attempt id and
    #: when it began. Redelivery reconciles it (bot.channels.maybe_sent).
    post_attempt: str | None = None
    post_started_at: datetime | None = None


class ExternalLink(_Model):
    """An alert raised by another monitoring system (Azure Monitor), and its id there."""

    alert_id: int
    #: Where it came from, e.g. "azure-monitor".
    source: str
    #: Its id in that system (Azure: essentials.alertId, the ARM id of the alert).
    external_id: str
    rule_id: str


class WritebackStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class Writeback(_Model):
    """A state change to write back to the system an external alert came from."""

    id: int
    alert_id: int
    source: str
    external_id: str
    #: The state to set there, e.g. "Acknowledged" or "Closed".
    new_state: str
    actor: str
    status: WritebackStatus = WritebackStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime
    last_error: str | None = None


class DigestSubscription(_Model):
    """A conversation gets the provisioning digest daily or weekly at a local time."""

    conversation_id: str
    channel: ChannelKind
    every: Literal["daily", "weekly"]
    #: Local wall-clock time, `08:00`.
    at: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    #: An IANA time zone name (zoneinfo), `UTC` or `Europe/Berlin`.
    timezone: str = Field(min_length=1, max_length=64)
    #: 0 = Monday; weekly only.
    weekday: int | None = Field(default=None, ge=0, le=6)
    created_by: str
    created_at: datetime
