"""The everyday AADProvisioningLogs: jobs running in cycles, joiners and leavers flowing downstream.

Invariants the alert scenarios rely on (checked by the tests):
- every cycle logs at least one change, and cycles are at most ~42 minutes apart;
- a job fails at most once per 12-hour block counted back from `now`, so any 24 h
  holds at most 3 background failures per job;
- Disable/Delete come only from leavers: at most 2 leavers per weekday, each giving at
  most 2 such rows (Disable, or Delete on-premises, at the source; Disable in one SCIM
  app; a cross-tenant copy is StagedDelete), so any 24 h holds <= 8.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bot.workspace.demo.catalog import Catalog, JobDef, Person, SizeProfile
from bot.workspace.demo.provisioning_rows import Change
from bot.workspace.demo.provisioning_text import ERRORS_BY_KIND
from bot.workspace.demo.timeline import (
    Timeline,
    activity_factor,
    business_time,
    guid,
    poisson,
    stream,
)

FAILURE_BLOCK: Final = timedelta(hours=12)
_FAILURE_CHANCE: Final = 0.35
_ROW_SPREAD_S: Final = (5.0, 240.0)  # rows of a cycle land this many seconds after its start
_LEAVERS_PER_WEEKDAY: Final = (0, 0, 1, 1, 2)


@dataclass(frozen=True, slots=True)
class Cycle:
    job: JobDef
    start: datetime
    id: str


@dataclass(frozen=True)
class JobPlan:
    """What the planted scenarios change about a job's background."""

    stop_at: datetime | None = None  # silent from here on: no row at or after it
    failure_free_since: datetime | None = None  # no background failures from here on
    paused: tuple[tuple[datetime, datetime], ...] = ()  # no cycle starts in these spans

    def runs_at(self, t: datetime) -> bool:
        return not any(start <= t < end for start, end in self.paused)


@dataclass(frozen=True)
class Cycles:
    """Every job's cycles, with lookup of the first cycle at or after a time."""

    by_job: dict[str, list[Cycle]]

    def next(self, job: JobDef, t: datetime) -> Cycle | None:
        cycles = self.by_job[job.key]
        index = bisect.bisect_left(cycles, t, key=lambda c: c.start)
        return cycles[index] if index < len(cycles) else None

    def between(self, job: JobDef, start: datetime, end: datetime) -> list[Cycle]:
        return [c for c in self.by_job[job.key] if start <= c.start < end]


def row_time(rng: random.Random, cycle: Cycle) -> datetime:
    return cycle.start + timedelta(seconds=rng.uniform(*_ROW_SPREAD_S))


def schedule(catalog: Catalog, timeline: Timeline, seed: int, plans: dict[str, JobPlan]) -> Cycles:
    """Cycles every `cycle_minutes` (+ up to 90 s jitter) from before the history to now."""
    return Cycles(
        {
            job.key: _job_cycles(job, timeline, seed, plans.get(job.key, JobPlan()))
            for job in catalog.jobs
        }
    )


def _job_cycles(job: JobDef, timeline: Timeline, seed: int, plan: JobPlan) -> list[Cycle]:
    rng = stream(seed, f"cycles:{job.key}")
    stop = plan.stop_at
    end = stop - timedelta(seconds=_ROW_SPREAD_S[1]) if stop else timeline.now
    t = timeline.start - timedelta(minutes=job.phase_minutes)
    cycles = []
    while t < end:
        start = t + timedelta(seconds=rng.uniform(0, 90))
        cycle_id = guid(rng)
        if start < end and plan.runs_at(start):
            cycles.append(Cycle(job, start, cycle_id))
        t += timedelta(minutes=job.cycle_minutes)
    return cycles


def populations(catalog: Catalog, seed: int) -> dict[str, tuple[Person, ...]]:
    """Who each job provisions (stable per seed)."""
    result = {}
    for job in catalog.jobs:
        rng = stream(seed, f"scope:{job.key}")
        result[job.key] = tuple(p for p in catalog.people if _in_scope(job, p, rng.random()))
    return result


def _in_scope(job: JobDef, person: Person, roll: float) -> bool:
    if job.kind == "hr_inbound":
        return not person.from_ad
    if job.kind == "onprem_ad":
        return person.from_ad
    if job.key == "salesforce":
        return person.department == "Sales" or roll < job.scope / 3
    return roll < job.scope


def background_changes(
    catalog: Catalog,
    timeline: Timeline,
    cycles: Cycles,
    people: dict[str, tuple[Person, ...]],
    *,
    seed: int,
    profile: SizeProfile,
    plans: dict[str, JobPlan],
) -> list[Change]:
    changes: list[Change] = []
    for job in catalog.jobs:
        rng = stream(seed, f"background:{job.key}")
        job_cycles = cycles.by_job[job.key]
        failing = _failure_cycles(job_cycles, timeline, rng, plans.get(job.key, JobPlan()))
        mean = profile.rows_per_cycle * job.volume
        for index, cycle in enumerate(job_cycles):
            changes.extend(_cycle(cycle, rng, people[job.key], catalog, mean, index in failing))
    changes.extend(_lifecycle(catalog, timeline, cycles, people, stream(seed, "lifecycle")))
    return changes


