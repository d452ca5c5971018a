"""The store's interface: what the alert engine and the chat channels may ask of persistence.

Every method is one atomic operation. `Store.transaction()` hands out the same operations
bound to one database transaction, for a caller that must write several things together
(an acknowledgement: the alert, its audit entry and the card updates to send), and
`Store.commit_cycle` writes one evaluation cycle that way. Nothing here names SQL. The
deliveries' part (the outbox, what messages show, pacing) is in delivery_protocols.py.

Errors (all `bot.errors.AlertBotError`):

StoreError
 +-- ConflictError            someone else wrote first: stale alert version, an alert id or
 |                            an open fingerprint that already exists. Re-read and decide again.
 +-- StoreUnavailableError    the database could not be reached or stayed locked (retryable)
 +-- SlotTakenError           another evaluation of the same rule slot committed first
                              (another replica): nothing was written; its result stands

Takeovers: a replica that takes over a claim another one held and lost (its lease
expired, or its transaction ended uncommitted) tells the store's `TakeoverHook`, with the
kind of claim and who held it: that is how the bot counts them (bot.metrics).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from bot.errors import AlertBotError
from bot.models import (
    AlertEvent,
    AlertInstance,
    AuditEntry,
    ChannelKind,
    ConversationRef,
    DigestSubscription,
    DimensionState,
    ExternalLink,
    Mute,
    OutboxItem,
    RuleHealth,
    Subscription,
    Writeback,
)
from bot.notices.model import Answer, Notice, NoticeEvent
from bot.store.delivery_protocols import DeliveryStateOperations as DeliveryStateOperations
from bot.store.delivery_protocols import OutboxOperations as OutboxOperations

#: The subscription target that matches every rule.
ALL_TARGET = "all"

#: The claims a replica can take over from another: an evaluation slot, a conversation's
#: delivery lease, a write-back's lease.
TakeoverKind = Literal["slot", "conversation", "writeback"]
#: Told of each takeover: its kind and the previous holder ("" when unknown).
TakeoverHook = Callable[[TakeoverKind, str], None]


class StoreError(AlertBotError):
    """The store could not do what was asked."""


class ConflictError(StoreError):
    """Someone else changed the same thing first; re-read and decide again."""


class StoreUnavailableError(StoreError):
    """The database could not be reached, or stayed locked; try again later."""

    retryable = True


class SlotTakenError(StoreError):
    """Another evaluation of this rule's slot committed first; nothing was written."""


class RuleState(BaseModel):
    """What the engine needs to evaluate one rule, read in one consistent snapshot."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule_id: str
    open_alerts: list[AlertInstance]
    dimension_states: list[DimensionState]
    health: RuleHealth | None
    #: The mutes of this rule that are active at the `now` the state was loaded for.
    mutes: list[Mute]


def new_outbox_item(
    event: AlertEvent, *, conversation_id: str, channel: ChannelKind, not_before: datetime
) -> OutboxItem:
    """An outbox item to enqueue: the store assigns its id; the event gives its key."""
    return OutboxItem(
        id=0,
        idempotency_key=event.idempotency_key,
        conversation_id=conversation_id,
        channel=channel,
        event=event,
        next_attempt_at=not_before,
    )


class AlertOperations(Protocol):
    """Alert instances and the engine's memory between evaluations."""

    async def next_alert_id(self) -> int:
        """A new short alert id, above every id handed out or stored. Ids are handed out
        before the alert is saved, so the engine's events can name it; an id whose cycle
        never commits is simply skipped."""
        ...

    async def last_alert_id(self) -> int:
        """The highest alert id handed out or stored, 0 if none: an engine that numbers
        its own alerts (one process) starts its counter after it."""
        ...

    async def get_alert(self, alert_id: int) -> AlertInstance | None: ...

    async def get_alerts(self, alert_ids: Sequence[int]) -> dict[int, AlertInstance]:
        """The alerts stored under those ids, by id (one read for many)."""
        ...

    async def list_alerts(
        self, *, open_only: bool = True, rule_id: str | None = None, limit: int | None = None
    ) -> list[AlertInstance]:
        """Newest first."""
        ...

    async def save_alert(self, alert: AlertInstance) -> AlertInstance:
        """Insert (version 0) or update (the version read); return it with its new version.

        Raises ConflictError if the stored version is not `alert.version` (someone else
        wrote first), the id exists, or another instance of its fingerprint is open.
        """
        ...

    async def list_dimension_states(self, rule_id: str) -> list[DimensionState]: ...

    async def replace_dimension_states(
        self, rule_id: str, states: Sequence[DimensionState]
    ) -> None:
        """The rule's dimension states become exactly `states`."""
        ...

    async def get_rule_health(self, rule_id: str) -> RuleHealth | None: ...

    async def list_rule_health(self) -> list[RuleHealth]: ...

    async def save_rule_health(self, health: RuleHealth) -> None: ...


