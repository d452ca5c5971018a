"""The chat commands as people see them: the help card and the Teams app manifest read this.

Generated from the command registry (bot.commands.handlers.REGISTRY), where each command
is declared once with its grammar, description and examples; usage follows from the
grammar, so what help shows is what the bot parses. Teams shows at most 12 commands per
scope in the compose box.
"""

from __future__ import annotations

from typing import Final

from bot.commands.handlers import REGISTRY
from bot.views.model import CommandHelp

COMMANDS: Final[tuple[CommandHelp, ...]] = REGISTRY.help()
