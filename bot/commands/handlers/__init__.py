"""The command handlers, by area, and the registry that joins them in help order."""

from __future__ import annotations

from typing import Final

from bot.commands.handlers import alerts, health, rules, subscriptions
from bot.commands.handlers import help as general
from bot.commands.registry import Registry

#: Every command and card action. Help, the Teams manifest and the router read it.
REGISTRY: Final = Registry(
    general.commands, alerts.commands, subscriptions.commands, rules.commands, health.commands
)
