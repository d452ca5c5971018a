"""The everyday AuditLogs of the demo tenant: how often each kind of event happens, day by day.

Rates are events per weekday at audit scale 1 (weekends are quieter, working hours
busier); the size profile multiplies them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Final

from bot.workspace.demo import audit_directory as directory
from bot.workspace.demo import audit_governance as governance
from bot.workspace.demo.audit_rows import AuditContext, AuditEvent
from bot.workspace.demo.catalog import Catalog
from bot.workspace.demo.timeline import Timeline, poisson, stream, time_in_day, weekday_factor

Builder = Callable[[AuditContext, datetime], list[AuditEvent]]

RATES: Final[tuple[tuple[float, Builder], ...]] = (
    (14.0, governance.review_decision),
    (0.15, governance.review_change),
    (8.0, governance.package_request),
    (1.0, governance.direct_assignment),
    (0.05, governance.failed_request),
    (0.2, governance.package_update),
    (6.0, governance.person_group_add),
    (3.0, governance.person_group_remove),
    (0.25, governance.on_demand_workflow),
    (0.1, governance.workflow_update),
    (6.0, directory.pim_activation),
    (0.4, directory.pim_alert_triggered),
    (0.1, directory.pim_setting),
    (0.05, directory.pim_outside),
    (0.15, directory.partner_access_update),
    (0.06, directory.partner_sync_update),
    (0.15, directory.mapping_update),
    (10.0, directory.security_info),
    (0.5, directory.admin_security_info),
    (4.0, directory.self_service_reset),
    (2.0, directory.admin_reset),
)


def background_audit(
    catalog: Catalog, timeline: Timeline, seed: int, scale: float
) -> list[AuditEvent]:
    """All routine audit events in [start, now)."""
    ctx = AuditContext(stream(seed, "audit"), catalog, timeline)
    events = [*governance.workflow_runs(ctx), *_review_closures(ctx)]
    for day in timeline.day_starts():
        events.extend(_day(ctx, day, scale))
    return [e for e in events if timeline.contains(e.time)]


def _day(ctx: AuditContext, day: datetime, scale: float) -> Iterator[AuditEvent]:
    factor = scale * weekday_factor(day)
    for rate, build in RATES:
        for _ in range(poisson(ctx.rng, rate * factor)):
            yield from build(ctx, time_in_day(ctx.rng, day))


def _review_closures(ctx: AuditContext) -> Iterator[AuditEvent]:
    """Recurring reviews close on Monday mornings."""
    for day in ctx.timeline.day_starts():
        if day.weekday() == 0:
            yield from governance.review_ended(ctx, day + timedelta(hours=6, minutes=5))
