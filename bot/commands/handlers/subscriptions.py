"""Subscription commands: what a conversation hears about (a category, a rule, or all)."""

from __future__ import annotations

from bot import messages
from bot.commands.base import Reply
from bot.commands.context import CommandContext
from bot.commands.handlers.common import ANY_TARGET, SEVERITY, TARGET
from bot.commands.parsing import Target, squash
from bot.commands.registry import Arg, CommandSet
from bot.models import Subscription
from bot.views import subscription_list_view

commands = CommandSet()

#: Without a minimum severity, a subscription hears every severity (0 to 4).
EVERY_SEVERITY = 4


@commands.command(
    "subscribe",
    description="Post alerts of a category, a rule or all rules in this conversation.",
    examples=("subscribe all", "subscribe Provisioning 2", "subscribe workflow-failed"),
    args=(
        Arg("target", "category|rule id|all", TARGET),
        Arg("min_severity", "min severity", SEVERITY, optional=True),
    ),
    aliases=("sub", "follow"),
    admin_only=True,
)
async def subscribe(ctx: CommandContext, *, target: Target, min_severity: int | None) -> Reply:
    caller = ctx.caller
    if await ctx.store.get_conversation(caller.conversation_id) is None:
        return Reply(text=messages.conversation_unknown())
    floor = EVERY_SEVERITY if min_severity is None else min_severity
    subscription = Subscription(
        conversation_id=caller.conversation_id,
        channel=caller.channel,
        target=target.value,
        max_severity=floor,
        created_by=caller.name or caller.user_id,
        created_at=ctx.now,
    )
    detail = f"{target.value} ({messages.severity_floor(floor)})"
    async with ctx.store.transaction() as tx:
        await tx.subscribe(subscription)
        await tx.append_audit(ctx.audit_entry("subscribe", detail=detail))
    return await _answer(ctx, messages.subscribed(_shown(target), floor))


@commands.command(
    "unsubscribe",
    description="Stop posting those alerts here.",
    examples=("unsubscribe Provisioning",),
    args=(Arg("target", "category|rule id|all", ANY_TARGET),),
    aliases=("unsub", "unfollow"),
    admin_only=True,
)
async def unsubscribe(ctx: CommandContext, *, target: Target) -> Reply:
    conversation = ctx.caller.conversation_id
    existing = await ctx.store.list_subscriptions(conversation)
    stored = next((s.target for s in existing if squash(s.target) == squash(target.value)), None)
    if stored is None:
        return await _answer(ctx, messages.not_subscribed(_shown(target)))
    async with ctx.store.transaction() as tx:
        await tx.unsubscribe(conversation, stored)
        await tx.append_audit(ctx.audit_entry("unsubscribe", detail=stored))
    return await _answer(ctx, messages.unsubscribed(_shown(target)))


@commands.command(
    "subscriptions",
    description="What this conversation hears about.",
    examples=("subscriptions",),
    aliases=("subs", "subscription"),
)
async def subscriptions(ctx: CommandContext) -> Reply:
    return await _answer(ctx, None)


async def _answer(ctx: CommandContext, text: str | None) -> Reply:
    """`text`, and the conversation's subscriptions as they are now."""
    current = await ctx.store.list_subscriptions(ctx.caller.conversation_id)
    rule_ids = [rule.id for rule in ctx.rules.rules]
    view = subscription_list_view(current, rule_ids=rule_ids, now=ctx.now)
    return Reply(text=text, view=view)


def _shown(target: Target) -> str:
    return "all alerts" if target.kind == "all" else target.value
