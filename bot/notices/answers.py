"""The person answers their notice: "This was me" is recorded; "This wasn't me" raises an
alert of the notice's rule (its severity and category) for the subscribed channels, with
the person, the events, who initiated them and from which addresses, and the first steps
(the rule's remediation). Both answers are audited, in the same transaction as the answer.

Only the person the notice is for may answer (a forwarded card pressed by someone else is
refused, audited, and the card stays as it is): the caller's Entra object id, or the email
their chat platform vouches for (Slack), must be the notice's person's. A second answer
changes nothing and shows the first.

"This was me" covers only the events the person saw. Each button carries how many events
its message showed (`EVENTS_SHOWN`); when more have joined since (the update has not
reached their screen yet, or they pressed an older copy), the answer is not recorded: it
is audited (notice.stale), the pressed message is replaced by the notice with every event,
and a short line asks them to look again. "This wasn't me" is taken however many events
the message showed (the safe direction): the alert holds every event. A button without
the count (a message sent before buttons carried it) is taken to show what the person was
told last (`Notice.told_events`); 0 for a notice delivered before that was recorded, so
such a "This was me" is asked again once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from bot import messages
from bot.alerts.rule_model import Rule
from bot.commands.base import Caller, Reply
from bot.models import (
    AlertEvent,
    AlertEventKind,
    AlertInstance,
    AlertStatus,
    AuditEntry,
    Clock,
    Transition,
    fingerprint,
)
from bot.notices.delivery import notice_view_for
from bot.notices.model import EVENTS_SHOWN, NOT_ME, WAS_ME, Answer, Notice
from bot.store.base import Store, StoreOperations, new_outbox_item

log = logging.getLogger(__name__)

ANSWERS: Final = {WAS_ME: Answer.WAS_ME, NOT_ME: Answer.NOT_ME}
NOT_YOURS: Final = "This notice is about someone else's account: only they can answer it."
GONE: Final = "This notice is no longer known."


class NoticeAnswers:
    """The handlers of a notice's two buttons (router read-only actions: any person in an
    allowed tenant may press; the notice itself decides who may answer)."""

    def __init__(
        self,
        *,
        store: Store,
        rules: Callable[[], Sequence[Rule]],
        clock: Clock,
        on_enqueued: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._rules = rules
        self._clock = clock
        self._on_enqueued = on_enqueued

    def actions(self) -> dict[str, Callable[[Caller, Mapping[str, Any]], Any]]:
        return {verb: self._handler(answer) for verb, answer in ANSWERS.items()}

    def _handler(self, answer: Answer) -> Callable[[Caller, Mapping[str, Any]], Any]:
        async def handle(caller: Caller, data: Mapping[str, Any]) -> Reply:
            notice_id = str(data.get("notice_id", ""))
            return await self.answer(caller, notice_id, answer, shown=events_shown(data))

        return handle

    async def answer(
        self, caller: Caller, notice_id: str, answer: Answer, *, shown: int | None = None
    ) -> Reply:
        """`shown`: how many events the pressed message showed (None: not known, see the
        module docstring)."""
        notice = await self._store.get_notice(notice_id)
        if notice is None:
            return Reply(text=GONE)
        if not is_their_notice(caller, notice):
            log.warning(
                "notices: %s pressed %s on notice %s, which is for %s: refused",
                caller.user_id,
                answer.value,
                notice.id,
                notice.person.label,
            )
            await self._store.append_audit(
                _entry(caller, notice, "notice.refused", self._clock(), "not their notice")
            )
            return Reply(text=NOT_YOURS)
        seen = Seen(notice.told_events if shown is None else shown, counted=shown is not None)
        if notice.answer is None:
            await self._record(caller, notice, answer, seen)
        fresh = await self._store.get_notice(notice.id) or notice
        if fresh.answer is None:  # not recorded: "This was me" on fewer events than it holds
            return await self._ask_again(caller, fresh, answer, seen)
        return Reply(view=notice_view_for(fresh, self._rules(), now=self._clock()))

    async def _record(self, caller: Caller, notice: Notice, answer: Answer, seen: Seen) -> None:
        """The answer recorded (with its alert); nothing when it was answered meanwhile
        (another press, another replica) or "This was me" would cover unseen events."""
        now = self._clock()
        rule = next((r for r in self._rules() if r.id == notice.rule_id), None)
        alert_id = await self._store.next_alert_id() if answer is Answer.NOT_ME else None
        covers = seen.events if answer is Answer.WAS_ME else None
        async with self._store.transaction() as tx:
            answered = await tx.answer_notice(
                notice.id, answer=answer, at=now, alert_id=alert_id, events=covers
            )
            if answered is None:
                return
            enqueued = 0
            if alert_id is not None:
                enqueued = await raise_notice_alert(
                    tx,
                    answered,
                    rule,
                    alert_id,
                    now=now,
                    actor=caller.user_id,
                    actor_name=caller.name,
                    note="This wasn't me",
                )
            detail = f"alert {alert_id}" if alert_id is not None else "recorded"
            if seen.events < len(answered.events):
                detail += f" ({seen.describe(len(answered.events))})"
            await tx.append_audit(_entry(caller, notice, f"notice.{answer.value}", now, detail))
        log.info(
            "notices: %s answered %s on notice %s%s",
            notice.person.label,
            answer.value,
            notice.id,
            f": alert {alert_id} to {enqueued} conversation(s)" if alert_id else "",
        )
        if enqueued:
            self._on_enqueued()

    async def _ask_again(self, caller: Caller, notice: Notice, answer: Answer, seen: Seen) -> Reply:
        """Not recorded: the pressed message is replaced by the notice with every event."""
        now = self._clock()
        shown = seen.describe(len(notice.events))
        log.info(
            "notices: %s pressed %s on notice %s, %s: asked again",
            notice.person.label,
            answer.value,
            notice.id,
            shown,
        )
        detail = f"{answer.value} not recorded: {shown}; shown again with every event"
        await self._store.append_audit(_entry(caller, notice, "notice.stale", now, detail))
        view = notice_view_for(notice, self._rules(), now=now)
        return Reply(text=messages.notice_changed(), view=view)


@dataclass(frozen=True, slots=True)
class Seen:
    """How many events the pressed message showed: counted by its button, or (a button
    without the count) taken to be what the person was told last."""

    events: int
    counted: bool

    def describe(self, total: int) -> str:
        how = "" if self.counted else " (its button has no count: taken as told)"
        return f"the message showed {self.events} of {total} events{how}"


def events_shown(data: Mapping[str, Any]) -> int | None:
    """How many events the pressed message showed, if its button says (a count >= 0)."""
    value = data.get(EVENTS_SHOWN)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def is_their_notice(caller: Caller, notice: Notice) -> bool:
    """The caller is the person: their Entra object id is the notice's, or (Slack, where
    the notice was found by the UPN as email) the email their channel vouches for is the
    notice's UPN."""
    principal = caller.principal
    caller_id = (principal.entra_object_id or "").lower()
    if caller_id and caller_id == (notice.person.object_id or "").lower():
        return True
    email = (principal.email or "").lower()
    return bool(email) and email == (notice.person.upn or "").lower()