class MuteOperations(Protocol):
    """Snoozes of one alert, or of a rule for some dimension values."""

    async def add_mute(self, mute: Mute) -> Mute:
        """Store a mute (its `id` is ignored) and return it with the id assigned."""
        ...

    async def list_mutes(self, *, now: datetime, rule_id: str | None = None) -> list[Mute]:
        """The mutes still active at `now`."""
        ...

    async def delete_mute(self, mute_id: int) -> bool: ...

    async def expire_mutes(self, *, now: datetime) -> list[Mute]:
        """Delete the mutes that ended at or before `now`, and return them."""
        ...


class ConversationOperations(Protocol):
    """Where the bot may post, and what each conversation wants to hear about."""

    async def upsert_conversation(self, ref: ConversationRef) -> None: ...

    async def get_conversation(self, conversation_id: str) -> ConversationRef | None: ...

    async def get_conversations(
        self, conversation_ids: Sequence[str]
    ) -> dict[str, ConversationRef]:
        """The conversations stored under those ids, by id (one read for many)."""
        ...

    async def list_conversations(self) -> list[ConversationRef]: ...

    async def delete_conversation(self, conversation_id: str) -> bool:
        """Prune a conversation the bot was removed from: its reference, its
        subscriptions, and its pending deliveries (marked failed)."""
        ...

    async def subscribe(self, subscription: Subscription) -> None:
        """Add, or replace the conversation's subscription to the same target.
        The conversation's reference must be stored first."""
        ...

    async def unsubscribe(self, conversation_id: str, target: str) -> bool: ...

    async def list_subscriptions(self, conversation_id: str | None = None) -> list[Subscription]:
        """One conversation's subscriptions, or everyone's."""
        ...

    async def find_subscribers(
        self, *, rule_id: str, category: str, severity: int
    ) -> list[Subscription]:
        """One matching subscription per conversation subscribed to the rule, its category
        or "all" (case-insensitive) at a `max_severity` of `severity` or above."""
        ...


class DigestOperations(Protocol):
    """Provisioning digest schedules, one per conversation (bot.health)."""

    async def save_digest(self, subscription: DigestSubscription) -> None:
        """Add or replace the conversation's schedule; its reference must be stored first."""
        ...

    async def delete_digest(self, conversation_id: str) -> bool: ...

    async def list_digests(self) -> list[DigestSubscription]: ...


