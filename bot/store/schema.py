"""The database schema: private ORM rows, and their conversion to and from bot.models.

The migrations in `migrations/versions` create exactly this schema; a test keeps the two
in step. Times are stored as UTC (naive in SQLite, timestamptz in PostgreSQL) and come
back timezone-aware. Nested values (dimensions, history, payloads) are JSON.

What chat platforms send is stored without a length limit (Text): display names (Entra
allows 256 characters; Teams and Slack send what the directory holds), user ids and
conversation ids (Teams documents no maximum; personal chat ids are ~130 characters,
channel and group ids with suffixes longer). The Teams edge refuses ids over 1 KB, which
keeps them inside PostgreSQL's B-tree index row limit (~2.7 KB). SQLite never enforces a
declared length, so there these columns keep the VARCHAR(n) they were created with (see
migration 0004).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import TypeAdapter
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

from bot.models import (
    AlertEvent,
    AlertInstance,
    AlertStatus,
    AuditEntry,
    ChannelKind,
    ConversationRef,
    DigestSubscription,
    DimensionState,
    ExternalLink,
    Mute,
    OutboxItem,
    OutboxStatus,
    PeriodOutcome,
    RuleHealth,
    Subscription,
    Transition,
    Writeback,
    WritebackStatus,
)

#: Deterministic constraint names, so that later migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: JSON everywhere, JSONB (binary, indexable) in PostgreSQL.
JSON_TYPE: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")


def chat_text(sqlite_length: int) -> TypeEngine[str]:
    """Text of any length, for what chat platforms send (SQLite: as first declared)."""
    return Text().with_variant(String(sqlite_length), "sqlite")


_HISTORY = TypeAdapter(list[Transition])
_RECENT = TypeAdapter(list[PeriodOutcome])


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store needs timezone-aware times")
        value = value.astimezone(UTC)
        # SQLite has no time zones; it keeps the UTC wall time, which also sorts correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class CounterRow(Base):
    """Named counters; "alert" hands out the short alert ids people type."""

    __tablename__ = "id_counters"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class AlertRow(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        # At most one open instance per fingerprint: a second engine cannot open a twin.
        Index(
            "ix_alerts_open_fingerprint",
            "fingerprint",
            unique=True,
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
        Index("ix_alerts_rule_id_status", "rule_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    rule_id: Mapped[str] = mapped_column(String(200))
    dimensions: Mapped[Any] = mapped_column(JSON_TYPE)
    status: Mapped[str] = mapped_column(String(20))
    value: Mapped[float] = mapped_column(Double)
    threshold: Mapped[float] = mapped_column(Double)
    opened_at: Mapped[datetime]
    last_evaluated_at: Mapped[datetime]
    last_notified_at: Mapped[datetime | None]
    notify_count: Mapped[int] = mapped_column(Integer)
    resolved_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(chat_text(200))
    acknowledged_at: Mapped[datetime | None]
    evidence: Mapped[Any] = mapped_column(JSON_TYPE)
    history: Mapped[Any] = mapped_column(JSON_TYPE)

    def to_model(self) -> AlertInstance:
        return AlertInstance(
            id=self.id,
            fingerprint=self.fingerprint,
            rule_id=self.rule_id,
            dimensions=self.dimensions,
            status=AlertStatus(self.status),
            value=self.value,
            threshold=self.threshold,
            opened_at=self.opened_at,
            last_evaluated_at=self.last_evaluated_at,
            last_notified_at=self.last_notified_at,
            notify_count=self.notify_count,
            resolved_at=self.resolved_at,
            snoozed_until=self.snoozed_until,
            acknowledged_by=self.acknowledged_by,
            acknowledged_at=self.acknowledged_at,
            evidence=self.evidence,
            history=_HISTORY.validate_python(self.history),
            version=self.version,
        )


def alert_values(alert: AlertInstance) -> dict[str, Any]:
    """Column values of an alert (all but the version, which the store manages)."""
    values = {name: getattr(alert, name) for name in _ALERT_SCALARS}
    values.update(alert.model_dump(mode="json", include={"dimensions", "evidence", "history"}))
    values["status"] = alert.status.value
    return values


_ALERT_SCALARS = (
    "id",
    "fingerprint",
    "rule_id",
    "value",
    "threshold",
    "opened_at",
    "last_evaluated_at",
    "last_notified_at",
    "notify_count",
    "resolved_at",
    "snoozed_until",
    "acknowledged_by",
    "acknowledged_at",
)


class MuteRow(Base):
    __tablename__ = "mutes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[str] = mapped_column(String(200), index=True)
    matchers: Mapped[Any] = mapped_column(JSON_TYPE)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    until: Mapped[datetime] = mapped_column(index=True)
    created_by: Mapped[str] = mapped_column(chat_text(200))
    created_by_name: Mapped[str | None] = mapped_column(chat_text(200))
    created_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)

    def to_model(self) -> Mute:
        return Mute(
            id=self.id,
            rule_id=self.rule_id,
            matchers=self.matchers,
            alert_id=self.alert_id,
            until=self.until,
            created_by=self.created_by,
            created_by_name=self.created_by_name,
            created_at=self.created_at,
            reason=self.reason,
        )


def mute_values(mute: Mute) -> dict[str, Any]:
    """Column values of a new mute; its id is assigned by the database."""
    return mute.model_dump(exclude={"id"})


class DimensionStateRow(Base):
    __tablename__ = "dimension_states"

    rule_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    dimensions: Mapped[Any] = mapped_column(JSON_TYPE)
    recent: Mapped[Any] = mapped_column(JSON_TYPE)
    held_until_clear: Mapped[bool] = mapped_column(Boolean, server_default=false())

    def to_model(self) -> DimensionState:
        return DimensionState(
            rule_id=self.rule_id,
            fingerprint=self.fingerprint,
            dimensions=self.dimensions,
            recent=_RECENT.validate_python(self.recent),
            held_until_clear=self.held_until_clear,
        )


def dimension_state_values(state: DimensionState) -> dict[str, Any]:
    return state.model_dump(mode="json")


class RuleHealthRow(Base):
    __tablename__ = "rule_health"

    rule_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_evaluated_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_kind: Mapped[str | None] = mapped_column(String(50))
    consecutive_errors: Mapped[int] = mapped_column(Integer)

    def to_model(self) -> RuleHealth:
        return RuleHealth(
            rule_id=self.rule_id,
            last_evaluated_at=self.last_evaluated_at,
            last_success_at=self.last_success_at,
            last_error=self.last_error,
            last_error_kind=self.last_error_kind,
            consecutive_errors=self.consecutive_errors,
        )


def rule_health_values(health: RuleHealth) -> dict[str, Any]:
    return health.model_dump()


class ConversationRow(Base):
    __tablename__ = "conversations"

    conversation_id: Mapped[str] = mapped_column(chat_text(512), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    reference: Mapped[Any] = mapped_column(JSON_TYPE)
    updated_at: Mapped[datetime]

    def to_model(self) -> ConversationRef:
        return ConversationRef.model_validate(
            {
                "conversation_id": self.conversation_id,
                "channel": self.channel,
                "kind": self.kind,
                "reference": self.reference,
                "updated_at": self.updated_at,
            }
        )


def conversation_values(ref: ConversationRef) -> dict[str, Any]:
    values = ref.model_dump(exclude={"reference"})
    values["reference"] = ref.model_dump(mode="json", include={"reference"})["reference"]
    return values


class SubscriptionRow(Base):
    __tablename__ = "subscriptions"

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.conversation_id", ondelete="CASCADE"), primary_key=True
    )
    target: Mapped[str] = mapped_column(String(200), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    max_severity: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(chat_text(200))
    created_at: Mapped[datetime]

    def to_model(self) -> Subscription:
        return Subscription(
            conversation_id=self.conversation_id,
            channel=ChannelKind(self.channel),
            target=self.target,
            max_severity=self.max_severity,
            created_by=self.created_by,
            created_at=self.created_at,
        )


def subscription_values(subscription: Subscription) -> dict[str, Any]:
    return subscription.model_dump()


class DigestSubscriptionRow(Base):
    """A conversation's provisioning digest schedule (one per conversation)."""

    __tablename__ = "digest_subscriptions"

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.conversation_id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(20))
    every: Mapped[str] = mapped_column(String(10))
    at: Mapped[str] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64))
    weekday: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(chat_text(200))
    created_at: Mapped[datetime]

    def to_model(self) -> DigestSubscription:
        return DigestSubscription.model_validate(
            {**{c.name: getattr(self, c.name) for c in self.__table__.columns}}
        )


