"""APScheduler glue: one interval job per rule, on the rule's slots, limited, never overlapping.

What to decide is pure and tested on its own: `first_run_delay` (when a rule first runs
after a start, a restart or a reload) and `trigger_jitter`; the slots themselves are
bot.alerts.slots. RuleScheduler only wires them into an AsyncIOScheduler:

- one job per enabled rule, on the rule's slots (every `frequency`, at an offset within
  the period that is the same on every replica), with up to `trigger_jitter` seconds
  added to each run, so rules and replicas that are due together drift apart;
- each run evaluates as of its slot, not of the moment it fired: every replica computes
  the same events, and the store lets one evaluation per (rule, slot) commit;
- after a start, a restart or downtime, a rule whose current slot was not evaluated
  (RuleHealth.last_evaluated_at) runs soon (spread over at most `spread`), and once:
  missed slots are not replayed (coalesce); otherwise at its next slot;
- at most `max_concurrent` evaluations at a time (Log Analytics runs 5 queries per
  principal), never two of one rule (max_instances=1); a run that starts late by up to a
  frequency still runs (misfire_grace_time);
- a job listener is the one place a failed run is reported, with its rule id.

APScheduler keeps its own time on the wall clock; only delays cross over. The evaluation
time is the injected clock's (the demo workspace's clock in the demo).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.alerts.rule_model import Rule
from bot.alerts.slots import slot_at, slot_offset
from bot.models import Clock, RuleHealth

log = logging.getLogger(__name__)

#: Evaluate one rule as of a time (the pipeline's `evaluate`).
Evaluate = Callable[[Rule, datetime], Awaitable[object]]

#: Jitter added to each run: a tenth of the frequency, at most a minute. The lifecycle
#: tolerates up to half a frequency (reminders), so this never costs a period.
JITTER_FRACTION: Final = 0.1
MAX_JITTER: Final = timedelta(minutes=1)
DEFAULT_SPREAD: Final = timedelta(minutes=1)


def first_run_delay(
    *,
    frequency: timedelta,
    last_evaluated_at: datetime | None,
    now: datetime,
    spread: timedelta,
    offset: float,
    slot_offset: timedelta = timedelta(0),
) -> timedelta:
    """How long after `now` a rule should first run. Pure: `offset` in [0, 1) is the random part.

    Its current slot (the latest at or before `now`) never evaluated, e.g. after downtime:
    soon, at `offset` of min(frequency, spread). Otherwise: at its next slot. A last
    evaluation in the future (a demo clock restarted at the same moment) counts as now.
    """
    current = slot_at(now, frequency=frequency, offset=slot_offset)
    if last_evaluated_at is None or last_evaluated_at < current:
        return min(frequency, spread) * offset
    return current + frequency - now


def trigger_jitter(frequency: timedelta) -> float:
    """Seconds of random delay APScheduler adds to each run of a rule."""
    return min(frequency * JITTER_FRACTION, MAX_JITTER).total_seconds()


@dataclass(frozen=True, slots=True)
class RuleChanges:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    def __str__(self) -> str:
        parts = [f"{name} {', '.join(ids)}" for name, ids in self._parts() if ids]
        return "; ".join(parts) or "no changes"

    def _parts(self) -> list[tuple[str, tuple[str, ...]]]:
        return [("added", self.added), ("removed", self.removed), ("changed", self.changed)]


class RuleScheduler:
    """Runs each enabled rule on its schedule until stopped."""

    def __init__(
        self,
        *,
        evaluate: Evaluate,
        clock: Clock,
        max_concurrent: int = 5,
        spread: timedelta = DEFAULT_SPREAD,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._evaluate = evaluate
        self._clock = clock
        self._slots = asyncio.Semaphore(max_concurrent)
        self._spread = spread
        self._rand = rand
        self._rules: dict[str, Rule] = {}
        self._scheduler: AsyncIOScheduler | None = None
        self._in_flight: set[asyncio.Task[object]] = set()

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    @property
    def rules(self) -> Mapping[str, Rule]:
        return dict(self._rules)

    def next_runs(self) -> dict[str, datetime]:
        """Each rule's next run time (wall clock), for logs and tests."""
        if self._scheduler is None:
            return {}
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs()}

    def start(self, rules: Sequence[Rule], health: Mapping[str, RuleHealth]) -> None:
        # The listener below reports failed, missed and skipped runs with the rule id;
        # APScheduler's own lines for the same (and one per run) would only repeat it.
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        logging.getLogger("apscheduler.executors").setLevel(logging.CRITICAL)
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_listener(
            self._on_job_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
        )
        self._scheduler.start()
        self.set_rules(rules, health)
        log.info("scheduler started: %d rules", len(self._rules))

    def set_rules(self, rules: Sequence[Rule], health: Mapping[str, RuleHealth]) -> RuleChanges:
        """Make the jobs match `rules`: add, remove, and reschedule those whose frequency
        changed. A run in progress finishes with the rule it started with."""
        wanted = {rule.id: rule for rule in rules if rule.enabled}
        old = self._rules
        changes = RuleChanges(
            added=tuple(sorted(wanted.keys() - old.keys())),
            removed=tuple(sorted(old.keys() - wanted.keys())),
            changed=tuple(sorted(i for i in wanted.keys() & old.keys() if wanted[i] != old[i])),
        )
        self._rules = wanted
        for rule_id in changes.removed:
            self._remove_job(rule_id)
        for rule_id in (*changes.added, *changes.changed):
            rule = wanted[rule_id]
            if rule_id in old and old[rule_id].frequency == rule.frequency:
                continue  # the job looks the rule up when it runs
            self._add_job(rule, health.get(rule_id))
        return changes

    async def stop(self, *, grace: float = 10.0) -> None:
        """Start no more runs; let those in progress finish (up to `grace` s), then stop."""
        if self._scheduler is None:
            return
        self._scheduler.pause()
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=grace)
        self._scheduler.shutdown(wait=False)  # cancels what is still running
        self._scheduler = None
        await asyncio.sleep(0)  # let the shutdown, which APScheduler defers, happen

    def _add_job(self, rule: Rule, health: RuleHealth | None) -> None:
        assert self._scheduler is not None, "start() first"
        now = self._clock()
        offset = self._slot_offset(rule)
        delay = first_run_delay(
            frequency=rule.frequency,
            last_evaluated_at=health.last_evaluated_at if health else None,
            now=now,
            spread=self._spread,
            offset=self._rand(),
            slot_offset=offset,
        )
        seconds = rule.frequency.total_seconds()
        # APScheduler's time axis is the wall clock: only delays cross over.
        wall = datetime.now(UTC)
        next_slot = slot_at(now, frequency=rule.frequency, offset=offset) + rule.frequency
        trigger = IntervalTrigger(
            seconds=seconds,
            start_date=wall + (next_slot - now),
            jitter=trigger_jitter(rule.frequency),
            timezone=UTC,
        )
        self._scheduler.add_job(
            self._run,
            trigger,
            next_run_time=wall + delay,
            args=[rule.id],
            id=rule.id,
            name=rule.id,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(seconds)),
        )

    def _slot_offset(self, rule: Rule) -> timedelta:
        return slot_offset(rule.id, frequency=rule.frequency, spread=self._spread)

    def _remove_job(self, rule_id: str) -> None:
        if self._scheduler is not None and self._scheduler.get_job(rule_id) is not None:
            self._scheduler.remove_job(rule_id)

    async def _run(self, rule_id: str) -> None:
        rule = self._rules.get(rule_id)
        if rule is None:
            return  # removed by a reload while this run waited
        task = asyncio.current_task()
        assert task is not None
        self._in_flight.add(task)
        try:
            at = slot_at(self._clock(), frequency=rule.frequency, offset=self._slot_offset(rule))
            async with self._slots:
                await self._evaluate(rule, at)
        finally:
            self._in_flight.discard(task)

    def _on_job_event(self, event: JobEvent) -> None:
        """The one catch-all of the scheduler's edge: every failed run, with its rule id."""
        if event.code == EVENT_JOB_ERROR and isinstance(event, JobExecutionEvent):
            log.error("rule %s: the evaluation failed", event.job_id, exc_info=event.exception)
        elif event.code == EVENT_JOB_MISSED:
            log.warning(
                "rule %s: a run was missed (the bot was too busy); next run as planned",
                event.job_id,
            )
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning("rule %s: still running from last time; this run is skipped", event.job_id)
