"""The planted provisioning incidents: a failure spike, a burst of disables, a silent job, a group
with an unresolved member, and the job plans (silence, pauses, failure-free spans) they need.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Final

from bot.workspace.demo.catalog import Catalog, Person
from bot.workspace.demo.provisioning_background import (
    Cycle,
    Cycles,
    JobPlan,
    row_time,
    unresolved_member,
)
from bot.workspace.demo.provisioning_rows import Change
from bot.workspace.demo.scenarios import (
    DISABLE_SPIKE_COUNT,
    FAILURE_SPIKE_COUNT,
    HISTORY_PAUSE,
    SCENARIO_OFFSETS,
    Planted,
    at,
)
from bot.workspace.demo.timeline import Timeline

FAILURE_SPIKE_JOB: Final = "servicenow"
DISABLE_SPIKE_JOB: Final = "workday"
SILENT_JOB: Final = "adsync"
PAUSED_JOB: Final = "servicenow"
#: The job medium and large sizes copy into extra SCIM apps (it has no planted incident).
CLONED_JOB: Final = "salesforce"
UNRESOLVED_JOB: Final = "fabrikam"
#: Rows of a cycle land up to 4 minutes after its start; keep spikes inside their windows.
_SPREAD: Final = timedelta(minutes=4, seconds=30)


def job_plans(timeline: Timeline) -> dict[str, JobPlan]:
    pause = (
        at(timeline, "provisioning_config_changed"),
        at(timeline, "provisioning_config_changed", 1),
    )
    history_pause = (timeline.now - HISTORY_PAUSE[0], timeline.now - HISTORY_PAUSE[1])
    # ServiceNow (the failure-spike job and the paused job) takes both pauses.
    return {
        FAILURE_SPIKE_JOB: JobPlan(
            failure_free_since=timeline.recent[0], paused=(history_pause, pause)
        ),
        UNRESOLVED_JOB: JobPlan(failure_free_since=timeline.now - timedelta(hours=12)),
        SILENT_JOB: JobPlan(stop_at=at(timeline, "silent_job")),
    }


def planted_changes(
    catalog: Catalog,
    timeline: Timeline,
    cycles: Cycles,
    people: dict[str, tuple[Person, ...]],
    rng: random.Random,
    planted: Planted,
) -> list[Change]:
    return [
        *_failure_spike(catalog, timeline, cycles, people, rng),
        *_disable_spike(catalog, timeline, cycles, people, rng),
        *_unresolved(catalog, timeline, cycles, planted),
        *_lookup_rows(catalog, timeline, cycles, rng, planted.lookup_user),
    ]


def _window_cycles(
    catalog: Catalog, timeline: Timeline, cycles: Cycles, job_key: str, scenario: str
) -> list[Cycle]:
    start, end = (timeline.now - offset for offset in SCENARIO_OFFSETS[scenario])
    found = cycles.between(catalog.job(job_key), start, end - _SPREAD)
    if not found:
        raise RuntimeError(f"no {job_key} cycle in the {scenario} window")
    return found


def _spread(total: int, cycles: list[Cycle]) -> list[tuple[Cycle, int]]:
    share, extra = divmod(total, len(cycles))
    return [(cycle, share + (1 if i < extra else 0)) for i, cycle in enumerate(cycles)]


def _failure_spike(
    catalog: Catalog,
    timeline: Timeline,
    cycles: Cycles,
    people: dict[str, tuple[Person, ...]],
    rng: random.Random,
) -> list[Change]:
    """The ServiceNow token expired: every export is refused with 401 for two hours."""
    window = _window_cycles(catalog, timeline, cycles, FAILURE_SPIKE_JOB, "failure_spike")
    changes = []
    for cycle, count in _spread(FAILURE_SPIKE_COUNT, window):
        for person in rng.sample(people[FAILURE_SPIKE_JOB], count):
            changes.append(
                Change(
                    cycle.job,
                    cycle.id,
                    row_time(rng, cycle),
                    "Update",
                    "Failure",
                    person,
                    error="Unauthorized",
                )
            )
    return changes


def _disable_spike(
    catalog: Catalog,
    timeline: Timeline,
    cycles: Cycles,
    people: dict[str, tuple[Person, ...]],
    rng: random.Random,
) -> list[Change]:
    """A mistaken bulk termination in Workday disables 60 accounts within the hour."""
    window = _window_cycles(catalog, timeline, cycles, DISABLE_SPIKE_JOB, "disable_spike")
    victims = iter(rng.sample(people[DISABLE_SPIKE_JOB], DISABLE_SPIKE_COUNT))
    return [
        Change(cycle.job, cycle.id, row_time(rng, cycle), "Disable", "Success", next(victims))
        for cycle, count in _spread(DISABLE_SPIKE_COUNT, window)
        for _ in range(count)
    ]


def _unresolved(
    catalog: Catalog, timeline: Timeline, cycles: Cycles, planted: Planted
) -> list[Change]:
    window = _window_cycles(catalog, timeline, cycles, UNRESOLVED_JOB, "unresolved_group_member")
    cycle = window[0]
    t = cycle.start + timedelta(seconds=42)
    return [
        unresolved_member(cycle, t, planted.unresolved_group, planted.unresolved_member, catalog)
    ]


def _lookup_rows(
    catalog: Catalog, timeline: Timeline, cycles: Cycles, rng: random.Random, person: Person
) -> list[Change]:
    """The lookup user is updated on every Entra-sourced job in the last day."""
    changes = []
    for key in ("servicenow", "salesforce", "fabrikam"):
        cycle = cycles.next(catalog.job(key), timeline.now - timedelta(hours=20))
        if cycle is not None:
            changes.append(
                Change(cycle.job, cycle.id, row_time(rng, cycle), "Update", "Success", person)
            )
    return changes


def planted_people(
    catalog: Catalog, people: dict[str, tuple[Person, ...]], rng: random.Random
) -> tuple[Person, Person, Person]:
    """(watched-group add user, lookup user, unresolved member)."""
    synced = {p.index for p in people["fabrikam"]}
    both = [p for p in people["servicenow"] if p.index in synced]
    lookup = both[0] if both else people["servicenow"][0]
    outside = [p for p in catalog.people if p.index not in synced]
    return rng.choice(catalog.people), lookup, rng.choice(outside)
