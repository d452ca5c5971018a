"""Digest schedules on APScheduler: one cron job per subscribed conversation, in its time zone.

`refresh()` re-reads the subscriptions from the store (on start, after a `digest` command,
and every REFRESH_SECONDS, so a schedule saved by another replica is picked up) and
replaces the cron jobs that changed. A run enqueues the period's digest through the outbox
(bot.health.delivery); the outbox key makes it once per (conversation, period) whichever
replica runs it. A run that was missed (the bot was down at 08:00) runs on the next start
if its period's digest was not sent: `catch_up()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Final, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.health.delivery import send_digest
from bot.health.schedule import WEEKDAYS, schedule_of
from bot.health.service import HealthService
from bot.models import Clock, DigestSubscription
from bot.store.base import DigestOperations, OutboxOperations

log = logging.getLogger(__name__)

REFRESH_SECONDS: Final = 60
_REFRESH_JOB: Final = "digest-refresh"


class DigestStore(DigestOperations, OutboxOperations, Protocol):
    """What the digest scheduler reads and writes."""


class DigestScheduler:
    def __init__(
        self,
        *,
        store: DigestStore,
        health: HealthService,
        clock: Clock,
        on_enqueued: Callable[[], None] | None = None,
    ) -> None:
        self._store, self._health, self._clock = store, health, clock
        self._on_enqueued = on_enqueued
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._jobs: dict[str, DigestSubscription] = {}

    async def start(self) -> None:
        self._scheduler.start()
        self._scheduler.add_job(
            self.refresh, IntervalTrigger(seconds=REFRESH_SECONDS), id=_REFRESH_JOB
        )
        await self.refresh()

    async def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def refresh(self) -> None:
        """Cron jobs for the stored subscriptions: new ones added, changed ones replaced."""
        wanted = {sub.conversation_id: sub for sub in await self._store.list_digests()}
        for conversation_id in set(self._jobs) - set(wanted):
            self._scheduler.remove_job(_job_id(conversation_id))
            del self._jobs[conversation_id]
        for conversation_id, sub in wanted.items():
            if self._jobs.get(conversation_id) == sub:
                continue
            self._scheduler.add_job(
                self.run,
                cron_trigger(sub),
                args=[sub],
                id=_job_id(conversation_id),
                replace_existing=True,
                misfire_grace_time=3600,
                coalesce=True,
            )
            self._jobs[conversation_id] = sub
            log.info("digest for %s: %s", conversation_id, schedule_of(sub).describe())

    async def run(self, subscription: DigestSubscription) -> bool:
        """Enqueue the current period's digest (once: the outbox key decides)."""
        try:
            sent = await send_digest(self._store, self._health, subscription, now=self._clock())
        except Exception:
            log.exception("digest for %s failed", subscription.conversation_id)
            return False
        if sent and self._on_enqueued is not None:
            self._on_enqueued()
        return sent

    async def catch_up(self) -> int:
        """Enqueue every subscription's latest period's digest that is not in the outbox yet."""
        return sum([await self.run(sub) for sub in await self._store.list_digests()])

    def next_run(self, conversation_id: str) -> datetime | None:
        job = self._scheduler.get_job(_job_id(conversation_id))
        return None if job is None else job.next_run_time


def cron_trigger(subscription: DigestSubscription) -> CronTrigger:
    schedule = schedule_of(subscription)
    day = WEEKDAYS[schedule.weekday] if schedule.weekday is not None else "*"
    return CronTrigger(
        day_of_week=day, hour=schedule.at.hour, minute=schedule.at.minute, timezone=schedule.zone
    )


def _job_id(conversation_id: str) -> str:
    return f"digest:{conversation_id}"