def _failure_cycles(
    cycles: list[Cycle], timeline: Timeline, rng: random.Random, plan: JobPlan
) -> set[int]:
    """At most one failing cycle per 12 h block counted back from now."""
    blocks: dict[int, list[int]] = {}
    for index, cycle in enumerate(cycles):
        if plan.failure_free_since is None or cycle.start < plan.failure_free_since:
            blocks.setdefault(int((timeline.now - cycle.start) / FAILURE_BLOCK), []).append(index)
    return {
        rng.choice(indices)
        for _, indices in sorted(blocks.items())
        if rng.random() < _FAILURE_CHANCE
    }


def _cycle(
    cycle: Cycle,
    rng: random.Random,
    people: tuple[Person, ...],
    catalog: Catalog,
    mean: float,
    fail: bool,
) -> Iterator[Change]:
    count = max(1, poisson(rng, mean * activity_factor(cycle.start)))
    for _ in range(count):
        yield _routine(cycle, rng, people, catalog)
    if fail:
        yield failure(cycle, rng, rng.choice(people), catalog)


def _routine(
    cycle: Cycle, rng: random.Random, people: tuple[Person, ...], catalog: Catalog
) -> Change:
    t, roll = row_time(rng, cycle), rng.random()
    if cycle.job.kind == "cross_tenant_sync" and roll < 0.12:
        group = rng.choice(catalog.synced_groups)
        return Change(cycle.job, cycle.id, t, "Update", "Success", group)
    person = rng.choice(people)
    if roll < 0.55:
        return Change(cycle.job, cycle.id, t, "Update", "Success", person)
    return Change(cycle.job, cycle.id, t, "Other", "Skipped", person, out_of_scope=roll > 0.85)


def failure(cycle: Cycle, rng: random.Random, person: Person, catalog: Catalog) -> Change:
    """An ordinary failure for the job's kind (group reference failures on cross-tenant sync)."""
    t = row_time(rng, cycle)
    if cycle.job.kind == "cross_tenant_sync" and rng.random() < 0.5:
        return unresolved_member(cycle, t, rng.choice(catalog.synced_groups).name, person, catalog)
    action = "Create" if rng.random() < 0.3 else "Update"
    error = rng.choice(ERRORS_BY_KIND[cycle.job.kind])
    return Change(cycle.job, cycle.id, t, action, "Failure", person, error=error)


def unresolved_member(
    cycle: Cycle, t: datetime, group_name: str, member: Person, catalog: Catalog
) -> Change:
    group = next(g for g in catalog.synced_groups if g.name == group_name)
    return Change(
        cycle.job,
        cycle.id,
        t,
        "Update",
        "Failure",
        group,
        error="UnableToResolveReferenceAttributeValue",
        member_id=member.object_id,
    )


def _lifecycle(
    catalog: Catalog,
    timeline: Timeline,
    cycles: Cycles,
    people: dict[str, tuple[Person, ...]],
    rng: random.Random,
) -> Iterator[Change]:
    """Joiners are created and leavers disabled at their source, then downstream."""
    scopes = {key: frozenset(p.index for p in members) for key, members in people.items()}
    for day in timeline.day_starts():
        if day.weekday() >= 5:
            continue
        for _ in range(rng.choice(_LEAVERS_PER_WEEKDAY)):
            hops = _leaver_hops(catalog, scopes, rng.choice(catalog.people), rng)
            yield from _flow(cycles, rng, business_time(rng, day), hops)
        for _ in range(poisson(rng, 1.5)):
            hops = _joiner_hops(catalog, scopes, rng.choice(catalog.people))
            yield from _flow(cycles, rng, business_time(rng, day), hops)


Hop = tuple[JobDef, str, Person]


def _source(catalog: Catalog, person: Person) -> JobDef:
    return catalog.job("adsync" if person.from_ad else "workday")


def _downstream(
    catalog: Catalog, scopes: dict[str, frozenset[int]], person: Person, source: JobDef
) -> list[JobDef]:
    return [j for j in catalog.jobs if j.kind != source.kind and person.index in scopes[j.key]]


def _joiner_hops(catalog: Catalog, scopes: dict[str, frozenset[int]], person: Person) -> list[Hop]:
    source = _source(catalog, person)
    return [
        (job, "Create", person)
        for job in [source, *_downstream(catalog, scopes, source=source, person=person)]
    ]


def _leaver_hops(
    catalog: Catalog, scopes: dict[str, frozenset[int]], person: Person, rng: random.Random
) -> list[Hop]:
    """At most two Disable/Delete rows per leaver: the source, then the first SCIM app; a
    cross-tenant copy is soft-deleted (StagedDelete, which the disable/delete alert ignores)."""
    source = _source(catalog, person)
    first = "Delete" if source.kind == "onprem_ad" and rng.random() < 0.5 else "Disable"
    downstream = _downstream(catalog, scopes, person, source)
    apps = [(job, "Disable", person) for job in downstream if job.kind == "scim_app"][:1]
    synced = [
        (job, "StagedDelete", person) for job in downstream if job.kind == "cross_tenant_sync"
    ]
    return [(source, first, person), *apps, *synced]


def _flow(cycles: Cycles, rng: random.Random, t: datetime, hops: list[Hop]) -> Iterator[Change]:
    """Each hop lands in its job's first cycle after the previous one, 0.5-2 h later."""
    for index, (job, action, person) in enumerate(hops):
        cycle = cycles.next(job, t + timedelta(hours=index * rng.uniform(0.5, 2.0)))
        if cycle is not None:
            yield Change(job, cycle.id, row_time(rng, cycle), action, "Success", person)
