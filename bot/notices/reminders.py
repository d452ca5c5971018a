"""No answer to a notice within a set time: a low-severity reminder alert (off by default).

With ALERTBOT_NOTICES_REMINDER_MINUTES > 0, every minute each replica claims the notices
created more than that long ago that have no answer and no reminder yet (the store marks
them reminded in the same transaction: one replica gets each, once), and raises for each
an alert of the notice rule's *reminder rule*: the same category (Account security), Sev3,
"no answer" in its title and what to do in its remediation, with the notice's person and
events. It goes to the conversations subscribed to that category, like any alert.

Notices older than a day past the time are not reminded about, so turning reminders on
(or a long outage) does not send a wave of alerts about old notices.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Final

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.alerts.rule_model import Remediation, Rule
from bot.models import SYSTEM_ACTOR, AuditEntry, Clock
from bot.notices.answers import raise_notice_alert
from bot.notices.model import Notice
from bot.store.base import Store, StoreOperations

log = logging.getLogger(__name__)

CHECK_SECONDS: Final = 60
#: How much later than the reminder time a notice is still reminded about.
HORIZON: Final = timedelta(days=1)
#: Informational: a nudge to follow up, not an incident.
REMINDER_SEVERITY: Final = 3
BATCH: Final = 50
SUFFIX: Final = "-no-answer"


def reminder_rule(rule: Rule, after: timedelta) -> Rule:
    """The read-only rule a reminder about `rule`'s notices is shown and routed with."""
    minutes = int(after.total_seconds() // 60)
    return rule.model_copy(
        update={
            "id": f"{rule.id[: 64 - len(SUFFIX)].rstrip('-')}{SUFFIX}",
            "title": f"No answer: {rule.title}"[:120],
            "description": (
                f"The person was asked whether this change to their account was them and "
                f"has not answered within {minutes} minutes."
            ),
            "severity": REMINDER_SEVERITY,
            "notify_person": None,
            "remediation": Remediation(
                text=(
                    "Ask the person directly (by phone or in person, not by replying to a "
                    "message) whether the change was theirs. If they do not recognise it, "
                    "follow the steps for a compromised account: " + rule.remediation.text
                ),
                links=rule.remediation.links,
            ),
        }
    )


class NoticeReminders:
    """The periodic check (APScheduler interval job) and what one check does."""

    def __init__(
        self,
        *,
        store: Store,
        rules: Callable[[], Sequence[Rule]],
        clock: Clock,
        after: timedelta,
        on_rule: Callable[[Rule], None] = lambda rule: None,
        on_enqueued: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._rules = rules
        self._clock = clock
        self._after = after
        self._on_rule = on_rule
        self._on_enqueued = on_enqueued
        self._scheduler = AsyncIOScheduler(timezone="UTC")

    async def start(self) -> None:
        self.register_rules()
        self._scheduler.start()
        self._scheduler.add_job(
            self.run, IntervalTrigger(seconds=CHECK_SECONDS), coalesce=True, max_instances=1
        )

    async def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def register_rules(self) -> dict[str, Rule]:
        """The reminder rule of each notice rule, by the notice rule's id, made known to
        whoever shows alerts (every replica does this, so any can show the card)."""
        found = {
            rule.id: reminder_rule(rule, self._after)
            for rule in self._rules()
            if rule.notify_person is not None
        }
        for reminder in found.values():
            self._on_rule(reminder)
        return found

    async def run(self) -> int:
        try:
            return await self.check()
        except Exception:  # the job's one catch-all: logged, the next run tries again
            log.exception("notices: the reminder check failed")
            return 0

    async def check(self) -> int:
        """Raise the reminders due now; how many were raised."""
        now = self._clock()
        rules = self.register_rules()
        enqueued = raised = 0
        async with self._store.transaction() as tx:
            due = await tx.claim_unanswered_notices(
                created_after=now - self._after - HORIZON,
                created_before=now - self._after,
                at=now,
                limit=BATCH,
            )
            for notice in due:
                rule = rules.get(notice.rule_id)
                if rule is None:  # the rule was removed: nothing to say it with
                    log.warning("notices: no rule %s for notice %s", notice.rule_id, notice.id)
                    continue
                enqueued += await self._remind(tx, notice, rule)
                raised += 1
        if enqueued:
            self._on_enqueued()
        return raised

    async def _remind(self, tx: StoreOperations, notice: Notice, rule: Rule) -> int:
        now = self._clock()
        alert_id = await tx.next_alert_id()
        enqueued = await raise_notice_alert(
            tx, notice, rule, alert_id, now=now, actor=SYSTEM_ACTOR, actor_name=None,
            note="No answer yet",
        )  # fmt: skip
        await tx.append_audit(
            AuditEntry(
                at=now,
                actor=SYSTEM_ACTOR,
                action="notice.reminder",
                detail=f"notice {notice.id} for {notice.person.label}: no answer, alert {alert_id}",
            )
        )
        log.info(
            "notices: no answer from %s to notice %s: alert %s to %d conversation(s)",
            notice.person.label,
            notice.id,
            alert_id,
            enqueued,
        )
        return enqueued
