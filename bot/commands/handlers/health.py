"""Provisioning health in chat: `health [job|app] [window]` and `digest now`.

Both run the Provisioning insights KPIs of the health catalog (config/health) through
bot.health; the answer is the digest card (every job) or one job's card with its cycles.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

from bot.commands.base import Reply
from bot.commands.context import CommandContext
from bot.commands.handlers.common import NOTE
from bot.commands.parsing import human_duration
from bot.commands.registry import Arg, CommandSet
from bot.health.schedule import USAGE, ScheduleError, parse_digest, schedule_of, subscription_of
from bot.health.service import DAY, MAX_WINDOW, NoSuchJob

commands = CommandSet()

_WINDOW_WORD: Final = re.compile(r"^\d{1,3}\s*[hdw]$", re.IGNORECASE)
_UNAVAILABLE: Final = "Provisioning health is not set up on this bot (no health catalog)."


@commands.command(
    "health",
    description="Provisioning health: every job, or one job or app with its cycles (24h, or 7d).",
    examples=("health", "health Workday", "health servicenow 7d"),
    args=(Arg("target", "job or app", NOTE, optional=True),),
)
async def health(ctx: CommandContext, *, target: str | None) -> Reply:
    service = ctx.services.health
    if service is None:
        return Reply(text=_UNAVAILABLE)
    name, window = split_window(target or "")
    if window is None:
        return Reply(text=f"A window is 1h to {MAX_WINDOW.days}d, e.g. `health Workday 7d`.")
    if not name:
        return Reply(view=await service.digest(period=window))
    found = await service.job(name, window=window)
    if isinstance(found, NoSuchJob):
        known = ", ".join(found.known) or "none"
        return Reply(text=f"No provisioning job or app `{name[:60]}` logged events. Jobs: {known}.")
    return Reply(view=found)


@commands.command(
    "digest",
    description="The provisioning digest here: now, daily or weekly at a local time, or off.",
    examples=(
        "digest now",
        "digest daily 08:00 Europe/Berlin",
        "digest weekly mon 08:00",
        "digest off",
    ),
    args=(Arg("schedule", "now|daily 08:00 [tz]|weekly mon 08:00|off", NOTE, optional=True),),
    admin_only=True,
)
async def digest(ctx: CommandContext, *, schedule: str | None) -> Reply:
    service = ctx.services.health
    if service is None:
        return Reply(text=_UNAVAILABLE)
    try:
        request = parse_digest(schedule)
    except ScheduleError as error:
        return Reply(text=str(error))
    conversation_id = ctx.caller.conversation_id
    if request.action == "now":
        return Reply(view=await service.digest())
    if request.action == "show":
        current = [
            d for d in await ctx.store.list_digests() if d.conversation_id == conversation_id
        ]
        if not current:
            return Reply(text=f"No digest is scheduled here. Try: {USAGE}")
        return Reply(
            text=f"The provisioning digest comes here {schedule_of(current[0]).describe()}."
        )
    if request.action == "off":
        removed = await ctx.store.delete_digest(conversation_id)
        await _changed(ctx)
        return Reply(text="The digest is off here." if removed else "No digest was scheduled here.")
    assert request.schedule is not None
    await ctx.store.save_digest(
        subscription_of(
            request.schedule,
            conversation_id=conversation_id,
            channel=ctx.caller.channel,
            created_by=ctx.caller.user_id,
            created_at=ctx.now,
        )
    )
    await _changed(ctx)
    return Reply(text=f"The provisioning digest will come here {request.schedule.describe()}.")


async def _changed(ctx: CommandContext) -> None:
    health = ctx.services.health
    if health is not None and health.on_schedule_change is not None:
        await health.on_schedule_change()


def split_window(text: str) -> tuple[str, timedelta | None]:
    """(`Workday`, 7 days) from `Workday 7d`; the window is 24 h when not given, None when
    given but out of range."""
    words = text.split()
    if not words or not _WINDOW_WORD.match(words[-1]):
        return text.strip(), DAY
    window = human_duration(words[-1].lower())
    name = " ".join(words[:-1])
    if window is None or not timedelta(hours=1) <= window <= MAX_WINDOW:
        return name, None
    return name, window