class AuditRow(Base):
    __tablename__ = "audit_log"

    # No foreign keys: the record outlives pruned conversations and refused requests.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(chat_text(200))
    actor_name: Mapped[str | None] = mapped_column(chat_text(200))
    action: Mapped[str] = mapped_column(String(50))
    conversation_id: Mapped[str | None] = mapped_column(chat_text(512), index=True)
    alert_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[str | None] = mapped_column(Text)

    def to_model(self) -> AuditEntry:
        return AuditEntry(
            at=self.at,
            actor=self.actor,
            actor_name=self.actor_name,
            action=self.action,
            conversation_id=self.conversation_id,
            alert_id=self.alert_id,
            detail=self.detail,
        )


def audit_values(entry: AuditEntry) -> dict[str, Any]:
    return entry.model_dump()


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("conversation_id", "idempotency_key"),
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(300))
    conversation_id: Mapped[str] = mapped_column(chat_text(512))
    channel: Mapped[str] = mapped_column(String(20))
    # Copied out of the event so that "the messages of alert 42" is an indexed query.
    alert_id: Mapped[int | None] = mapped_column(Integer, index=True)
    rule_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    event: Mapped[Any] = mapped_column(JSON_TYPE)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(chat_text(512))
    # Who is delivering it, and until when; an expired lease can be claimed again.
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]
    # A post of this item in flight, or "maybe sent": written before the request goes,
    # cleared when an answer says nothing was posted (bot.channels.maybe_sent).
    post_attempt: Mapped[str | None] = mapped_column(String(40))
    post_started_at: Mapped[datetime | None]

    def to_model(self) -> OutboxItem:
        return OutboxItem(
            id=self.id,
            idempotency_key=self.idempotency_key,
            conversation_id=self.conversation_id,
            channel=ChannelKind(self.channel),
            event=AlertEvent.model_validate(self.event),
            status=OutboxStatus(self.status),
            attempts=self.attempts,
            next_attempt_at=self.next_attempt_at,
            last_error=self.last_error,
            message_id=self.message_id,
            post_attempt=self.post_attempt,
            post_started_at=self.post_started_at,
        )


