"""The job still paused: a SCIM app (a copy of the Salesforce job's rows) whose provisioning
an admin paused six days ago and nobody restarted, so the digest has a paused job that
logs nothing ("paused since …, by …", not "silent").

Only when the history is long enough that the pause lies after the quiet window (the job
runs through it like every job) and before the recent window: six days ago in the default
30-day history, absent from short ones. Six days is also beyond the 2-day window of the
silent-job rule, so the pause raises no silent alert.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bot.workspace.demo.audit_rows import AuditContext, AuditEvent, by_admin, detail, event, target
from bot.workspace.demo.catalog import App
from bot.workspace.demo.sink import Clone
from bot.workspace.demo.timeline import Timeline, guid, stream

STILL_PAUSED_APP: Final = "Greenhouse Recruiting"
#: How long before now the admin paused it.
STILL_PAUSED_AGO: Final = timedelta(days=6, hours=3)
#: The clone index (it seeds the copy's ids; the size clones count up from 0).
_INDEX: Final = 1000
_SHIFT_MINUTES: Final = 17


@dataclass(frozen=True)
class StillPaused:
    clone: Clone
    app: App
    at: datetime


def still_paused(seed: int, tenant_id: str, timeline: Timeline) -> StillPaused | None:
    """The paused app and when it was paused, or None when the history is too short."""
    at = timeline.now - STILL_PAUSED_AGO
    if not timeline.outside_windows(at) or at < timeline.quiet[1]:
        return None
    rng = stream(seed, "still-paused")
    app = App(guid(rng), guid(rng), STILL_PAUSED_APP)
    job_id = f"scim.{app.app_id.replace('-', '')}.{tenant_id}"
    target_id = str(uuid.uuid5(uuid.UUID(app.sp_id), "target-system"))
    clone = Clone(_INDEX, job_id, app.sp_id, target_id, app.name, _SHIFT_MINUTES)
    return StillPaused(clone, app, at)


def pause_event(ctx: AuditContext, paused: StillPaused) -> AuditEvent:
    """Disable/pause provisioning configuration on the app's service principal."""
    admin = by_admin(ctx.catalog.admins[3])
    targets = [target(paused.app.sp_id, "ServicePrincipal", paused.app.name)]
    details = [detail("JobId", paused.clone.job_id)]
    activity = "Disable/pause provisioning configuration"
    return event(ctx.rng, paused.at, activity, admin, targets, details=details)
