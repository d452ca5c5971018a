"""Digest views for the card tests: a usual morning, a quiet one, `health` for one job, and
hundreds of jobs (the card must still fit: top N, then "and N more")."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.health.digest import DigestData, digest_view
from bot.health.kpis import CycleCounts, ErrorCount, JobHealth, StatusCount
from bot.views.digest import DigestView


def job(n: int, now: datetime, *, failure: int = 0, silent_hours: float = 0.2) -> JobHealth:
    events = 400 + n
    skipped = 30
    return JobHealth(
        app=f"App {n}",
        job_id=f"scim.{n:032x}.6417b88f-b93c-4137-8a73-e7e3daadd60a",
        events=events,
        success=events - failure - skipped,
        failure=failure,
        skipped=skipped,
        warning=0,
        objects=120,
        disables_deletes=n % 5,
        last_event=now - timedelta(hours=silent_hours),
        success_rate=round(100 * (events - failure - skipped) / events, 1),
        hours_since_last=silent_hours,
    )


def data(now: datetime, jobs: list[JobHealth], *, cycles: bool = False) -> DigestData:
    period = (now - timedelta(hours=24), now)
    errors = [
        ErrorCount(j.app, j.job_id, code, j.failure // (k + 1), now - timedelta(hours=k + 1))
        for j in jobs
        if j.failure
        for k, code in enumerate(
            ("Unauthorized", "SystemForCrossDomainIdentityManagementBadRequest")
        )
    ]
    days = [now.replace(hour=0) - timedelta(days=d) for d in range(7, -1, -1)]
    per_day = [
        StatusCount(day, result, 100 + 7 * i + (25 if result == "Failure" and i == 7 else 0))
        for i, day in enumerate(days)
        for result in ("Success", "Failure", "Skipped")
    ]
    found = [
        CycleCounts(f"{c:08x}-cycle", jobs[0].app, jobs[0].job_id, now - timedelta(minutes=40 * c),
                    12, 10, 1, 1, 0)
        for c in range(36)
    ] if cycles else None  # fmt: skip
    return DigestData(period, jobs, jobs, errors, per_day, found)


def digest_views(now: datetime) -> dict[str, DigestView]:
    usual = [
        job(0, now, failure=25),
        job(1, now, silent_hours=8.4),
        *(job(n, now) for n in range(2, 6)),
    ]
    return {
        "digest": digest_view(data(now, usual), now=now),
        "digest-quiet": digest_view(data(now, [job(n, now) for n in range(3)]), now=now),
        "digest-nothing": digest_view(data(now, []), now=now),
        "health-job": digest_view(
            data(now, [job(0, now, failure=3)], cycles=True), now=now, title="Health: App 0"
        ),
    }


def huge_digest_views(now: datetime) -> dict[str, DigestView]:
    many = [job(n, now, failure=n % 3) for n in range(400)]
    one = [job(0, now, failure=5)]
    return {
        "huge-digest": digest_view(data(now, many), now=now, top=400),
        "huge-health": digest_view(
            data(now, one, cycles=True), now=now, title="Health " + "x" * 3000
        ),
    }