def outbox_values(item: OutboxItem, *, event_json: Any = None) -> dict[str, Any]:
    """Column values of a new outbox item; its id is assigned by the database.
    `event_json`: its event's JSON, if already made (a fan-out shares one event)."""
    values = item.model_dump(exclude={"id", "event"})
    values["event"] = item.event.model_dump(mode="json") if event_json is None else event_json
    values["alert_id"] = item.event.alert.id if item.event.alert else None
    values["rule_id"] = item.event.rule_id
    values["kind"] = item.event.kind.value
    return values


class ExternalNotificationRow(Base):
    """Each notification received from another system, once: a retry is recognised."""

    __tablename__ = "external_notifications"

    source: Mapped[str] = mapped_column(String(50), primary_key=True)
    key: Mapped[str] = mapped_column(String(600), primary_key=True)
    received_at: Mapped[datetime]


class ExternalRuleRow(Base):
    """The rule an external alert is shown with (its definition as JSON)."""

    __tablename__ = "external_rules"

    rule_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    source: Mapped[str] = mapped_column(String(50))
    definition: Mapped[Any] = mapped_column(JSON_TYPE)
    updated_at: Mapped[datetime]


class ExternalAlertRow(Base):
    __tablename__ = "external_alerts"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), primary_key=True)
    source: Mapped[str] = mapped_column(String(50))
    external_id: Mapped[str] = mapped_column(String(512))
    rule_id: Mapped[str] = mapped_column(String(200))

    def to_model(self) -> ExternalLink:
        return ExternalLink(
            alert_id=self.alert_id,
            source=self.source,
            external_id=self.external_id,
            rule_id=self.rule_id,
        )


