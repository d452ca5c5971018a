"""The help command: every command with usage, description and examples, as a card."""

from __future__ import annotations

from bot.commands.base import Reply
from bot.commands.context import CommandContext
from bot.commands.handlers.common import NOTE
from bot.commands.registry import Arg, CommandSet
from bot.views import help_view

commands = CommandSet()


@commands.command(
    "help",
    description="Show these commands with examples.",
    examples=("help",),
    # `help snooze` shows one command; any other words still show them all.
    args=(Arg("topic", "command", NOTE, optional=True, hidden=True),),
    aliases=("commands", "?"),
)
async def show_help(ctx: CommandContext, *, topic: str | None) -> Reply:
    everything = ctx.services.commands
    wanted = topic.strip().lower().rstrip("?.!") if topic else ""
    chosen = [command for command in everything if command.name == wanted]
    return Reply(view=help_view(chosen or everything))
