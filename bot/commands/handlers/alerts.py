"""Alert commands and buttons: list alerts; acknowledge, snooze, end a snooze, resolve.

Typed commands and card buttons share one path (`act`): check the alert can take the
action, apply it through the pipeline (which writes the alerts, the audit entry and
the card updates for every conversation in one transaction), and answer with the
alert's card as it is now. A button pressed on an outdated card still acts when the
action makes sense, and says the card was outdated.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Literal

from bot import messages
from bot.alerts.actions import AlertActionError
from bot.alerts.handling import Acknowledge, AlertAction, Resolve, Snooze, Unsnooze
from bot.commands.base import Reply
from bot.commands.context import CommandContext
from bot.commands.handlers.common import ALERT_ID, NOTE, SCOPE, SNOOZE_FOR, alert_view
from bot.commands.parsing import ArgError, human_duration
from bot.commands.registry import Arg, CommandSet
from bot.models import AlertInstance, AlertStatus
from bot.views import alert_list_view
from bot.views.actions import ActionData, Verb

commands = CommandSet()

#: `alerts all` lists this many of the newest alerts at most.
ALL_ALERTS_LIMIT = 500


@commands.command(
    "alerts",
    description="List open alerts (or all, with resolved ones), most severe first.",
    examples=("alerts", "alerts all"),
    args=(Arg("scope", "open|all", SCOPE, optional=True),),
)
async def list_alerts(ctx: CommandContext, *, scope: str | None) -> Reply:
    chosen: Literal["open", "all"] = "all" if scope == "all" else "open"
    limit = ALL_ALERTS_LIMIT if chosen == "all" else None
    alerts = await ctx.store.list_alerts(open_only=chosen == "open", limit=limit)
    rules = {rule.id: rule for rule in ctx.rules.rules}
    return Reply(view=alert_list_view(alerts, rules, scope=chosen, now=ctx.now))


@commands.command(
    "ack",
    description="Acknowledge an alert: you are on it; reminders stop.",
    examples=("ack 42", "ack 42 looking at the SCIM endpoint"),
    args=(Arg("alert_id", "id", ALERT_ID), Arg("note", "note", NOTE, optional=True)),
    aliases=("acknowledge",),
    admin_only=True,
)
async def ack(ctx: CommandContext, *, alert_id: int, note: str | None) -> Reply:
    return await act(ctx, Acknowledge(alert_id, note=note), confirm=True)


@commands.command(
    "snooze",
    description="Silence an alert for a while (1h, 4h, 24h, 7d).",
    examples=("snooze 42 4h",),
    args=(
        Arg("alert_id", "id", ALERT_ID),
        Arg("duration", "duration", SNOOZE_FOR),
        Arg("note", "note", NOTE, optional=True, hidden=True),
    ),
    aliases=("mute", "silence"),
    admin_only=True,
)
async def snooze(
    ctx: CommandContext, *, alert_id: int, duration: timedelta, note: str | None
) -> Reply:
    action = Snooze(alert_id, until=ctx.now + duration, note=note)
    return await act(ctx, action, confirm=True)


@commands.command(
    "unsnooze",
    description="End an alert's snooze now.",
    examples=("unsnooze 42",),
    args=(Arg("alert_id", "id", ALERT_ID),),
    aliases=("unmute", "wake"),
    admin_only=True,
)
async def unsnooze(ctx: CommandContext, *, alert_id: int) -> Reply:
    return await act(ctx, Unsnooze(alert_id), confirm=True)


@commands.command(
    "resolve",
    description="Close an alert by hand; it opens again if the rule still matches.",
    examples=("resolve 42 fixed the mapping",),
    args=(Arg("alert_id", "id", ALERT_ID), Arg("note", "note", NOTE, optional=True)),
    aliases=("close",),
    admin_only=True,
)
async def resolve(ctx: CommandContext, *, alert_id: int, note: str | None) -> Reply:
    return await act(ctx, Resolve(alert_id, note=note), confirm=True)


# --- The alert card's buttons --------------------------------------------------------


@commands.card_action(Verb.ACKNOWLEDGE, action="ack", admin_only=True)
async def ack_button(ctx: CommandContext, data: ActionData) -> Reply:
    return await _alert_button(ctx, data, Acknowledge)


@commands.card_action(Verb.SNOOZE, action="snooze", admin_only=True)
async def snooze_button(ctx: CommandContext, data: ActionData) -> Reply:
    if data.alert_id is None:
        return Reply(text=messages.bad_button())
    duration = human_duration(data.duration) if data.duration else None
    if duration is None:
        return Reply(text=messages.bad_duration(data.duration or ""))
    try:
        SNOOZE_FOR.check(duration, data.duration or "")
    except ArgError as problem:
        return Reply(text=str(problem))
    action = Snooze(data.alert_id, until=ctx.now + duration)
    return await act(ctx, action, shown_version=data.version)


@commands.card_action(Verb.UNSNOOZE, action="unsnooze", admin_only=True)
async def unsnooze_button(ctx: CommandContext, data: ActionData) -> Reply:
    return await _alert_button(ctx, data, Unsnooze)


@commands.card_action(Verb.RESOLVE, action="resolve", admin_only=True)
async def resolve_button(ctx: CommandContext, data: ActionData) -> Reply:
    return await _alert_button(ctx, data, Resolve)


async def _alert_button(
    ctx: CommandContext, data: ActionData, action: Callable[[int], AlertAction]
) -> Reply:
    """A button whose action needs nothing but the alert it was on."""
    if data.alert_id is None:
        return Reply(text=messages.bad_button())
    return await act(ctx, action(data.alert_id), shown_version=data.version)


# --- One path for both ---------------------------------------------------------------


async def act(
    ctx: CommandContext,
    action: AlertAction,
    *,
    shown_version: int | None = None,
    confirm: bool = False,
) -> Reply:
    """Apply `action` and answer with the alert's current card.

    `confirm` adds a sentence saying what was done (typed commands; a button's card
    shows it). `shown_version` is the alert version the pressed card showed."""
    alert = await ctx.store.get_alert(action.alert_id)
    if alert is None:
        return Reply(text=messages.alert_not_found(action.alert_id))
    problem = why_not(action, alert)
    if problem is not None:
        return Reply(text=problem, view=alert_view(ctx, alert))
    try:
        outcome = await ctx.services.pipeline.apply_action(action, actor=ctx.actor, now=ctx.now)
    except AlertActionError:
        # Someone else acted between our read and the pipeline's: say what it is now.
        current = await ctx.store.get_alert(action.alert_id) or alert
        problem = why_not(action, current) or messages.action_not_applied(action.alert_id)
        return Reply(text=problem, view=alert_view(ctx, current))
    updated = next((a for a in outcome.alerts if a.id == alert.id), None)
    updated = updated or await ctx.store.get_alert(alert.id) or alert
    return Reply(text=_said(action, alert, shown_version, confirm), view=alert_view(ctx, updated))


def _said(
    action: AlertAction, before: AlertInstance, shown: int | None, confirm: bool
) -> str | None:
    """What to say besides the card: what was done, or that the pressed card was outdated."""
    if confirm:
        return messages.alert_action_done(action.verb, before.id)
    if shown is not None and shown < before.version:
        return messages.stale_card(before.id)
    return None


def why_not(action: AlertAction, alert: AlertInstance) -> str | None:
    """Why `action` does not apply to `alert` as it is, or None when it does."""
    if not alert.status.is_open:
        return messages.alert_not_open(alert.id)
    if isinstance(action, Acknowledge) and alert.acknowledged_by is not None:
        return messages.already_acknowledged(alert.id, acknowledger(alert))
    if isinstance(action, Unsnooze) and alert.status is not AlertStatus.SNOOZED:
        return messages.not_snoozed(alert.id)
    return None


def acknowledger(alert: AlertInstance) -> str:
    """The name of who acknowledged the alert, as its history recorded it."""
    by = alert.acknowledged_by or ""
    names = (t.actor_name for t in reversed(alert.history) if t.actor == by and t.actor_name)
    return next(names, None) or by