class WritebackRow(Base):
    __tablename__ = "writebacks"
    __table_args__ = (Index("ix_writebacks_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(Integer, index=True)
    source: Mapped[str] = mapped_column(String(50))
    external_id: Mapped[str] = mapped_column(String(512))
    new_state: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]

    def to_model(self) -> Writeback:
        return Writeback(
            id=self.id,
            alert_id=self.alert_id,
            source=self.source,
            external_id=self.external_id,
            new_state=self.new_state,
            actor=self.actor,
            status=WritebackStatus(self.status),
            attempts=self.attempts,
            next_attempt_at=self.next_attempt_at,
            last_error=self.last_error,
        )


class EvaluationRow(Base):
    """One committed evaluation of a rule's slot: the claim that makes it exactly once
    across replicas (inserted in the cycle's own transaction; a second insert finds it)."""

    __tablename__ = "evaluations"

    rule_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    slot_at: Mapped[datetime] = mapped_column(primary_key=True)
    #: Which process committed it (worker name), for operators.
    evaluated_by: Mapped[str] = mapped_column(String(200))
    committed_at: Mapped[datetime]


class ConversationLeaseRow(Base):
    """Who delivers to a conversation now: one replica at a time, so its messages go out
    in order and paced. A row per conversation that ever had a delivery (made on enqueue);
    claimed with FOR UPDATE SKIP LOCKED when free and a delivery is due."""

    __tablename__ = "conversation_leases"

    conversation_id: Mapped[str] = mapped_column(chat_text(512), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime]
    # The last claim (kept after release): replicas that claimed lately share the app's
    # rate limit (bot.channels.pacing_state).
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    # When the conversation's recent operations happened (ISO times), so the replica
    # that delivers next continues the rate window.
    recent_sends: Mapped[Any] = mapped_column(JSON_TYPE, nullable=True)


class ShownMessageRow(Base):
    """The digest of the payload last put on each posted message (bot.channels.shown),
    so no replica repeats an edit that would change nothing."""

    __tablename__ = "shown_messages"

    conversation_id: Mapped[str] = mapped_column(chat_text(512), primary_key=True)
    message_id: Mapped[str] = mapped_column(chat_text(512), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    shown_at: Mapped[datetime] = mapped_column(index=True)


class NoticeRow(Base):
    """A notice to the person an event happened to (bot.notices)."""

    __tablename__ = "notices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(200))
    #: The person's object id, else UPN, lower case: rate limits and grouping ask by it.
    person_key: Mapped[str] = mapped_column(String(320), index=True)
    person: Mapped[Any] = mapped_column(JSON_TYPE)
    created_at: Mapped[datetime]
    events: Mapped[Any] = mapped_column(JSON_TYPE)
    answer: Mapped[str | None] = mapped_column(String(20))
    answered_at: Mapped[datetime | None]
    alert_id: Mapped[int | None] = mapped_column(Integer)
    delivered_via: Mapped[str | None] = mapped_column(String(30))
    conversation_id: Mapped[str | None] = mapped_column(String(512))
    message_id: Mapped[str | None] = mapped_column(String(512))
    #: When the reminder about no answer was raised (once; bot.notices.reminders).
    reminded_at: Mapped[datetime | None]
    #: How many of its events the person was told about (bot.notices.delivery).
    told_events: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class NoticeRecordRow(Base):
    """Each audit record told about, once: the key that makes notices idempotent."""

    __tablename__ = "notice_records"

    record_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    notice_id: Mapped[str] = mapped_column(String(64), index=True)


metadata = Base.metadata
