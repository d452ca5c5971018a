"""The digest's sections beside the jobs: governance changes by kind, and open alerts by
severity with their status. Pure data, and how each is cut to fit ("…and N more").
"""

from __future__ import annotations

from datetime import datetime
from typing import Self

from bot import messages
from bot.views.model import AlertRow, Part, Severity


class GovernanceChange(Part):
    """One kind of governance change in the period, with its latest occurrence."""

    #: The alert rules' category (Access Reviews, Multitenant collaboration, ...).
    area: str
    #: What changed, in words: `Access reviews deleted`.
    change: str
    count: int
    last_at: datetime
    #: Who made the latest change (a UPN, or the service that did).
    last_by: str
    #: What it changed (the review, organization, partner, PIM alert or workflow).
    last_target: str


class Governance(Part):
    """Governance changes by kind; `note` is the one quiet line when there were none."""

    changes: tuple[GovernanceChange, ...] = ()
    more_kinds: int = 0
    more_note: str = ""
    note: str = ""

    def shrink(self) -> Self | None:
        if len(self.changes) <= 1:
            return None
        keep = len(self.changes) // 2
        more = self.more_kinds + len(self.changes) - keep
        return self.model_copy(
            update={
                "changes": self.changes[:keep],
                "more_kinds": more,
                "more_note": messages.digest_more_change_kinds(more),
            }
        )


class OpenAlertGroup(Part):
    """The open alerts of one severity: the first few listed, the rest counted."""

    severity: Severity
    count: int
    alerts: tuple[AlertRow, ...]
    more_note: str = ""

    def fewer(self) -> Self | None:
        if len(self.alerts) <= 1:
            return None
        keep = self.alerts[: len(self.alerts) // 2]
        more = self.count - len(keep)
        return self.model_copy(
            update={"alerts": keep, "more_note": messages.more_items(more, "alert")}
        )


class OpenAlerts(Part):
    """Open alerts by severity, most severe first; `note` is the quiet line when none."""

    total: int = 0
    groups: tuple[OpenAlertGroup, ...] = ()
    note: str = ""

    def shrink(self) -> Self | None:
        groups = [group.fewer() for group in self.groups]
        if all(group is None for group in groups):
            return None
        kept = tuple(new or old for new, old in zip(groups, self.groups, strict=True))
        return self.model_copy(update={"groups": kept})
