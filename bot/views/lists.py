"""Views for the list answers: alerts, subscriptions, rules, one rule, and help. Pure."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Final, Literal

from bot import messages
from bot.alerts.rule_model import Rule, format_duration
from bot.models import AlertInstance, AlertStatus, RuleHealth, Subscription
from bot.views.alert import severity
from bot.views.model import (
    AlertListView,
    AlertRow,
    CommandHelp,
    HelpCardView,
    HelpEntry,
    LastResult,
    Link,
    RuleDetailView,
    RuleListView,
    RuleRow,
    SubscriptionListView,
    SubscriptionRow,
)
from bot.views.rule_text import condition
from bot.views.text import clip, one_line

MAX_LIST_ROWS: Final = 25
_TITLE_LIMIT: Final = 120


def alert_list_view(
    alerts: Sequence[AlertInstance],
    rules: Mapping[str, Rule],
    *,
    scope: Literal["open", "all"],
    now: datetime,
) -> AlertListView:
    """Open (or all) alerts, open ones first, most severe first, newest first."""
    chosen = [a for a in alerts if scope == "all" or a.status.is_open]
    chosen.sort(key=lambda a: (not a.status.is_open, _level(a, rules), -a.opened_at.timestamp()))
    rows = tuple(alert_row(a, rules.get(a.rule_id)) for a in chosen[:MAX_LIST_ROWS])
    more = len(chosen) - len(rows)
    return AlertListView(
        as_of=now,
        scope=scope,
        open_only=scope == "open",
        rows=rows,
        total=len(chosen),
        more_note=messages.more_items(more, "alert") if more else "",
    )


def _level(alert: AlertInstance, rules: Mapping[str, Rule]) -> int:
    rule = rules.get(alert.rule_id)
    return rule.severity if rule else 4


def alert_row(alert: AlertInstance, rule: Rule | None) -> AlertRow:
    """One line of an alert list (also the digest's open alerts): its title with the
    dimension values, severity, and state with its moment and who acknowledged it."""
    title = rule.title if rule else alert.rule_id
    if alert.dimensions:
        title += " · " + ", ".join(alert.dimensions.values())
    state, at, actor = _row_state(alert)
    return AlertRow(
        alert_id=str(alert.id),
        severity=severity(rule.severity if rule else 4),
        title=one_line(title, _TITLE_LIMIT),
        state=state,
        at=at,
        actor=actor,
    )


def _row_state(alert: AlertInstance) -> tuple[AlertStatus, datetime, str | None]:
    """The row's state and its moment: resolved at, snoozed until, acknowledged by, or
    firing since (a state without its moment or actor reads as firing)."""
    status = alert.status
    if status is AlertStatus.RESOLVED and alert.resolved_at:
        return status, alert.resolved_at, None
    if status is AlertStatus.SNOOZED and alert.snoozed_until:
        return status, alert.snoozed_until, None
    if status is AlertStatus.ACKNOWLEDGED and alert.acknowledged_by:
        name = next(
            (t.actor_name for t in reversed(alert.history) if t.actor == alert.acknowledged_by),
            None,
        )
        actor = one_line(name or alert.acknowledged_by, 40)
        return status, alert.acknowledged_at or alert.opened_at, actor
    return AlertStatus.FIRING, alert.opened_at, None


def subscription_list_view(
    subscriptions: Sequence[Subscription], *, rule_ids: Collection[str] = (), now: datetime
) -> SubscriptionListView:
    rows = tuple(
        SubscriptionRow(
            target="all alerts" if s.target == "all" else s.target,
            kind=_target_kind(s.target, rule_ids),
            severities=messages.severity_floor(s.max_severity),
            created_by=one_line(s.created_by, 60),
            created_at=s.created_at,
        )
        for s in subscriptions[:MAX_LIST_ROWS]
    )
    return SubscriptionListView(as_of=now, rows=rows)


def _target_kind(target: str, rule_ids: Collection[str]) -> str:
    if target == "all":
        return "Everything:"
    return "Rule" if target in rule_ids else "Category"


def rule_list_view(rules: Sequence[Rule]) -> RuleListView:
    ordered = sorted(rules, key=lambda r: (r.category, r.severity, r.id))
    rows = tuple(
        RuleRow(
            rule_id=rule.id,
            title=rule.title,
            category=rule.category,
            severity=severity(rule.severity),
            schedule=schedule(rule),
            enabled=rule.enabled,
        )
        for rule in ordered[: MAX_LIST_ROWS * 2]
    )
    more = len(ordered) - len(rows)
    return RuleListView(
        rows=rows, more=more, more_note=messages.more_items(more, "rule") if more else ""
    )


def schedule(rule: Rule) -> str:
    return f"every {format_duration(rule.frequency)} over {format_duration(rule.window)}"


def rule_detail_view(
    rule: Rule,
    *,
    health: RuleHealth | None,
    open_alerts: int,
    now: datetime,
    query: str | None = None,
) -> RuleDetailView:
    """`rule <id>`: what it checks, how often, its KQL and how its last run went."""
    evaluated = health.last_evaluated_at if health else None
    last = LastResult(
        evaluated_at=evaluated,
        ok=health is None or health.last_error is None,
        error=clip(health.last_error, 1000) if health and health.last_error else None,
        open_alerts=messages.counted(open_alerts, "open alert"),
        never=evaluated is None,
    )
    return RuleDetailView(
        as_of=now,
        rule_id=rule.id,
        title=rule.title,
        description=rule.description,
        category=rule.category,
        severity=severity(rule.severity),
        enabled=rule.enabled,
        schedule=schedule(rule),
        condition=condition(rule),
        dimensions=", ".join(rule.dimensions) or "rule (no dimensions)",
        query_lines=tuple((query if query is not None else rule.query).rstrip().splitlines()),
        last=last,
        remediation=rule.remediation.text,
        links=tuple(Link(title=link.title, url=link.url) for link in rule.remediation.links),
        data={"ruleId": rule.id},
    )


def help_view(commands: Sequence[CommandHelp], *, intro: str | None = None) -> HelpCardView:
    """The help card, from the command registry's help data."""
    entries = tuple(
        HelpEntry(
            usage=command.usage,
            description=command.description,
            examples="   ·   ".join(command.examples),
            admin_only=command.admin_only,
        )
        for command in commands
    )
    return HelpCardView(commands=entries, intro=intro)
