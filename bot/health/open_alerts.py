"""The digest's open alerts: read through the store's alert interface, grouped by severity.

`OpenAlertSource` is what the health service is given (the store's AlertOperations and
the rule lookup, which knows the rules from files and those of external alerts); the
grouping is pure: most severe first, the newest few of each severity listed with their
status (firing since, acknowledged by whom, snoozed until), the rest counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from bot import messages
from bot.alerts.rule_model import Rule
from bot.models import AlertInstance
from bot.store.base import AlertOperations
from bot.views.alert import severity
from bot.views.digest_sections import OpenAlertGroup, OpenAlerts
from bot.views.lists import alert_row

#: Alerts listed per severity; the rest are counted.
TOP_PER_SEVERITY: Final = 3
#: The severity of an alert whose rule is unknown (removed since it fired).
UNKNOWN_SEVERITY: Final = 4


@dataclass(frozen=True, slots=True)
class OpenAlertSource:
    store: AlertOperations
    rule: Callable[[str], Rule | None]

    async def read(self, *, top: int = TOP_PER_SEVERITY) -> OpenAlerts:
        alerts = await self.store.list_alerts(open_only=True)
        return open_alerts(alerts, self.rule, top=top)


def open_alerts(
    alerts: Sequence[AlertInstance],
    rule: Callable[[str], Rule | None],
    *,
    top: int = TOP_PER_SEVERITY,
) -> OpenAlerts:
    """The open ones of `alerts` by severity, each group newest first."""
    by_level: dict[int, list[tuple[AlertInstance, Rule | None]]] = {}
    for alert in alerts:
        if not alert.status.is_open:
            continue
        found = rule(alert.rule_id)
        level = found.severity if found else UNKNOWN_SEVERITY
        by_level.setdefault(level, []).append((alert, found))
    groups = tuple(_group(level, by_level[level], top) for level in sorted(by_level))
    total = sum(group.count for group in groups)
    return OpenAlerts(
        total=total, groups=groups, note="" if total else messages.digest_no_open_alerts()
    )


def _group(
    level: int, members: list[tuple[AlertInstance, Rule | None]], top: int
) -> OpenAlertGroup:
    members.sort(key=lambda pair: (-pair[0].opened_at.timestamp(), pair[0].id))
    shown = members[:top]
    more = len(members) - len(shown)
    return OpenAlertGroup(
        severity=severity(level),
        count=len(members),
        alerts=tuple(alert_row(alert, found) for alert, found in shown),
        more_note=messages.more_items(more, "alert") if more else "",
    )
