"""Reaching the person a notice is for: each way in order until one works.

The outbox carries a notice's delivery like an alert card (at least once, leased, retried).
`NoticeNotifier` takes the outbox items of notices (AlertEventKind.NOTICE) and hands every
other item to the notifier it wraps. For a notice it tries each `Reach` in order: the Teams
1:1 chat the bot already has, a 1:1 chat created through the Bot Connector, the Teams app
installed for the person through Microsoft Graph, Slack (when configured), email. Each
failure is logged with its reason and the next way is tried; the first that works is
recorded on the notice (so a redelivery after a crash sends nothing again). When every
way failed and one of them may work later (throttled, busy, no answer), the delivery is
retried; otherwise it fails for good (logged: nothing can reach the person).

Events that join a notice already delivered (bot.notices.intake) come as an outbox item
of their own (AlertEventKind.NOTICE_UPDATE), filed after the delivery: the way that
delivered the notice brings the person's message up to date (`Reach.update`: Teams and
Slack edit the message in place; mail cannot be edited, so email sends a short follow-up
with the added events). The notice records how many of its events the person was told
about (`told_events`), so a redelivered update, or one the message already shows,
changes nothing. Events that joined while the delivery was in flight are caught by the
delivery itself: it enqueues the update when the notice holds more than it showed.

Slack direct messages are one more `Reach` (name "slack", bot.channels.slack.notices),
between Teams and email when Slack is configured: users.lookupByEmail with the person's
UPN, conversations.open with their user id, chat.postMessage of the NoticeView rendered as
Block Kit; `users_not_found` is Unreachable, `ratelimited` is Unreachable(later). This
package never imports Slack: app.py hands the reach in (bot.notice_wiring).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.alerts.rule_model import Rule
from bot.models import SYSTEM_ACTOR, AlertEventKind, AuditEntry, Clock, OutboxItem
from bot.notices.intake import notice_update
from bot.notices.model import Notice
from bot.notices.view import notice_view
from bot.notify.base import DeliveryResult, Notifier
from bot.store.base import AuditOperations, NoticeOperations, OutboxOperations
from bot.views.notice import NoticeView

log = logging.getLogger(__name__)


class Unreachable(Exception):  # noqa: N818 - an outcome, not a bug
    """This way cannot reach the person (not configured for them, refused, blocked)."""

    def __init__(self, reason: str, *, later: bool = False, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        #: It may work later (throttled, busy, no answer).
        self.later = later
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Reached:
    """Where the notice went: the way's name, and the chat message when there is one."""

    via: str
    conversation_id: str | None = None
    message_id: str | None = None


class Reach(Protocol):
    """One way to reach a person; raises Unreachable when it cannot."""

    name: str

    async def send(self, notice: Notice, view: NoticeView) -> Reached: ...

    async def update(self, notice: Notice, view: NoticeView) -> None:
        """Bring the message this way delivered (the notice's conversation_id and
        message_id) up to `view`, which shows events the person was not told about yet
        (`notice.untold`). Idempotent for chat (the message is replaced); mail, which
        cannot be edited, sends a follow-up with the untold events."""
        ...


class NoticeStore(NoticeOperations, AuditOperations, OutboxOperations, Protocol):
    """What delivering a notice reads and writes."""


