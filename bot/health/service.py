"""Provisioning health for chat: the digest of every job, or `health` for one job or app.

Built once with the workspace and the health catalog (config/health), and optionally the
store's alerts (the digest's open alerts) and the error-code hints (config/health/hints);
each call runs the catalog's KPI commands over the period that ends now and returns a
DigestView.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar

from bot.ask.catalog import Catalog
from bot.health.digest import STATE_LOOKBACK, DigestData, collect, digest_view
from bot.health.hints import ErrorHints
from bot.health.kpis import JobHealth, check_catalog, job_health, job_states
from bot.health.open_alerts import OpenAlertSource
from bot.models import Clock
from bot.views.digest import DigestView
from bot.workspace.base import Workspace

DAY = timedelta(hours=24)
#: The longest `health` window (the workbook's TimeRange goes up to 90 days).
MAX_WINDOW = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class NoSuchJob:
    """No job or app by that name logged events in the window; `known` lists those that did."""

    target: str
    window: timedelta
    known: tuple[str, ...]


T = TypeVar("T")


class HealthService:
    def __init__(
        self,
        *,
        workspace: Workspace,
        catalog: Catalog,
        clock: Clock,
        alerts: OpenAlertSource | None = None,
        hints: ErrorHints | None = None,
    ) -> None:
        check_catalog(catalog)
        self._workspace, self._catalog, self._clock = workspace, catalog, clock
        self._alerts, self._hints = alerts, hints or ErrorHints()
        #: Called after a `digest` command changed a schedule (the scheduler re-reads them).
        self.on_schedule_change: Callable[[], Awaitable[None]] | None = None

    async def digest(self, *, period: timedelta = DAY) -> DigestView:
        """Every job over the `period` ending now, compared with the period before."""
        now = self._clock()
        data = await collect(self._workspace, self._catalog, (now - period, now))
        if self._alerts is not None:
            data = replace(data, open_alerts=await self._alerts.read())
        return digest_view(data, now=now, hints=self._hints)

    async def job(self, target: str, *, window: timedelta = DAY) -> DigestView | NoSuchJob:
        """One job (by JobId, app name, or the start of either) with its cycles."""
        now = self._clock()
        span = (now - min(window, MAX_WINDOW), now)
        jobs = await job_health(self._workspace, self._catalog, span)
        found = find_job(jobs, target)
        if found is None:
            held = await self._held_job(target, span)
            if held is not None:
                return held
            return NoSuchJob(target, window, tuple(sorted(job.app for job in jobs)))
        data = await collect(self._workspace, self._catalog, span, job=found.job_id)
        return digest_view(data, now=now, title=f"Health: {found.app}", hints=self._hints)

    async def _held_job(self, target: str, span: tuple[datetime, datetime]) -> DigestView | None:
        """An app paused, deleted or quarantined (AuditLogs, STATE_LOOKBACK) that logged
        nothing in the window: its state, rather than "no such job"."""
        now = span[1]
        states = await job_states(self._workspace, self._catalog, (now - STATE_LOOKBACK, now))
        state = find_named(states, target, lambda s: (s.app,))
        if state is None or state.state == "Running":
            return None
        data = DigestData(
            period=span, current=(), previous=(), errors=(), per_day=(), states=(state,)
        )
        return digest_view(data, now=now, title=f"Health: {state.app}", hints=self._hints)


def find_job(jobs: list[JobHealth], target: str) -> JobHealth | None:
    """The job whose id or app name is `target`, else the one that starts with it, else the
    only one that contains it (case-insensitive)."""
    return find_named(jobs, target, lambda job: (job.job_id, job.app))


def find_named(items: Sequence[T], target: str, names: Callable[[T], Sequence[str]]) -> T | None:
    """The item one of whose `names` is `target`, else the one with a name that starts with
    it, else the only one with a name that contains it (case-insensitive)."""
    key = target.strip().casefold()
    if not key:
        return None
    for test in (
        lambda text: text == key,
        lambda text: text.startswith(key),
        lambda text: key in text,
    ):
        matches = [i for i in items if any(test(name.casefold()) for name in names(i))]
        if len(matches) == 1:
            return matches[0]
    return None