async def raise_notice_alert(
    tx: StoreOperations,
    notice: Notice,
    rule: Rule | None,
    alert_id: int,
    *,
    now: datetime,
    actor: str,
    actor_name: str | None,
    note: str,
) -> int:
    """An alert of `rule` about the notice ("This wasn't me", or no answer: a reminder)
    and its deliveries to the subscribed conversations; how many it goes to."""
    rule_id = rule.id if rule is not None else notice.rule_id
    dimensions = {"Person": notice.person.label, "Notice": notice.id}
    alert = AlertInstance(
        id=alert_id,
        fingerprint=fingerprint(rule_id, dimensions),
        rule_id=rule_id,
        dimensions=dimensions,
        status=AlertStatus.FIRING,
        value=float(len(notice.events)),
        threshold=rule.threshold if rule is not None else 0.0,
        opened_at=now,
        last_evaluated_at=now,
        last_notified_at=now,
        notify_count=1,
        evidence=_evidence(notice),
        history=[
            Transition(
                at=now,
                from_status=None,
                to_status=AlertStatus.FIRING,
                actor=actor,
                actor_name=actor_name,
                note=note,
            )
        ],
    )
    saved = await tx.save_alert(alert)
    if rule is None:
        return 0
    event = AlertEvent(kind=AlertEventKind.FIRED, at=now, rule_id=rule_id, alert=saved)
    subscribers = await tx.find_subscribers(
        rule_id=rule_id, category=rule.category, severity=rule.severity
    )
    items = [
        new_outbox_item(event, conversation_id=s.conversation_id, channel=s.channel, not_before=now)
        for s in subscribers
    ]
    return len(await tx.enqueue(items))


def _evidence(notice: Notice) -> list[dict[str, Any]]:
    """What the responders need, and no more than the audit records held."""
    return [
        {
            "Time": event.at.isoformat(),
            "Person": notice.person.label,
            "Activity": event.activity,
            "InitiatedBy": event.initiated_by or "",
            "IpAddress": event.ip_address or "",
            "RecordId": event.record_id,
        }
        for event in notice.events
    ]


def _entry(caller: Caller, notice: Notice, action: str, at: datetime, detail: str) -> AuditEntry:
    return AuditEntry(
        at=at,
        actor=caller.user_id,
        actor_name=caller.name,
        action=action,
        conversation_id=caller.conversation_id,
        detail=f"notice {notice.id} for {notice.person.label}: {detail}",
    )
