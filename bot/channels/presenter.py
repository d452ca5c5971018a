"""What a channel shows for an alert event: the alert's card, and the follow-up in its thread.

Channel-neutral: it returns views (bot.views) that each channel renders its own way.
The card always shows the alert as the store holds it now, not as the event saw it, so
a late or repeated delivery never puts an older state back on screen. Rules come from
the RuleBook in force; a rule removed since the event cannot be shown (None).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.alerts.reload import RuleBook
from bot.alerts.rule_model import Rule
from bot.channels.coalesced import Coalesced
from bot.models import AlertEvent, AlertEventKind, AlertInstance
from bot.store.base import AlertOperations
from bot.views import LogAnalyticsTarget, reply_view
from bot.views.alert import shown_alert_view
from bot.views.model import AlertCardView, ReplyView


class AlertPresenter:
    """Card views for outbox events, from the store's current state and the rules in force."""

    def __init__(
        self,
        *,
        store: AlertOperations,
        rules: RuleBook,
        clock: Callable[[], datetime],
        log_analytics: LogAnalyticsTarget | None = None,
    ) -> None:
        self._store = store
        self._rules = rules
        self._clock = clock
        self._log_analytics = log_analytics
        # A fan-out's deliveries, started together, read their alert in one query.
        self._alerts = Coalesced(store.get_alerts)

    def rule(self, rule_id: str) -> Rule | None:
        return self._rules.get(rule_id)

    async def current_alert(self, event: AlertEvent) -> AlertInstance | None:
        if event.alert is None:
            return None
        return await self._alerts.get(event.alert.id) or event.alert

    async def alert_card(self, event: AlertEvent) -> AlertCardView | None:
        """The card of the event's alert as it stands now; None for a rule-level event."""
        alert = await self.current_alert(event)
        rule = self.rule(event.rule_id)
        if alert is None or rule is None:
            return None
        return self.alert_view(alert, rule)

    def alert_view(self, alert: AlertInstance, rule: Rule) -> AlertCardView:
        """The card of `alert` (as given) under `rule`, as of now."""
        return shown_alert_view(alert, rule, now=self._clock(), log_analytics=self._log_analytics)

    async def alert_view_by_id(self, alert_id: int) -> AlertCardView | None:
        """The alert's view as it stands now, by id; None if unknown or its rule is gone."""
        alert = await self._store.get_alert(alert_id)
        rule = self.rule(alert.rule_id) if alert is not None else None
        if alert is None or rule is None:
            return None
        return self.alert_view(alert, rule)

    async def reply(self, event: AlertEvent) -> ReplyView | None:
        """The thread reply for a re-notification, resolution, snooze end or failed run."""
        rule = self.rule(event.rule_id)
        if rule is None:
            return None
        failures = None
        if event.kind is AlertEventKind.EVALUATION_ERROR:
            health = await self._store.get_rule_health(rule.id)
            failures = health.consecutive_errors if health else None
        return reply_view(event, rule, now=self._clock(), failures=failures)
