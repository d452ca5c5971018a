"""The Router: turns a caller's message or button press into a command, checks who may run
it, runs it, and answers.

Every request goes through the same fixed chain before any handler runs, like bolt's
middleware: read the request (text -> command and typed arguments; button -> its declared
action and data), then the tenant gate (people from other tenants are refused), then the
admin gate (commands and buttons that change something are for alert admins). A refusal
changes nothing and, for those that change something, is written to the audit log.
Successful changes are audited by their handler (subscriptions, runs) or by the alert
pipeline (acknowledge, snooze, unsnooze, resolve), in the same transaction as the change.

Text that is no command goes to `fallback` (the chat-query feature plugs in there); when
there is none, or it has no answer, the person gets "I didn't understand" and the help card.
Buttons in `read_only_actions` (a question's choices) pass the tenant gate only.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pydantic import ValidationError

from bot import messages
from bot.alerts.pipeline import AlertPipeline
from bot.commands.access import AccessPolicy
from bot.commands.base import Caller, Reply
from bot.commands.context import CommandContext, RuleSource, Services
from bot.commands.handlers import REGISTRY
from bot.commands.handlers.common import alert_view
from bot.commands.parsing import ParseContext
from bot.commands.registry import Empty, Invalid, Invocation, Parsed, Registry, Unknown
from bot.errors import WorkspaceError
from bot.health.service import HealthService
from bot.models import STANDARD_CATEGORIES, Clock
from bot.store import Store, StoreError
from bot.views import help_view
from bot.views.actions import ActionData
from bot.views.portal import LogAnalyticsTarget
from bot.views.text import one_line

log = logging.getLogger(__name__)

#: Answers free text that is no command (the chat-query feature); None: not understood.
Fallback = Callable[[Caller, str], Awaitable[Reply | None]]
#: A button that only reads (a question's choice), handled outside the registry.
ReadOnlyAction = Callable[[Caller, Mapping[str, Any]], Awaitable[Reply]]
#: Unknown text is quoted back this long at most.
_ECHO_LIMIT: Final = 60


@dataclass(frozen=True, slots=True)
class _Request:
    """What the gates look at: who asks, for which action, about which alert."""

    ctx: CommandContext
    action: str
    admin_only: bool
    alert_id: int | None = None


class CommandRouter:
    """The Router (bot.commands.base) over the command registry."""

    def __init__(
        self,
        *,
        store: Store,
        pipeline: AlertPipeline,
        rules: RuleSource,
        access: AccessPolicy,
        clock: Clock,
        log_analytics: LogAnalyticsTarget | None = None,
        registry: Registry = REGISTRY,
        fallback: Fallback | None = None,
        read_only_actions: Mapping[str, ReadOnlyAction] | None = None,
        health: HealthService | None = None,
    ) -> None:
        self._registry = registry
        self._access = access
        self._clock = clock
        self._fallback = fallback
        self._read_only_actions = dict(read_only_actions or {})
        self._services = Services(
            store=store,
            pipeline=pipeline,
            rules=rules,
            log_analytics=log_analytics,
            commands=registry.help(),
            health=health,
        )

    async def handle_text(self, caller: Caller, text: str) -> Reply:
        ctx = self._context(caller)
        parsed = self._registry.parse(text, self._parse_context())
        refusal = await self._gates(_text_request(ctx, parsed))
        if refusal is not None:
            return refusal
        match parsed:
            case Invocation(command=command, values=values):
                return await self._guarded(command.handler(ctx, **values))
            case Invalid(command=command, problem=problem):
                usage = messages.bad_arguments(problem, command.usage)
                return Reply(text=usage, view=help_view([command.help()]))
            case Unknown():
                return await self._not_a_command(caller, parsed)
            case Empty():
                return Reply(view=help_view(self._services.commands))

    async def handle_card_action(self, caller: Caller, verb: str, data: Mapping[str, Any]) -> Reply:
        ctx = self._context(caller)
        reader = self._read_only_actions.get(verb)
        if reader is not None:  # anyone in an allowed tenant may read: the tenant gate only
            refusal = await self._gates(_Request(ctx, verb, admin_only=False))
            return refusal or await self._guarded(reader(caller, data))
        action = self._registry.card_action(verb)
        parsed = _action_data(verb, data, caller)
        request = _Request(
            ctx,
            action.action if action else verb,
            admin_only=action.admin_only if action else False,
            alert_id=parsed.alert_id if parsed else None,
        )
        refusal = await self._gates(request)
        if refusal is not None and not self._access.org_allowed(caller.principal):
            return refusal  # nothing of ours for other tenants, not even the card
        if refusal is not None:
            return await self._with_current_card(ctx, refusal, request.alert_id)
        if action is None:
            log.info("card action %r from %s: no such verb", verb, caller.user_id)
            return Reply(text=messages.unknown_button())
        if parsed is None:
            return Reply(text=messages.bad_button())
        return await self._guarded(action.handler(ctx, parsed))

    # --- The chain ---------------------------------------------------------------------

    async def _gates(self, request: _Request) -> Reply | None:
        """The first refusal, or None when the request may go on."""
        caller = request.ctx.caller
        if not self._access.org_allowed(caller.principal):
            await self._refused(request, f"refused: tenant {caller.org_id} is not allowed")
            return Reply(text=messages.other_tenant())
        if request.admin_only and not await self._access.is_admin(caller.principal):
            await self._refused(request, "refused: not an alert admin")
            return Reply(text=messages.refused(request.action))
        return None

    async def _refused(self, request: _Request, detail: str) -> None:
        caller = request.ctx.caller
        log.info(
            "%s by %s (%s): %s", request.action, caller.user_id, caller.conversation_id, detail
        )
        if not request.admin_only:
            return  # reading is not an action: nothing to put on the record
        entry = request.ctx.audit_entry(request.action, detail=detail, alert_id=request.alert_id)
        await self._services.store.append_audit(entry)

    # --- Answers -----------------------------------------------------------------------

    async def _guarded(self, answer: Awaitable[Reply]) -> Reply:
        """The handler's reply; the workspace or store failing becomes a short apology."""
        try:
            return await answer
        except WorkspaceError as error:
            log.warning("a command's query failed: %s", error)
            return Reply(text=messages.workspace_unavailable())
        except StoreError:
            log.exception("a command could not reach the store")
            return Reply(text=messages.internal_error())

    async def _not_a_command(self, caller: Caller, parsed: Unknown) -> Reply:
        if self._fallback is not None:
            answer = await self._fallback(caller, parsed.text)
            if answer is not None:
                return answer
        echo = one_line(parsed.text, _ECHO_LIMIT).replace("`", "'")
        text = messages.unknown_command(echo, parsed.suggestion)
        return Reply(text=text, view=help_view(self._services.commands))

    async def _with_current_card(
        self, ctx: CommandContext, refusal: Reply, alert_id: int | None
    ) -> Reply:
        """A refused button leaves its card as the alert is now."""
        if alert_id is None:
            return refusal
        alert = await self._services.store.get_alert(alert_id)
        view = alert_view(ctx, alert) if alert is not None else None
        return Reply(text=refusal.text, view=view)

    # --- Helpers -----------------------------------------------------------------------

    def _context(self, caller: Caller) -> CommandContext:
        return CommandContext(caller=caller, now=self._clock(), services=self._services)

    def _parse_context(self) -> ParseContext:
        rules = self._services.rules.rules
        categories = dict.fromkeys([*STANDARD_CATEGORIES, *(rule.category for rule in rules)])
        return ParseContext(rule_ids=tuple(rule.id for rule in rules), categories=tuple(categories))


def _text_request(ctx: CommandContext, parsed: Parsed) -> _Request:
    match parsed:
        case Invocation(command=command, values=values):
            return _Request(ctx, command.name, command.admin_only, values.get("alert_id"))
        case Invalid(command=command):
            return _Request(ctx, command.name, command.admin_only)
        case _:  # free text: a question, not an action
            return _Request(ctx, "ask", admin_only=False)


def _action_data(verb: str, data: Mapping[str, Any], caller: Caller) -> ActionData | None:
    try:
        return ActionData.model_validate(data)
    except ValidationError as error:
        log.info("card action %s from %s: unreadable data: %s", verb, caller.user_id, error)
        return None
