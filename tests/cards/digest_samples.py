"""Digest views for the card tests: a usual morning, a quiet one, one with paused, deleted
and quarantined jobs, `health` for one job, and hundreds of jobs, kinds of governance
change and open alerts (the card must still fit: top N, then "and N more")."""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from bot.alerts.rule_model import Rule
from bot.alerts.rules import load_rules
from bot.health.digest import DigestData, digest_view
from bot.health.hints import ErrorHints, load_hints
from bot.health.kpis import (
    CycleCounts,
    ErrorCount,
    GovernanceCount,
    JobHealth,
    JobState,
    StatusCount,
)
from bot.health.open_alerts import open_alerts
from bot.models import AlertInstance, AlertStatus, Transition
from bot.views.digest import DigestView
from bot.views.digest_sections import OpenAlerts

CONFIG = Path(__file__).resolve().parents[2] / "config"
#: (rule, status) of the sample's open alerts: severities 1, 2 and 3, every status.
OPEN: tuple[tuple[str, AlertStatus], ...] = (
    ("provisioning-job-failure-spike", AlertStatus.FIRING),
    ("provisioning-job-silent", AlertStatus.ACKNOWLEDGED),
    ("provisioning-disable-delete-spike", AlertStatus.SNOOZED),
    ("provisioning-job-silent", AlertStatus.FIRING),
    ("provisioning-job-failure-spike", AlertStatus.FIRING),
    ("provisioning-failure-spike", AlertStatus.ACKNOWLEDGED),
    ("cross-tenant-sync-enabled", AlertStatus.FIRING),
    ("access-review-deleted", AlertStatus.SNOOZED),
)
CHANGES: tuple[tuple[str, str, str], ...] = (
    ("Multitenant collaboration", "Cross-tenant settings changed", "Northwind Traders"),
    ("Access Reviews", "Access reviews deleted", "Guest access review - Fabrikam"),
    ("Entitlement management", "Connected organizations added", "Tailspin Toys"),
    ("Privileged Identity Management", "PIM alerts and role settings changed", "Too many GAs"),
    ("Lifecycle workflows", "Lifecycle workflow runs failed", "Offboard leaver - last day"),
)


@functools.cache
def rules() -> dict[str, Rule]:
    return {rule.id: rule for rule in load_rules([CONFIG / "rules"])}


@functools.cache
def hints() -> ErrorHints:
    return load_hints(CONFIG / "health" / "hints")


def open_alert(n: int, rule_id: str, status: AlertStatus, now: datetime) -> AlertInstance:
    opened = now - timedelta(hours=n + 1)
    history = [Transition(at=opened, from_status=None, to_status=AlertStatus.FIRING)]
    fields: dict[str, object] = {}
    if status is not AlertStatus.FIRING:
        history.append(
            Transition(
                at=opened + timedelta(minutes=20),
                from_status=AlertStatus.FIRING,
                to_status=AlertStatus.ACKNOWLEDGED,
                actor="alex-oid",
                actor_name="Alex Wilber",
            )
        )
        fields = {"acknowledged_by": "alex-oid", "acknowledged_at": history[-1].at}
    if status is AlertStatus.SNOOZED:
        fields["snoozed_until"] = now + timedelta(hours=4)
    return AlertInstance.model_validate(
        {
            "id": 100 + n,
            "fingerprint": f"{n:016x}",
            "rule_id": rule_id,
            "dimensions": {"JobId": f"scim.{n:032x}"},
            "status": status,
            "value": 12,
            "threshold": 5,
            "opened_at": opened,
            "last_evaluated_at": now,
            "history": history,
            **fields,
        }
    )


def alerts_section(now: datetime, which: tuple[tuple[str, AlertStatus], ...]) -> OpenAlerts:
    found = [open_alert(n, rule, status, now) for n, (rule, status) in enumerate(which)]
    return open_alerts(found, rules().get)


def changes(now: datetime, kinds: tuple[tuple[str, str, str], ...]) -> list[GovernanceCount]:
    return [
        GovernanceCount(area, change, len(kinds) - n, now - timedelta(hours=2 * n + 1),
                        "tom.brown@woodgrove.com", target)
        for n, (area, change, target) in enumerate(kinds)
    ]  # fmt: skip


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


def data(
    now: datetime,
    jobs: list[JobHealth],
    *,
    cycles: bool = False,
    governance: list[GovernanceCount] | None = None,
    alerts: OpenAlerts | None = None,
) -> DigestData:
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
    return DigestData(period, jobs, jobs, errors, per_day, found, governance, alerts)


#: Who paused and deleted the held sample's jobs; the provisioning service quarantines.
ADMIN = "tom.brown@woodgrove.com"
SERVICE = "Azure AD Provisioning Service"


def held_states(now: datetime) -> list[JobState]:
    """App 1 paused 30 h ago (silent since), App 2 quarantined 5 h ago, App 3 paused and
    restarted, Retired App deleted 3 days ago (it logs nothing any more)."""
    return [
        JobState("App 1", "Paused", now - timedelta(hours=30), ADMIN,
                 "Disable/pause provisioning configuration"),
        JobState("App 2", "Quarantined", now - timedelta(hours=5), SERVICE, "Quarantine"),
        JobState("App 3", "Running", now - timedelta(hours=2), ADMIN,
                 "Enable/restart provisioning configuration"),
        JobState("Retired App", "Deleted", now - timedelta(days=3), ADMIN,
                 "Delete provisioning configuration"),
    ]  # fmt: skip


def digest_views(now: datetime) -> dict[str, DigestView]:
    usual = [
        job(0, now, failure=25),
        job(1, now, silent_hours=8.4),
        *(job(n, now) for n in range(2, 6)),
    ]
    held = [job(0, now), job(1, now, silent_hours=30.2), job(2, now, failure=40), job(3, now)]
    quiet = data(
        now, [job(n, now) for n in range(3)], governance=[], alerts=alerts_section(now, ())
    )
    return {
        "digest": digest_view(
            data(now, usual, governance=changes(now, CHANGES), alerts=alerts_section(now, OPEN)),
            now=now,
            hints=hints(),
        ),
        "digest-quiet": digest_view(quiet, now=now, hints=hints()),
        "digest-nothing": digest_view(data(now, []), now=now),
        "digest-held": digest_view(
            replace(data(now, held), states=held_states(now)), now=now, hints=hints()
        ),
        "health-job": digest_view(
            data(now, [job(0, now, failure=3)], cycles=True),
            now=now,
            title="Health: App 0",
            hints=hints(),
        ),
    }


def huge_digest_views(now: datetime) -> dict[str, DigestView]:
    many = [job(n, now, failure=n % 3) for n in range(400)]
    one = [job(0, now, failure=5)]
    kinds = tuple(
        (f"Area {n}", f"Kind of change number {n} " + "x" * 200, "t" * 300) for n in range(300)
    )
    statuses = (AlertStatus.FIRING, AlertStatus.ACKNOWLEDGED, AlertStatus.SNOOZED)
    rule_ids = sorted(rules())
    crowd = tuple((rule_ids[n % len(rule_ids)], statuses[n % 3]) for n in range(3000))
    huge = data(now, many, governance=changes(now, kinds), alerts=alerts_section(now, crowd))
    return {
        "huge-digest": digest_view(huge, now=now, top=400, hints=hints()),
        "huge-sections": digest_view(
            data(now, many[:3], governance=changes(now, kinds), alerts=alerts_section(now, crowd)),
            now=now,
            hints=hints(),
        ),
        "huge-health": digest_view(
            data(now, one, cycles=True), now=now, title="Health " + "x" * 3000
        ),
    }