class AuditOperations(Protocol):
    """The record of human actions."""

    async def append_audit(self, entry: AuditEntry) -> None: ...

    async def list_audit(
        self, *, alert_id: int | None = None, conversation_id: str | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        """The latest `limit` entries matching, oldest first."""
        ...


class ExternalOperations(Protocol):
    """Alerts raised by other monitoring systems (Azure Monitor): their notifications,
    the rules they are shown with, their ids there, and the state changes to write back."""

    async def record_notification(self, source: str, key: str, *, at: datetime) -> bool:
        """True the first time (source, key) is recorded; False for a repeat (a retry)."""
        ...

    async def save_external_rule(
        self, rule_id: str, *, source: str, definition: dict[str, Any], at: datetime
    ) -> None:
        """Insert or replace the definition (JSON) of the rule an external alert shows."""
        ...

    async def get_external_rule(self, rule_id: str) -> dict[str, Any] | None: ...

    async def list_external_rules(self) -> list[dict[str, Any]]: ...

    async def link_external_alert(self, link: ExternalLink) -> None: ...

    async def find_external_alert(self, source: str, external_id: str) -> ExternalLink | None: ...

    async def get_external_link(self, alert_id: int) -> ExternalLink | None: ...

    async def queue_writeback(
        self, link: ExternalLink, *, new_state: str, actor: str, at: datetime
    ) -> None:
        """Ask for `new_state` to be written back to where the alert came from."""
        ...

    async def claim_writebacks(
        self, *, now: datetime, owner: str, lease: timedelta, limit: int
    ) -> list[Writeback]:
        """Pending write-backs due by `now`, leased to `owner` (oldest first)."""
        ...

    async def finish_writeback(
        self, writeback_id: int, *, error: str | None, retry_at: datetime | None
    ) -> None:
        """Done (no error), to retry at `retry_at`, or failed for good (error, no retry)."""
        ...


class NoticeOperations(Protocol):
    """Notices to the person an event happened to (bot.notices), one per audit record."""

    async def known_notice_records(self, record_ids: Sequence[str]) -> set[str]:
        """Those of `record_ids` some notice already holds."""
        ...

    async def add_notice(self, notice: Notice) -> None:
        """Store a new notice and claim its events' record ids. ConflictError if one of
        them was claimed meanwhile (another replica): nothing of the transaction stays."""
        ...

    async def add_notice_events(
        self, notice_id: str, events: Sequence[NoticeEvent]
    ) -> Notice | None:
        """Add events to a stored, unanswered notice (grouped into it) and claim their
        record ids; the notice as it is now. None, adding nothing, when it was answered
        (an answered notice asks nothing more). The notice is locked until the transaction
        ends, so a delivery recorded meanwhile is either seen here or sees these events."""
        ...

    async def get_notice(self, notice_id: str) -> Notice | None: ...

    async def list_notices(
        self, *, person_key: str | None = None, since: datetime | None = None
    ) -> list[Notice]:
        """Oldest first."""
        ...

    async def answer_notice(
        self,
        notice_id: str,
        *,
        answer: Answer,
        at: datetime,
        alert_id: int | None,
        events: int | None = None,
    ) -> Notice | None:
        """Record the person's answer; the notice as answered (with every event it holds).
        None, changing nothing, if it was answered before or, with `events`, if it holds
        another number of events than that (more joined since the person's message showed
        `events`). The notice is locked until the transaction ends, so events joining
        meanwhile (add_notice_events) are either counted here or find it answered."""
        ...

    async def set_notice_delivery(
        self,
        notice_id: str,
        *,
        via: str,
        conversation_id: str | None,
        message_id: str | None,
        told_events: int,
    ) -> None:
        """How it reached the person, and how many of its events that told them."""
        ...

    async def set_notice_told(self, notice_id: str, told_events: int) -> None:
        """The person was told about its first `told_events` events (never lowered)."""
        ...

    async def claim_unanswered_notices(
        self, *, created_after: datetime, created_before: datetime, at: datetime, limit: int
    ) -> list[Notice]:
        """Notices created in (`created_after`, `created_before`] with no answer and no
        reminder yet, marked reminded `at` and returned (oldest first): each is claimed by
        one caller only, however many replicas ask at once (rows another transaction is
        claiming are passed over)."""
        ...


class StoreOperations(
    AlertOperations,
    MuteOperations,
    ConversationOperations,
    AuditOperations,
    OutboxOperations,
    ExternalOperations,
    DigestOperations,
    NoticeOperations,
    DeliveryStateOperations,
    Protocol,
):
    """Everything that can be read or written, alone or inside one transaction."""


class Store(StoreOperations, Protocol):
    """The store: each operation atomic on its own, or several in `transaction()`."""

    def transaction(self) -> AbstractAsyncContextManager[StoreOperations]:
        """Operations that commit together when the block ends, or not at all if it raises.

        A StoreError inside spoils the transaction (PostgreSQL refuses further statements):
        let it end the block, then re-read and try again in a new one."""
        ...

    async def load_rule_state(self, rule_id: str, *, now: datetime) -> RuleState:
        """The rule's open alerts, dimension states, health and active mutes, as of one
        moment (a concurrent `commit_cycle` is seen whole or not at all)."""
        ...

    async def commit_cycle(
        self,
        *,
        rule_id: str,
        alerts: Sequence[AlertInstance],
        dimension_states: Sequence[DimensionState],
        health: RuleHealth,
        outbox: Sequence[OutboxItem],
        slot_at: datetime | None = None,
        worker: str = "",
    ) -> list[AlertInstance]:
        """Write the result of one evaluation of a rule in one transaction: the alerts it
        created or changed (versions checked), its dimension states (replacing the old),
        its health, and the deliveries of the events it produced (idempotent). Returns
        the alerts as saved, with their new versions. On any error nothing is written.

        With `slot_at`, the evaluation of that slot is claimed first, in the same
        transaction: SlotTakenError if one already committed (or commits while this one
        waits for it), so each (rule, slot) is written once however many replicas try."""
        ...

    async def slot_evaluated(self, rule_id: str, slot_at: datetime) -> bool:
        """Whether an evaluation of the rule's slot has committed (a cheap check before
        querying; the claim in `commit_cycle` is what decides)."""
        ...

    async def ping(self) -> None:
        """Raise StoreUnavailableError unless the database answers (for /readyz)."""
        ...

    async def close(self) -> None: ...
