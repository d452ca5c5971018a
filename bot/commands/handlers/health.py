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
from bot.health.schedule import ScheduleError, parse_digest
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
    description="The provisioning digest here now (`digest now`).",
    examples=("digest now",),
    args=(Arg("schedule", "now", NOTE, optional=True),),
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
    if request.action == "now":
        return Reply(view=await service.digest())
    return Reply(text="Scheduled digests are not available yet; `digest now` shows one here.")


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
