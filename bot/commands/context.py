"""What a command handler is given: who asks, when, and the services it may use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.alerts.handling import Actor
from bot.alerts.pipeline import AlertPipeline
from bot.alerts.rule_model import Rule
from bot.commands.base import Caller
from bot.health.service import HealthService
from bot.models import AuditEntry
from bot.store import Store
from bot.views.model import CommandHelp
from bot.views.portal import LogAnalyticsTarget


class RuleSource(Protocol):
    """The rules in force (bot.alerts.reload.RuleBook): replaced whole on a reload."""

    @property
    def rules(self) -> tuple[Rule, ...]: ...

    def get(self, rule_id: str) -> Rule | None: ...


@dataclass(frozen=True, slots=True)
class Services:
    """Long-lived, built once by the router."""

    store: Store
    pipeline: AlertPipeline
    rules: RuleSource
    #: Adds "Open in Log Analytics" to alert cards when set.
    log_analytics: LogAnalyticsTarget | None = None
    #: The registry's help entries (the help command lists them).
    commands: tuple[CommandHelp, ...] = ()
    #: Provisioning health (`health`, `digest`); None when not set up.
    health: HealthService | None = None


@dataclass(frozen=True, slots=True)
class CommandContext:
    """One request: the caller, its `now`, and the services."""

    caller: Caller
    now: datetime
    services: Services

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def rules(self) -> RuleSource:
        return self.services.rules

    @property
    def actor(self) -> Actor:
        caller = self.caller
        return Actor(id=caller.user_id, name=caller.name, conversation_id=caller.conversation_id)

    def audit_entry(
        self, action: str, *, detail: str | None = None, alert_id: int | None = None
    ) -> AuditEntry:
        """A record of what the caller did (or tried), here and now. The actor is the
        person's Entra object id when known (a Slack user mapped by email), else the
        channel's user id."""
        principal = self.caller.principal
        return AuditEntry(
            at=self.now,
            actor=principal.entra_object_id or principal.user_id,
            actor_name=self.caller.name,
            action=action,
            conversation_id=self.caller.conversation_id,
            alert_id=alert_id,
            detail=detail,
        )