class NoticeNotifier:
    """A Notifier: notices through the ways to reach people, other items to `others`."""

    def __init__(
        self,
        *,
        others: Notifier,
        reaches: Sequence[Reach],
        store: NoticeStore,
        rules: Callable[[], Sequence[Rule]],
        clock: Clock,
    ) -> None:
        self._others = others
        self._reaches = tuple(reaches)
        self._store = store
        self._rules = rules
        self._clock = clock

    @property
    def ways(self) -> tuple[str, ...]:
        return tuple(reach.name for reach in self._reaches)

    async def deliver(self, item: OutboxItem) -> DeliveryResult:
        if item.event.kind not in (AlertEventKind.NOTICE, AlertEventKind.NOTICE_UPDATE):
            return await self._others.deliver(item)
        notice = await self._store.get_notice(item.event.detail or "")
        if notice is None:
            return DeliveryResult.permanent_failure(f"notice {item.event.detail} is gone")
        if item.event.kind is AlertEventKind.NOTICE_UPDATE:
            return await self._update(notice)
        if notice.delivered_via is not None:  # sent before a crash: not again
            return DeliveryResult.sent(notice.message_id)
        return await self._try_each(notice)

    async def _update(self, notice: Notice) -> DeliveryResult:
        """The person's message brought up to the notice's events, by the way that
        delivered it; nothing when it shows them already (or it was never delivered)."""
        if notice.delivered_via is None or not notice.untold:
            return DeliveryResult.sent(notice.message_id)
        reach = next((r for r in self._reaches if r.name == notice.delivered_via), None)
        if reach is None:
            reason = f"notice {notice.id}: {notice.delivered_via} is no longer a way to reach"
            log.error("notices: %s; %d event(s) not shown", reason, len(notice.untold))
            return DeliveryResult.permanent_failure(reason)
        try:
            await reach.update(notice, self.view(notice, now=self._clock()))
        except Unreachable as failure:
            log.warning(
                "notices: notice %s for %s: updating via %s failed: %s",
                notice.id,
                notice.person.label,
                reach.name,
                failure.reason,
            )
            reason = f"{reach.name}: {failure.reason}"
            if failure.later:
                return DeliveryResult.retry_after(failure.retry_after, reason=reason)
            return DeliveryResult.permanent_failure(reason)
        await self._store.set_notice_told(notice.id, len(notice.events))
        await self._audit(
            notice,
            "notice.updated",
            notice.conversation_id,
            f"{len(notice.untold)} more event(s) via {reach.name}",
        )
        return DeliveryResult.sent(notice.message_id)

    async def _try_each(self, notice: Notice) -> DeliveryResult:
        view = self.view(notice, now=self._clock())
        reasons: list[str] = []
        later: list[Unreachable] = []
        for reach in self._reaches:
            try:
                reached = await reach.send(notice, view)
            except Unreachable as failure:
                log.warning(
                    "notices: notice %s for %s: %s failed: %s%s",
                    notice.id,
                    notice.person.label,
                    reach.name,
                    failure.reason,
                    "; trying the next way" if reach is not self._reaches[-1] else "",
                )
                reasons.append(f"{reach.name}: {failure.reason}")
                if failure.later:
                    later.append(failure)
                continue
            await self._record(notice, reached)
            await self._catch_up(notice)
            return DeliveryResult.sent(reached.message_id)
        reason = "; ".join(reasons) or "no way to reach people is configured"
        if later:
            waits = [f.retry_after for f in later if f.retry_after is not None]
            return DeliveryResult.retry_after(max(waits) if waits else None, reason=reason)
        log.error("notices: notice %s: nothing reaches %s", notice.id, notice.person.label)
        return DeliveryResult.permanent_failure(reason)

    def view(self, notice: Notice, *, now: datetime) -> NoticeView:
        return notice_view_for(notice, self._rules(), now=now)

    async def _record(self, notice: Notice, reached: Reached) -> None:
        await self._store.set_notice_delivery(
            notice.id,
            via=reached.via,
            conversation_id=reached.conversation_id,
            message_id=reached.message_id,
            told_events=len(notice.events),
        )
        detail = f"to {notice.person.label} via {reached.via}"
        await self._audit(notice, "notice.sent", reached.conversation_id, detail)
        log.info(
            "notices: notice %s reached %s via %s", notice.id, notice.person.label, reached.via
        )

    async def _catch_up(self, notice: Notice) -> None:
        """Events that joined while it was being delivered (the intake saw no delivery
        yet, so it enqueued no update): the update goes next, after this item."""
        fresh = await self._store.get_notice(notice.id)
        if fresh is None or not fresh.untold:
            return
        log.info("notices: notice %s: %d event(s) joined meanwhile", notice.id, len(fresh.untold))
        await self._store.enqueue([notice_update(fresh, self._clock())])

    async def _audit(
        self, notice: Notice, action: str, conversation_id: str | None, detail: str
    ) -> None:
        await self._store.append_audit(
            AuditEntry(
                at=self._clock(),
                actor=SYSTEM_ACTOR,
                action=action,
                conversation_id=conversation_id,
                detail=f"notice {notice.id} {detail}",
            )
        )


def notice_view_for(notice: Notice, rules: Sequence[Rule], *, now: datetime) -> NoticeView:
    """The notice's view with its rule's title and buttons (defaults if the rule is gone)."""
    rule = next((r for r in rules if r.id == notice.rule_id), None)
    spec = rule.notify_person if rule is not None else None
    title = spec.title if spec is not None else "Was this you?"
    buttons: tuple[str, ...] = spec.buttons if spec is not None else ("was_me", "not_me")
    return notice_view(notice, title=title, buttons=buttons, now=now)
