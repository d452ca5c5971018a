"""Rule commands: list the rules, show one, and run one now.

`run` evaluates the rule through the pipeline like a scheduled evaluation (subscribers
hear about what fires through the outbox) and answers here with what it found: the
alert's card, the list of its open alerts, or "OK" with the measured value.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot import messages
from bot.alerts.binding import bound_query
from bot.alerts.evaluate import Measurement
from bot.alerts.pipeline import Evaluation
from bot.alerts.rule_model import Rule, format_duration
from bot.alerts.state import QueryFailure
from bot.commands.base import Reply
from bot.commands.context import CommandContext
from bot.commands.handlers.common import RULE_ID, alert_view
from bot.commands.registry import Arg, CommandSet
from bot.models import AlertEventKind
from bot.views import alert_list_view, rule_detail_view, rule_list_view
from bot.views.actions import ActionData, Verb
from bot.views.rule_text import condition
from bot.views.text import number

commands = CommandSet()


@commands.command(
    "rules",
    description="The alert rules: category, severity and schedule.",
    examples=("rules",),
)
async def list_rules(ctx: CommandContext) -> Reply:
    return Reply(view=rule_list_view(ctx.rules.rules))


@commands.command(
    "rule",
    description="One rule: its KQL, schedule and last result.",
    examples=("rule provisioning-job-failure-spike",),
    args=(Arg("rule_id", "id", RULE_ID),),
)
async def show_rule(ctx: CommandContext, *, rule_id: str) -> Reply:
    rule = ctx.rules.get(rule_id)
    if rule is None:  # reloaded away since the message was read
        return Reply(text=messages.rule_not_found(rule_id))
    open_alerts = await ctx.store.list_alerts(open_only=True, rule_id=rule.id)
    health = await ctx.store.get_rule_health(rule.id)
    view = rule_detail_view(
        rule, health=health, open_alerts=len(open_alerts), now=ctx.now, query=bound_query(rule)
    )
    text = messages.open_alert_ids(sorted(a.id for a in open_alerts)) if open_alerts else None
    return Reply(text=text, view=view)


@commands.command(
    "run",
    description="Evaluate a rule now and show the result here.",
    examples=("run workflow-failed",),
    args=(Arg("rule_id", "rule id", RULE_ID),),
    aliases=("evaluate",),
    admin_only=True,
)
async def run(ctx: CommandContext, *, rule_id: str) -> Reply:
    rule = ctx.rules.get(rule_id)
    if rule is None:
        return Reply(text=messages.rule_not_found(rule_id))
    if not rule.enabled:
        await ctx.store.append_audit(ctx.audit_entry("run", detail=f"{rule.id}: disabled"))
        return Reply(text=messages.rule_disabled(rule.id))
    if rule.notify_person is not None:  # it tells people, not admins: not an alert run
        return Reply(text=messages.notice_rule_not_run(rule.id))
    evaluation = await ctx.services.pipeline.evaluate(rule, now=ctx.now)
    reply, summary = await _result(ctx, rule, evaluation)
    await ctx.store.append_audit(ctx.audit_entry("run", detail=f"{rule.id}: {summary}"))
    return reply


@commands.card_action(Verb.RUN_RULE, action="run", admin_only=True)
async def run_button(ctx: CommandContext, data: ActionData) -> Reply:
    if data.rule_id is None or ctx.rules.get(data.rule_id) is None:
        return Reply(text=messages.rule_not_found(data.rule_id or ""))
    return await run(ctx, rule_id=data.rule_id)


async def _result(ctx: CommandContext, rule: Rule, evaluation: Evaluation) -> tuple[Reply, str]:
    """The answer, and a few words for the audit log."""
    if isinstance(evaluation.outcome, QueryFailure):
        health = await ctx.store.get_rule_health(rule.id)
        detail = rule_detail_view(rule, health=health, open_alerts=0, now=ctx.now)
        text = messages.run_failed(rule.id, evaluation.outcome.message)
        return Reply(text=text, view=detail), "query failed"
    result = evaluation.result
    saved = {alert.id: alert for alert in evaluation.saved}  # with their stored versions
    firing = sorted(
        (saved.get(a.id, a) for a in result.state.alerts.values() if a.rule_id == rule.id),
        key=lambda a: a.id,
    )
    new = sum(1 for e in result.events if e.kind is AlertEventKind.FIRED and e.alert)
    closed = [alert.id for alert in result.closed]
    if not firing:
        measured = _closest(result.measurements, rule)
        text = messages.run_ok(rule.id, measured, condition(rule), format_duration(rule.window))
        return Reply(text=text + messages.resolved_ids(closed)), "ok"
    text = messages.run_firing(rule.id, open_count=len(firing), new=new)
    if len(firing) == 1:
        return Reply(text=text, view=alert_view(ctx, firing[0])), f"alert {firing[0].id} open"
    view = alert_list_view(firing, {rule.id: rule}, scope="open", now=ctx.now)
    return Reply(text=text, view=view), f"{len(firing)} alerts open"


def _closest(measurements: Sequence[Measurement], rule: Rule) -> str:
    """The measured value nearest to the threshold, with its dimensions: `3 (JobId=x)`."""
    valued = [m for m in measurements if m.value is not None]
    if not valued:
        return "no rows" if rule.measure.aggregation == "count" else "no data"
    pick = min if rule.operator in ("<", "<=") else max
    nearest = pick(valued, key=lambda m: m.value or 0.0)
    where = ", ".join(f"{k}={v}" for k, v in nearest.dimensions.items())
    return number(nearest.value) + (f" ({where})" if where else "")
