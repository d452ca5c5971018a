"""Pieces the handlers share: argument kinds with their limits, and the alert card as it is now."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from bot.commands.context import CommandContext
from bot.commands.parsing import (
    AlertIdKind,
    ChoiceKind,
    DurationKind,
    RuleIdKind,
    SeverityKind,
    TargetKind,
    TextKind,
)
from bot.models import AlertInstance
from bot.views.alert import shown_alert_view
from bot.views.model import AlertCardView

ALERT_ID: Final = AlertIdKind()
#: A snooze: from a minute to 30 days.
SNOOZE_FOR: Final = DurationKind(minimum=timedelta(minutes=1), maximum=timedelta(days=30))
SEVERITY: Final = SeverityKind()
TARGET: Final = TargetKind()
#: Unsubscribe also takes a target that is no longer a rule or category.
ANY_TARGET: Final = TargetKind(lenient=True)
RULE_ID: Final = RuleIdKind()
NOTE: Final = TextKind()
SCOPE: Final = ChoiceKind(
    {"open": "open", "active": "open", "firing": "open", "all": "all", "everything": "all"}
)


def alert_view(ctx: CommandContext, alert: AlertInstance) -> AlertCardView | None:
    """The alert's card as of now; None when its rule is no longer loaded."""
    rule = ctx.rules.get(alert.rule_id)
    if rule is None:
        return None
    return shown_alert_view(alert, rule, now=ctx.now, log_analytics=ctx.services.log_analytics)
